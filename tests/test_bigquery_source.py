"""The BigQuery profiling source, read through the real google-cloud-bigquery client against a
BigQuery API on loopback (bqemulator, see tests/bqemu).

A small generated warehouse (300 FTE) is loaded into dataset `udp` of project `test-project`
from its Parquet files, with explicit schemas, and read back through `BigQuerySource`; what
comes back is compared with DuckDB over the very same Parquet files.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import generate, parquet_connection, part_files
from google.cloud import bigquery

from distributions import DistributionsError, validate_profile
from distributions import _sources as sources
from distributions._bigquery import NO_CREDENTIALS, BigQuerySource, parse_uri
from distributions._profiler import profile_source
from distributions._sources import open_source
from pipeline import REGISTRY
from pipeline.errors import SourceError

PROJECT = "test-project"
DATASET = "udp"

# the UDP-shaped tables loaded into the emulator: table -> [(column, BigQuery type, mode)]
LOADED = {
    "person": [("person_id", "INT64", "REQUIRED"), ("sex", "STRING", "NULLABLE")],
    "course_section_enrollment": [
        ("course_section_id", "INT64", "REQUIRED"),
        ("person_id", "INT64", "REQUIRED"),
        ("role", "STRING", "REQUIRED"),
        ("role_status", "STRING", "NULLABLE"),
        ("enrollment_status", "STRING", "NULLABLE"),
    ],
    "course_section": [
        ("course_section_id", "INT64", "REQUIRED"),
        ("status", "STRING", "NULLABLE"),
        ("max_enrollment", "INT64", "NULLABLE"),
    ],
}


def _entity(name: str):
    return next(t for t in REGISTRY if t.schema == "context_store_entity" and t.name == name)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """`campus-synth generate --fte 300` (Parquet only)."""
    return generate(tmp_path_factory.mktemp("bq"), "--fte", 300, "--seed", 0, "--event-days", 3)


@pytest.fixture(scope="module")
def udp_dataset(bigquery_emulator, warehouse):
    """Dataset `udp` holding LOADED, each loaded from the warehouse's Parquet (explicit schema:
    the emulator cannot load Parquet into a new table without one)."""
    client = bigquery_emulator
    client.create_dataset(f"{PROJECT}.{DATASET}", exists_ok=True)
    for name, columns in LOADED.items():
        files = part_files(warehouse, _entity(name))
        assert files, f"the generated warehouse has no {name}"
        table = pa.concat_tables(pq.read_table(f, columns=[c for c, _, _ in columns])
                                 for f in files)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            schema=[bigquery.SchemaField(c, t, mode=m) for c, t, m in columns])
        job = client.load_table_from_file(buffer, f"{PROJECT}.{DATASET}.{name}",
                                          job_config=config)
        job.result(timeout=60)
        assert job.output_rows == table.num_rows, name
    return client


@pytest.fixture(scope="module")
def source(udp_dataset):
    return BigQuerySource(PROJECT, DATASET, client=udp_dataset)


def test_label_and_relation(source):
    assert source.dialect == "bigquery"
    assert source.label == "bigquery://test-project.udp"
    assert source.relation("person") == "`test-project.udp.person`"
    with pytest.raises(SourceError):
        source.relation("person`; DROP TABLE x")


def test_tables_lists_the_loaded_tables_with_their_columns(source):
    found = source.tables()
    assert set(found) == set(LOADED)
    for name, columns in LOADED.items():
        assert list(found[name]) == [c for c, _, _ in columns], name
        assert found[name] == {c: t for c, t, _ in columns}, name


def test_aggregate_matches_duckdb_over_the_same_parquet(source, warehouse):
    sql = ("SELECT role, role_status, COUNT(*) AS n FROM {relation} "
           "GROUP BY role, role_status ORDER BY role, role_status")
    got = source.query(sql.format(relation=source.relation("course_section_enrollment")))
    assert isinstance(got, pa.Table)
    with parquet_connection(warehouse) as duck:
        want = duck.execute(sql.format(
            relation="context_store_entity.course_section_enrollment")).fetchall()
    rows = [(r["role"], r["role_status"], r["n"]) for r in got.to_pylist()]
    assert rows == want
    assert sum(n for *_, n in rows) > 1000                       # a real table, not a stub


def test_join_and_continuous_summary_run_in_the_source(source, warehouse):
    sql = ("SELECT s.status, COUNT(*) AS n, AVG(s.max_enrollment) AS mean_max, "
           "MIN(s.max_enrollment) AS lo, MAX(s.max_enrollment) AS hi "
           "FROM {sections} AS s JOIN {enrollments} AS e USING (course_section_id) "
           "GROUP BY s.status ORDER BY s.status")
    got = source.query(sql.format(sections=source.relation("course_section"),
                                  enrollments=source.relation("course_section_enrollment")))
    with parquet_connection(warehouse) as duck:
        want = duck.execute(sql.format(
            sections="context_store_entity.course_section",
            enrollments="context_store_entity.course_section_enrollment")).fetchall()
    rows = got.to_pylist()
    assert [(r["status"], r["n"], r["lo"], r["hi"]) for r in rows] == \
        [(s, n, lo, hi) for s, n, _, lo, hi in want]
    for row, (*_, mean, _lo, _hi) in zip(rows, want, strict=True):
        assert row["mean_max"] == pytest.approx(mean, rel=1e-9)


def test_an_enrollment_table_without_role_reads_as_students(udp_dataset, warehouse):
    """A dataset whose enrollments have no `role` (a source of students alone) reads each
    enrollment as a Student's, with a note, as a DuckDB source does: it was refused (part
    of the primary key)."""
    columns = [c for c in LOADED["course_section_enrollment"] if c[0] != "role"]
    udp_dataset.create_dataset(f"{PROJECT}.roleless", exists_ok=True)
    table = pa.concat_tables(pq.read_table(f, columns=[c for c, _, _ in columns]) for f in
                             part_files(warehouse, _entity("course_section_enrollment")))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    udp_dataset.load_table_from_file(buffer, f"{PROJECT}.roleless.course_section_enrollment",
                                     job_config=bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        schema=[bigquery.SchemaField(c, t, mode=m) for c, t, m in columns])).result(timeout=60)
    roleless = BigQuerySource(PROJECT, "roleless", client=udp_dataset)
    assert roleless.tables()["course_section_enrollment"]["role"] == "STRING"
    assert any("has no column role" in note for note in roleless.notes)
    got = roleless.query("SELECT role, COUNT(*) AS n FROM " + roleless.relation(
        "course_section_enrollment") + " GROUP BY role").to_pylist()
    assert got == [{"role": "Student", "n": table.num_rows}]


def test_missing_dataset_is_one_line_source_error(udp_dataset):
    missing = BigQuerySource(PROJECT, "no_such_dataset", client=udp_dataset)
    for read in (missing.tables, lambda: missing.query("SELECT 1 AS x")):
        with pytest.raises(SourceError) as caught:
            read()
        message = str(caught.value)
        assert isinstance(caught.value, DistributionsError)
        assert message.startswith("bigquery://test-project.no_such_dataset: "
                                  "cannot read the dataset: ")
        assert "\n" not in message and "Traceback" not in message
        assert "no_such_dataset" in message.split("cannot read the dataset: ", 1)[1]
        assert "http://" not in message


def test_bad_sql_is_one_line_source_error(source):
    with pytest.raises(SourceError) as caught:
        source.query(f"SELECT no_such_column FROM {source.relation('person')}")
    message = str(caught.value)
    assert message.startswith("bigquery://test-project.udp: query failed: ")
    assert "\n" not in message


# ---- the whole profiler through BigQuery -----------------------------------------------------
_BIGQUERY_TYPES = [(pa.types.is_integer, "INT64"), (pa.types.is_floating, "FLOAT64"),
                   (pa.types.is_boolean, "BOOL"), (pa.types.is_date, "DATE"),
                   (pa.types.is_string, "STRING")]


def _bigquery_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_dictionary(arrow_type):  # categorical text is written dictionary-encoded
        arrow_type = arrow_type.value_type
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP" if arrow_type.tz else "DATETIME"
    for test, name in _BIGQUERY_TYPES:
        if test(arrow_type):
            return name
    raise AssertionError(f"no BigQuery type for {arrow_type}")


@pytest.fixture(scope="module")
def full_dataset(bigquery_emulator, warehouse):
    """Dataset `udp_full`: every context_store_entity table of the warehouse, schemas mapped
    from the Parquet files' Arrow types."""
    client = bigquery_emulator
    client.create_dataset(f"{PROJECT}.udp_full", exists_ok=True)
    for folder in sorted((warehouse / "context_store_entity").iterdir()):
        table = pa.concat_tables(pq.read_table(f) for f in sorted(folder.glob("part-*.parquet")))
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            schema=[bigquery.SchemaField(f.name, _bigquery_type(f.type),
                                         mode="NULLABLE" if f.nullable else "REQUIRED")
                    for f in table.schema])
        client.load_table_from_file(buffer, f"{PROJECT}.udp_full.{folder.name}",
                                    job_config=config).result(timeout=60)
    return client


