"""campus-synth evaluate on BigQuery: two small generated warehouses (300 FTE, two days of
events, seeds 0 and 1), cut to the tables of people, courses, enrollments, grades and events,
evaluated one against the other in DuckDB, then again with both loaded into a BigQuery API on
loopback (bqemulator, see tests/bqemu) and read through the real google-cloud-bigquery client.
Every figure's SQL runs in BigQuery's dialect there, and the report must hold the same
figures. (The whole warehouse takes the emulator over ten minutes; these tables reach every
family of figures.)"""

from __future__ import annotations

import io
import json
import math

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bqemu import PROJECT
from conftest import generate
from google.cloud import bigquery

from distributions import default_profile_path
from distributions._bigquery import BigQuerySource
from distributions._evaluate import Keys, evaluate
from pipeline import REGISTRY
from pipeline.cli import main

# the compared tables: every key, gate and event figure has what it needs among them
TABLES = {"context_store_entity": ("person", "academic_term", "course_offering",
                                   "course_section", "course_section_enrollment",
                                   "course_grade"),
          "event_store": ("expanded",)}


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    """Two small runs cut to TABLES (DuckDB files), the first standing in for the real
    source."""
    root = tmp_path_factory.mktemp("evaluate-bq")
    cut = []
    for seed in (0, 1):
        out = generate(root, "--fte", 300, "--seed", seed, "--event-days", 2, "--no-marts",
                       "--no-evaluate", command="run", name=f"w{seed}")
        path = root / f"cut{seed}.duckdb"
        with duckdb.connect(str(path)) as con:
            con.execute(f"ATTACH '{out / 'warehouse.duckdb'}' AS w (READ_ONLY)")
            for schema, names in TABLES.items():
                con.execute(f"CREATE SCHEMA {schema}")
                for name in names:
                    con.execute(f"CREATE TABLE {schema}.{name} AS SELECT * FROM w.{schema}.{name}")
        cut.append(path)
    return cut


@pytest.fixture(scope="module")
def datasets(bigquery_emulator, warehouses):
    """Each warehouse's tables in a dataset of its own (`eval_w0`, `eval_w1`), loaded with
    explicit schemas from the DuckDB file's rows."""
    client = bigquery_emulator
    names = []
    for out in warehouses:
        dataset = f"eval_{out.stem}"
        client.create_dataset(f"{PROJECT}.{dataset}", exists_ok=True)
        with duckdb.connect(str(out), read_only=True) as con:
            for schema, tables in TABLES.items():
                for name in tables:
                    _load(client, f"{PROJECT}.{dataset}.{name}",
                          con.sql(f"SELECT * FROM {schema}.{name}").to_arrow_table())
        names.append(dataset)
    return client, names


def _load(client, table_id: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET,
                                    schema=[_field(f) for f in table.schema])
    client.load_table_from_file(buffer, table_id, job_config=config).result(timeout=120)


_TYPES = [(pa.types.is_integer, "INT64"), (pa.types.is_floating, "FLOAT64"),
          (pa.types.is_boolean, "BOOL"), (pa.types.is_date, "DATE"),
          (pa.types.is_decimal, "NUMERIC"), (pa.types.is_string, "STRING")]


def _field(field: pa.Field) -> bigquery.SchemaField:
    kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
    mode = "NULLABLE" if field.nullable else "REQUIRED"
    if pa.types.is_list(kind):
        inner = _field(pa.field(field.name, kind.value_type))
        return bigquery.SchemaField(field.name, inner.field_type, mode="REPEATED",
                                    fields=inner.fields)
    if pa.types.is_struct(kind):
        return bigquery.SchemaField(field.name, "RECORD", mode=mode,
                                    fields=[_field(f) for f in kind])
    if pa.types.is_timestamp(kind):
        return bigquery.SchemaField(field.name, "TIMESTAMP" if kind.tz else "DATETIME", mode)
    name = next((n for test, n in _TYPES if test(kind)), None)
    assert name, f"no BigQuery type for {field.name}: {kind}"
    return bigquery.SchemaField(field.name, name, mode)


def _figures(report) -> dict[tuple, dict]:
    """Figures of a Report or a report.json document by what they measure (kind, table,
    metric, column or columns, and which of several such: two foreign keys may lead to
    the same parent)."""
    out = {}
    document = report if isinstance(report, dict) else report.to_json()
    for figure in document["figures"]:
        key = (figure["kind"], figure["table"], figure["metric"], figure.get("column"),
               tuple(figure.get("columns") or ()))
        n = sum(1 for k in out if k[:-1] == key)
        out[(*key, n)] = figure
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=2e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _differences(duck, bq) -> list[str]:
    found = [f"only in {side}: {key}" for side, keys in
             (("DuckDB", duck.keys() - bq.keys()), ("BigQuery", bq.keys() - duck.keys()))
             for key in sorted(keys, key=str)]
    for key in duck.keys() & bq.keys():
        for field in ("value", "floor", "threshold", "passed", "extra"):
            if not _same(duck[key].get(field), bq[key].get(field)):
                found.append(f"{key} {field}: {duck[key].get(field)} vs {bq[key].get(field)}")
    return found


def test_the_same_figures_in_duckdb_and_in_bigquery(datasets, warehouses):
    """Real source and warehouse both in BigQuery, and both in DuckDB: every figure of
    every family (gates, columns, pairs, cardinality, across tables, events, detection,
    privacy) is equal, to float rounding."""
    client, (real, synthetic) = datasets
    keys = Keys.from_tables(REGISTRY)
    in_duckdb = evaluate(str(warehouses[1]), real=str(warehouses[0]), keys=keys)
    in_bigquery = evaluate(BigQuerySource(PROJECT, synthetic, client=client),
                           real=BigQuerySource(PROJECT, real, client=client), keys=keys)
    duck, bq = _figures(in_duckdb), _figures(in_bigquery)
    assert {k[0] for k in duck} >= {"gate", "column", "pair", "cardinality", "cross_table",
                                    "event", "detection", "privacy"}
    assert len(duck) > 100
    assert _differences(duck, bq) == []
    assert in_duckdb.notes == in_bigquery.notes
    # the event store's JSON documents (records written as text) are compared by no figure;
    # its other columns are
    compared = {c for k in duck if k[1] == "expanded" for c in (k[3], *k[4]) if c}
    assert {"tool", "action"} <= compared
    assert not {c for c in compared if c.endswith("_json")}


def test_against_the_profile_in_bigquery(datasets, warehouses, tmp_path):
    """Profile mode (what `run` ends with) reads a BigQuery warehouse as it reads DuckDB,
    from the command line: `--api-endpoint` points it at the emulator (anonymously)."""
    client, (_, synthetic) = datasets
    keys = Keys.from_tables(REGISTRY)
    profile = str(default_profile_path())
    in_duckdb = evaluate(str(warehouses[1]), profile=profile, keys=keys)
    endpoint = client._connection.API_BASE_URL  # the emulator's http://127.0.0.1:port
    code = main(["evaluate", "--profile", profile, "--synthetic",
                 f"bigquery://{PROJECT}.{synthetic}", "--api-endpoint", endpoint,
                 "--out", str(tmp_path / "report")])
    assert code == 0
    in_bigquery = json.loads((tmp_path / "report" / "report.json").read_text())
    duck, bq = _figures(in_duckdb), _figures(in_bigquery)
    assert {k[0] for k in duck} >= {"gate", "column", "cardinality", "event"}
    assert _differences(duck, bq) == []
    assert all(f["passed"] for f in bq.values() if f["kind"] == "gate")
