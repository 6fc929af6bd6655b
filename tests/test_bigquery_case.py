"""A BigQuery source folds column names to lower case the way a file or DuckDB source does:
`Person_ID` is read as `person_id` (a note says so) and gives the profile the lower-case
spelling gives. Through the command line (`profile --source bigquery://… --api-endpoint`),
against the real client and bqemulator (tests/bqemu)."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bqemu import PROJECT
from google.cloud import bigquery
from test_bigquery_source import _differences
from test_profile_inputs import small_tables
from test_source_case import _spelled, assert_folded_notes

from pipeline.cli import main


def _load(client, dataset: str, tables: dict[str, dict]) -> None:
    client.create_dataset(f"{PROJECT}.{dataset}", exists_ok=True)
    for name, columns in tables.items():
        table = pa.table(columns)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        schema = [bigquery.SchemaField(f.name, _type(f.type)) for f in table.schema]
        config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET,
                                        schema=schema)
        client.load_table_from_file(buffer, f"{PROJECT}.{dataset}.{name}",
                                    job_config=config).result(timeout=60)


def _type(arrow_type: pa.DataType) -> str:
    for test, name in ((pa.types.is_integer, "INT64"), (pa.types.is_floating, "FLOAT64"),
                       (pa.types.is_boolean, "BOOL")):
        if test(arrow_type):
            return name
    return "STRING"


@pytest.fixture(scope="module")
def datasets(bigquery_emulator):
    """Datasets `case_lower` and `case_upper`: one small institution, spelled two ways."""
    _load(bigquery_emulator, "case_lower", small_tables())
    _load(bigquery_emulator, "case_upper", _spelled(small_tables()))
    return bigquery_emulator._connection.API_BASE_URL  # the emulator's http://127.0.0.1:port


def test_upper_case_bigquery_columns_give_the_lower_case_profile(datasets, tmp_path):
    for name in ("lower", "upper"):
        assert main(["profile", "--source", f"bigquery://{PROJECT}.case_{name}", "--out",
                     str(tmp_path / f"{name}.json"), "--api-endpoint", datasets]) == 0
    lower, upper = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("lower",
                                                                                "upper"))
    for profile in (lower, upper):
        profile.pop("name")
        profile.pop("description", None)
    # the emulator hands rows over in no fixed order, so float sums may differ in their last
    # bits and its APPROX_QUANTILES by a step: compared as the BigQuery-vs-DuckDB test does
    assert not _differences(upper, lower), _differences(upper, lower)
    assert_folded_notes(tmp_path)