def _differences(bq, duck, path=""):
    """Where two profiles differ, except medians and quantiles: BigQuery's are
    APPROX_QUANTILES, DuckDB's exact (checked apart, against the summary's range)."""
    if isinstance(bq, dict) and isinstance(duck, dict):
        if set(bq) != set(duck):
            return [f"{path}: keys {sorted(set(bq) ^ set(duck))}"]
        found = []
        for key in bq:
            if key in ("median", "quantiles") and "max" in bq and "min" in bq:
                spread = max(float(bq["max"]) - float(bq["min"]), 1.0)
                pairs = ([(bq[key], duck[key])] if key == "median"
                         else [(bq[key][q], duck[key][q]) for q in bq[key]])
                found += [f"{path}/{key}: {a} vs {b}" for a, b in pairs
                          if abs(a - b) > 0.05 * spread]
            else:
                found += _differences(bq[key], duck[key], f"{path}/{key}")
        return found
    if isinstance(bq, list) and isinstance(duck, list) and len(bq) == len(duck):
        return [d for i, (a, b) in enumerate(zip(bq, duck, strict=True))
                for d in _differences(a, b, f"{path}/{i}")]
    if isinstance(bq, float) or isinstance(duck, float):
        return [] if bq == pytest.approx(duck, rel=1e-6, abs=1e-9) else [f"{path}: {bq} vs {duck}"]
    return [] if bq == duck else [f"{path}: {bq!r} vs {duck!r}"]


