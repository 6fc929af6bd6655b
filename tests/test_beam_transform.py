"""GenerateWarehouse as a Beam transform under TestPipeline (FnApiRunner, 300 FTE)."""

from __future__ import annotations

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from conftest import part_files

from distributions import load_profile
from pipeline import REGISTRY
from pipeline.cli._job import planned_rows
from pipeline.generate import GenerateWarehouse, JobConfig, Settings

EVENTS = "event_store.expanded"

FTE = 300
SETTINGS = Settings(fte=FTE, seed=1)


@pytest.fixture(scope="module")
def plan():
    return planned_rows(load_profile(), SETTINGS)


@pytest.fixture(scope="module")
def written(tmp_path_factory, plan):
    """Run the transform once; assert_that checks the per-table sums inside the pipeline."""
    root = tmp_path_factory.mktemp("beam")
    config = JobConfig(profile=load_profile(), settings=SETTINGS)
    by_key = {t.key: n for t in REGISTRY if (n := plan[t.qualified_name]) > 0}
    with BeamTestPipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as p:
        counts = (p | "Warehouse" >> GenerateWarehouse(config, str(root))
                  | "Sum" >> beam.CombinePerKey(sum))
        tables = counts | "Tables" >> beam.Filter(lambda kv: kv[0] != EVENTS)
        assert_that(tables, equal_to(sorted(by_key.items())), label="TablesAsPlanned")
        events = (counts | "Events" >> beam.Filter(lambda kv: kv[0] == EVENTS)
                  | "Some" >> beam.Map(lambda kv: kv[1] > 10_000))
        assert_that(events, equal_to([True]), label="EventsWritten")
    return root


def test_counts_equal_plan(written, plan):
    """Beyond assert_that: the Parquet files hold the planned rows of every table."""
    for table in REGISTRY:
        files = part_files(written, table)
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        assert rows == plan[table.qualified_name], table.qualified_name


@pytest.mark.parametrize("table", list(REGISTRY), ids=lambda t: t.qualified_name)
def test_parquet_has_registry_columns(written, plan, table):
    files = part_files(written, table)
    if plan[table.qualified_name] == 0:
        pytest.skip("planned empty")
    assert files, f"no Parquet files for {table.qualified_name}"
    for f in files:
        schema = pq.read_schema(f)
        assert schema.names == [c.name for c in table.columns], f.name
    names = [f.name for f in files]
    assert names == [f"part-{i:05d}.parquet" for i in range(len(names))]


def test_only_registry_tables_written(written):
    found = {(p.parent.name, p.name) for p in written.glob("*/*") if p.is_dir()}
    assert found == {(t.schema, t.name) for t in REGISTRY} | {("event_store", "expanded")}


def test_required_columns_have_no_nulls(written):
    for table in REGISTRY:
        required = [c.name for c in table.columns if not c.nullable]
        for f in part_files(written, table):
            data = pq.read_table(f, columns=required)
            for name in required:
                assert data.column(name).null_count == 0, f"{table.qualified_name}.{name}"