def test_profile_through_bigquery_equals_profile_through_duckdb(full_dataset, warehouse):
    """The whole profiling stage over the emulator gives the profile that DuckDB gives over
    the same Parquet files (every estimator's SQL runs in BigQuery's dialect)."""
    through_bigquery = profile_source(BigQuerySource(PROJECT, "udp_full", client=full_dataset))
    through_duckdb = profile_source(str(warehouse / "context_store_entity"))
    validate_profile(through_bigquery.profile, "profile through BigQuery")
    bq, duck = (dict(r.profile) for r in (through_bigquery, through_duckdb))
    assert bq.pop("name") == "profiled from bigquery://test-project.udp_full"
    duck.pop("name")
    assert _differences(bq, duck) == []
    actions = [sorted(map(repr, r.manifest["actions"]))
               for r in (through_bigquery, through_duckdb)]
    assert actions[0] == actions[1]

# ---- without the emulator -------------------------------------------------------------------
def test_missing_credentials_message(monkeypatch, tmp_path):
    # point Application Default Credentials at nothing (and never at the metadata server)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    with pytest.raises(SourceError) as caught:
        BigQuerySource("some-project", "udp")
    assert str(caught.value) == NO_CREDENTIALS
    with pytest.raises(SourceError) as caught:               # the profiler's way in
        open_source("bigquery://some-project.udp")
    assert str(caught.value) == NO_CREDENTIALS


def test_one_error_class_for_every_source():
    assert SourceError is sources.SourceError
    assert issubclass(SourceError, DistributionsError)


@pytest.mark.parametrize("uri, expected", [
    ("bigquery://p.d", ("p", "d")),
    ("bigquery://my-project.udp_warehouse", ("my-project", "udp_warehouse")),
    ("bigquery://example.com:proj.udp", ("example.com:proj", "udp")),
])
def test_parse_uri(uri, expected):
    assert parse_uri(uri) == expected


@pytest.mark.parametrize("uri", ["bigquery://p", "bigquery://.d", "bq://p.d", "bigquery://p.d-x"])
def test_parse_uri_rejects(uri):
    with pytest.raises(SourceError):
        parse_uri(uri)


class _Refusing:
    """A client whose every call fails the way BigQuery does without access."""

    def __init__(self, error: Exception):
        self.error = error

    def get_dataset(self, *args, **kwargs):
        raise self.error

    def query(self, *args, **kwargs):
        raise self.error


def test_no_access_and_refused_credentials_are_one_line():
    from google.api_core.exceptions import Forbidden
    from google.auth.exceptions import RefreshError

    denied = Forbidden("GET https://bigquery.example/x: Access Denied: Dataset p:d: Permission "
                       "bigquery.datasets.get denied on dataset p:d")
    with pytest.raises(SourceError) as caught:
        BigQuerySource("p", "d", client=_Refusing(denied)).tables()
    assert str(caught.value) == ("bigquery://p.d: cannot read the dataset: Access Denied: "
                                 "Dataset p:d: Permission bigquery.datasets.get denied on "
                                 "dataset p:d")
    with pytest.raises(SourceError) as caught:
        BigQuerySource("p", "d", client=_Refusing(RefreshError("invalid_grant: Bad Request"))
                       ).query("SELECT 1")
    assert str(caught.value) == ("bigquery://p.d: Google credentials could not be used: "
                                 "invalid_grant: Bad Request")


def test_unreachable_endpoint_gives_up_quickly():
    from bqemu import free_port
    from google.auth.credentials import AnonymousCredentials

    client = bigquery.Client(project="p", credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": f"http://127.0.0.1:{free_port()}"})
    source = BigQuerySource("p", "d", client=client)
    source.reach_timeout = 1.0
    with pytest.raises(SourceError, match=r"^bigquery://p\.d: cannot reach BigQuery: "):
        source.tables()
