"""The dbt marts, through the public entry points: `campus-synth run` (which builds them after
the load) and `campus-synth build` (dbt alone, on DuckDB and on a BigQuery API on loopback).

One small warehouse with real generated events (the session's, tests/conftest.py) is read;
level 1 is checked against counts computed here in pandas straight from the generated Parquet
(a different computation from the models' SQL).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from conftest import part_files

from pipeline import REGISTRY
from pipeline.cli import main
from pipeline.outputs._dbt import (
    PROFILE_NAME,
    PROJECT_DIR,
    SPILL_LIMIT_ENV,
    BuildReport,
    _collect,
    profile,
)
from pipeline.outputs._dbt_render import (
    DISTRIBUTION_PART,
    DISTRIBUTIONS_DIR,
    STAGING_DIR,
    render_distribution_fields,
    render_distribution_parts,
    render_staging,
)

MARTS = {
    ("mart_course_offering", "status"), ("mart_taskforce", "course_profile"),
    ("mart_general", "lms_tool"), ("mart_general", "lti_tool"),
    ("mart_general", "tool_usage_metrics"), ("mart_taskforce", "level1_aggregated"),
    ("mart_taskforce", "level2_aggregated"), ("udp_distributions", "context_store_distributions"),
}
SESSION_GAPS = (10, 20, 30)


@pytest.fixture(scope="module")
def warehouse(marts_warehouse) -> Path:
    """`campus-synth run --fte 300 --event-scale 0.2`: generation, load and the marts (not
    the evaluation that ends a run: no test here reads it); the session's shared one
    (conftest.py MARTS_ARGS), so it is only read here."""
    return marts_warehouse


def _connect(out: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)


def _run_results(out: Path) -> list[dict]:
    return json.loads((out / "dbt" / "target" / "run_results.json").read_text())["results"]


# ---- the build inside `campus-synth run` ---------------------------------------------------
def test_run_builds_every_mart_in_its_udp_schema(warehouse):
    with _connect(warehouse) as con:
        found = dict(((s, t), kind) for s, t, kind in con.execute(
            "select table_schema, table_name, table_type from information_schema.tables"
            ).fetchall())
        assert set(found) >= MARTS
        # the tool marts are views of their narrow counted tables (macros/daily_tool_use.sql)
        assert {m for m in MARTS if found[m] == "VIEW"} == {("mart_general", "lms_tool"),
                                                           ("mart_general", "lti_tool")}
        for schema, table in MARTS:
            rows = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
            assert rows > 0, f"{schema}.{table} is empty"
        comments = dict(((s, t), c) for s, t, c in con.execute(
            "select schema_name, table_name, comment from duckdb_tables() union all "
            "select schema_name, view_name, comment from duckdb_views()").fetchall())
        assert all("Grain:" in (comments[mart] or "") for mart in MARTS)  # persisted docs
        offerings = con.execute(
            "select count(*) from context_store_entity.course_offering").fetchone()[0]
        assert con.execute("select count(*) from mart_course_offering.status").fetchone()[0] \
            == offerings
    results = _run_results(warehouse)
    statuses = {r["status"] for r in results}
    assert statuses <= {"success", "pass"}, statuses
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "unit_test"} <= kinds
    assert sum(r["unique_id"].startswith("unit_test.") for r in results) >= 3


def test_marts_read_the_events(warehouse):
    with _connect(warehouse) as con:
        tools = dict(con.execute("select tool, total_events from "
                                 "mart_general.tool_usage_metrics").fetchall())
        events = dict(con.execute("select tool, count(*) from event_store.expanded "
                                  "group by tool").fetchall())
        assert tools == events
        lti = {r[0] for r in con.execute("select distinct tool_name from mart_general.lti_tool")
               .fetchall()}
        assert lti and lti <= {"Zoom", "Turnitin"}
        level1 = con.execute("select sum(num_events), sum(num_submissions), "
                             "sum(num_file_views) from mart_taskforce.level1_aggregated"
                             ).fetchone()
        assert all(v > 0 for v in level1)


# ---- `campus-synth build` ------------------------------------------------------------------
def test_build_command_runs_dbt_alone_and_generates_docs(warehouse, tmp_path, capsys):
    # on a copy: the session's warehouse stays as `run` left it
    warehouse = Path(shutil.copytree(warehouse, tmp_path / "w"))
    assert main(["build", "--out", str(warehouse), "--docs"]) == 0
    printed = capsys.readouterr().out
    assert "dbt build on duckdb:" in printed and "error" not in printed.split("dbt build")[-1]
    target = warehouse / "dbt" / "target"
    assert (target / "index.html").is_file()
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["schema"] != "mart_helper":
            assert "Grain:" in node["description"], node["name"]
            assert node["columns"], node["name"]
            assert all(c.get("description") for c in node["columns"].values()), node["name"]
            assert node["unique_id"] in catalog["nodes"], node["name"]
    with _connect(warehouse) as con:  # the file is free again after the in-process run
        assert con.execute("select count(*) from mart_taskforce.level1_aggregated").fetchone()[0]


def test_a_build_in_a_new_folder_reuses_the_kept_parse(warehouse, tmp_path, monkeypatch):
    """Every `run` builds into a new folder; dbt's parse of the project is kept between
    builds (CAMPUS_SYNTH_DBT_CACHE), so the second folder's build does not parse again."""
    monkeypatch.setenv("CAMPUS_SYNTH_DBT_CACHE", str(tmp_path / "cache"))
    view = ["--select", "stg_context_store__campus"]
    logs = []
    for name in ("first", "second"):
        copy = Path(shutil.copytree(warehouse, tmp_path / name, ignore=shutil.ignore_patterns(
            "dbt")))
        assert main(["build", "--out", str(copy), *view]) == 0
        logs.append((copy / "dbt" / "logs" / "dbt.log").read_text())
    assert "Starting full parse" in logs[0]
    assert "Starting full parse" not in logs[1] and "Partial parsing enabled" in logs[1]
    with _connect(tmp_path / "second") as con:  # the view built, in the second folder's file
        assert con.execute("select count(*) from mart_helper.stg_context_store__campus"
                           ).fetchone()[0] > 0


def test_a_run_parses_the_project_beside_its_generate(marts_warehouse):
    """`run` parses the dbt project in a process of its own while it generates
    (pipeline/outputs/_dbt_parse.py), with an empty parse cache here (conftest), and its build
    reads that parse back instead of parsing the whole project again."""
    log = (marts_warehouse / "dbt" / "logs" / "dbt.log").read_text()
    parse, parsed, build = log.partition("Command `cli parse` succeeded")
    assert parsed and "Starting full parse" in parse
    assert "Running with dbt" in build and "Starting full parse" not in build
    assert "Partial parsing enabled, no changes found, skipping parsing" in build


def test_the_event_store_is_a_view_that_follows_a_moved_folder(warehouse, tmp_path, capsys,
                                                               monkeypatch):
    """event_store.expanded is not copied into DuckDB: a view over the run's Parquet by its
    absolute path (readable from any working directory); after the folder is copied or
    moved, `campus-synth relink` points it at the Parquet beside the file."""
    moved = Path(shutil.copytree(warehouse, tmp_path / "moved"))
    monkeypatch.chdir(tmp_path)  # another working directory than the run's
    with _connect(moved) as con:
        assert not con.execute("select count(*) from duckdb_tables() where schema_name = "
                               "'event_store'").fetchone()[0]
        (before,) = con.execute("select sql from duckdb_views() where schema_name = "
                                "'event_store' and view_name = 'expanded'").fetchone()
    assert str(warehouse.resolve() / "event_store" / "expanded") in before
    assert main(["relink", "--out", str(moved)]) == 0
    assert "now reads" in capsys.readouterr().out
    parquet = f"{moved}/event_store/expanded/*/*.parquet"
    with _connect(moved) as con:
        (after, comment) = con.execute("select sql, comment from duckdb_views() where "
                                       "schema_name = 'event_store'").fetchone()
        assert str(moved.resolve() / "event_store" / "expanded") in after and comment
        assert con.execute("select count(*) from event_store.expanded").fetchone() == \
            con.execute(f"select count(*) from read_parquet('{parquet}')").fetchone()
    assert main(["relink", "--out", str(moved)]) == 0
    assert "already reads" in capsys.readouterr().out


def test_relink_names_what_is_missing(warehouse, tmp_path, capsys):
    """The DuckDB file moved without the event Parquet beside it: relink exits 2 naming the
    missing folder and leaves the view as it was (it used to say the view "already reads"
    the folder that was not there, exit 0). A DuckDB file with no event store at all has
    nothing to relink, and says so."""
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(warehouse / "warehouse.duckdb", alone)
    assert main(["relink", "--out", str(alone)]) == 2
    err = capsys.readouterr().err
    assert f"{alone.resolve() / 'event_store' / 'expanded'}: not found" in err, err
    assert "Traceback" not in err
    with _connect(alone) as con:
        (sql,) = con.execute("select sql from duckdb_views() where schema_name = "
                             "'event_store'").fetchone()
    assert str(warehouse.resolve() / "event_store" / "expanded") in sql
    bare = tmp_path / "bare"
    bare.mkdir()
    duckdb.connect(str(bare / "warehouse.duckdb")).close()
    assert main(["relink", "--out", str(bare)]) == 0
    assert "nothing to relink" in capsys.readouterr().out


def test_build_without_a_warehouse_is_a_one_line_error(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "no warehouse" in err and "Traceback" not in err
    assert main(["build", "--out", str(tmp_path), "--target", "bigquery"]) == 2
    assert "--project" in capsys.readouterr().err


def _failures(message: str) -> list[str]:
    """The failure lines a build reports for one node `model.campus_synth.m` that failed
    with dbt's `message`."""
    node = SimpleNamespace(status="error", message=message,
                           node=SimpleNamespace(unique_id="model.campus_synth.m"))
    report = BuildReport("duckdb", "build", 1.0)
    _collect(report, SimpleNamespace(result=SimpleNamespace(results=[node])))
    return report.failures


def test_a_full_spill_to_disk_is_one_line_naming_the_cap():
    """DuckDB words a spill that reached max_temp_directory_size as an out-of-memory error
    ("failed to offload data block") and names the cap on its second line; the build's
    error names the cap and what to do, on one line. The message is DuckDB's own, taken
    from a sort under memory_limit 100MB and max_temp_directory_size 10MB."""
    message = ("Out of Memory Error: failed to offload data block of size 256.0 KiB "
               "(9.4 MiB/9.5 MiB used).\nThis limit was set by the 'max_temp_directory_size' "
               "setting.\nBy default, this setting utilizes the available disk space on the "
               "drive where the 'temp_directory' is located.\nYou can adjust this setting, by "
               "using (for example) PRAGMA max_temp_directory_size='10GiB'")
    (line,) = _failures(message)
    assert "\n" not in line and line.startswith("model.campus_synth.m: ")
    assert "max_temp_directory_size" in line and SPILL_LIMIT_ENV in line
    assert "Out of Memory" not in line


def test_a_failed_model_is_named_with_the_databases_error():
    """dbt's message opens with "Runtime Error in model X (path)"; the line kept is the
    database's own (the message is the one a 200,000-FTE build got before issue 16's split)."""
    message = ("Runtime Error in model m (models/m.sql)\n  Out of Memory Error: could not "
               "allocate block of size 256.0 KiB (1.3 GiB/1.3 GiB used)\n  \n  Possible "
               "solutions:\n  * Reducing the number of threads (SET threads=X)\n")
    assert _failures(message) == ["model.campus_synth.m: Out of Memory Error: could not allocate "
                               "block of size 256.0 KiB (1.3 GiB/1.3 GiB used)"]


def test_the_spill_cap_goes_into_the_profile_when_set(monkeypatch):
    settings = profile("duckdb", Path("w.duckdb"))[PROFILE_NAME]["outputs"]["duckdb"]["settings"]
    assert "max_temp_directory_size" not in settings  # DuckDB's default: 90 % of the free disk
    monkeypatch.setenv(SPILL_LIMIT_ENV, "20GB")
    settings = profile("duckdb", Path("w.duckdb"))[PROFILE_NAME]["outputs"]["duckdb"]["settings"]
    assert settings["max_temp_directory_size"] == "20GB"


# ---- level 1 against an independent computation -------------------------------------------
def _table(out: Path, name: str, columns: list[str]) -> pd.DataFrame:
    table = next(t for t in REGISTRY if t.schema == "context_store_entity" and t.name == name)
    return pd.concat([pq.read_table(f, columns=columns).to_pandas() for f in
                      part_files(out, table)], ignore_index=True)


def _utc_days(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).dt.tz_convert("UTC").dt.normalize()


def _expected_level1(out: Path, pairs: list[tuple[int, int]]) -> pd.DataFrame:
    """Level 1 for (person, offering) pairs, computed in pandas from the Parquet files."""
    terms = _table(out, "academic_term", ["academic_term_id", "term_begin_date",
                                          "term_end_date"])
    offerings = _table(out, "course_offering", ["course_offering_id", "academic_term_id"])
    course = offerings.merge(terms, on="academic_term_id").set_index("course_offering_id")
    activities = _table(out, "learner_activity", ["learner_activity_id", "course_offering_id",
                                                  "due_date"])
    results = _table(out, "learner_activity_result", ["learner_activity_id", "person_id",
                                                      "response_date"])
    results = results.merge(activities, on="learner_activity_id")
    events = ds.dataset(str(out / "event_store" / "expanded"), format="parquet").to_table(
        columns=["id", "type", "action", "event_time", "event_date", "ucdm_course_offering_id",
                 "person", "object"]).to_pandas()
    events["person_id"] = events["person"].map(lambda p: p["udp_id"])
    events["entity"] = events["object"].map(lambda o: o["entity"])
    rows = []
    for person, offering in pairs:
        begin = _utc_days(pd.Series([course.loc[offering, "term_begin_date"]]))[0]
        end = _utc_days(pd.Series([course.loc[offering, "term_end_date"]]))[0]
        weeks = (end - begin).days // 7 + 1

        def week(days: pd.Series, begin=begin) -> pd.Series:
            return (days - begin).dt.days // 7 + 1

        mine = results[(results.person_id == person) & (results.course_offering_id == offering)]
        submitted = mine[mine.response_date.notna()]
        sub_week = week(_utc_days(submitted.response_date))
        late = submitted[pd.to_datetime(submitted.response_date, utc=True)
                         > pd.to_datetime(submitted.due_date, utc=True)]
        late_week = week(_utc_days(late.response_date))
        missing = mine[mine.response_date.isna() & mine.due_date.notna()]
        missing_week = week(_utc_days(missing.due_date))
        ev = events[(events.person_id == person) & (events.ucdm_course_offering_id == offering)]
        ev = ev.sort_values(["event_time", "id"])
        gaps = ev.event_time.diff().dt.total_seconds()
        ev_week = week(pd.to_datetime(ev.event_date).dt.tz_localize("UTC"))
        for w in range(1, weeks + 1):
            in_week = (ev_week == w).to_numpy()
            row = {"udp_person_id": person, "udp_course_offering_id": offering,
                   "week_in_term": w,
                   "num_submissions": int((sub_week == w).sum()),
                   "num_late_submissions": int((late_week == w).sum()),
                   "num_missing_submissions": int((missing_week == w).sum()),
                   "num_events": int(in_week.sum()),
                   "num_view_days": int(ev.event_date[in_week].nunique()),
                   "num_file_views": int(((ev.type == "NavigationEvent")
                                          & (ev.action == "NavigatedTo")
                                          & (ev.entity == "file")).to_numpy()[in_week].sum()),
                   "num_tool_launches": int(((ev.type == "ToolUseEvent")
                                             & (ev.action == "Used")).to_numpy()[in_week].sum())}
            for gap in SESSION_GAPS:
                starts = (gaps.isna() | (gaps > gap * 60)).to_numpy()
                row[f"num_sessions_{gap}min"] = int(starts[in_week].sum())
            rows.append(row)
    return pd.DataFrame(rows)


def test_level1_counts_agree_with_counts_from_the_parquet(warehouse):
    with _connect(warehouse) as con:
        # a few students: the busiest, a quiet one, one with late work, one with missing work
        picks = con.execute("""
            with per_pair as (
                select udp_person_id, udp_course_offering_id, sum(num_events) as e,
                       sum(num_late_submissions) as l, sum(num_missing_submissions) as m
                from mart_taskforce.level1_aggregated group by all)
            (select udp_person_id, udp_course_offering_id from per_pair order by e desc, 1, 2
             limit 2)
            union (select udp_person_id, udp_course_offering_id from per_pair where e > 0
                   order by e, 1, 2 limit 1)
            union (select udp_person_id, udp_course_offering_id from per_pair where l > 0
                   order by l desc, 1, 2 limit 1)
            union (select udp_person_id, udp_course_offering_id from per_pair where m > 0
                   order by m desc, 1, 2 limit 1)""").fetchall()
        got = con.execute(
            "select * from mart_taskforce.level1_aggregated where (udp_person_id, "
            "udp_course_offering_id) in (select unnest($1), unnest($2))",
            [[p for p, _ in picks], [o for _, o in picks]]).df()
    assert len(picks) >= 4
    want = _expected_level1(warehouse, picks)
    key = ["udp_person_id", "udp_course_offering_id", "week_in_term"]
    merged = want.merge(got, on=key, how="outer", suffixes=("_want", "_got"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"][key]
    checked = [c for c in want.columns if c not in key]
    for column in checked:
        mismatch = merged[merged[f"{column}_want"] != merged[f"{column}_got"].astype(int)]
        assert mismatch.empty, (column, mismatch[key + [f"{column}_want", f"{column}_got"]])
    assert merged["num_events_want"].sum() > 0 and merged["num_submissions_want"].sum() > 0
    assert merged["num_late_submissions_want"].sum() > 0
    assert merged["num_missing_submissions_want"].sum() > 0


# ---- the project's own rules ---------------------------------------------------------------
def test_rendered_staging_layer_is_committed_and_current():
    for name, text in render_staging().items():
        path = STAGING_DIR / name
        assert path.is_file() and path.read_text() == text, \
            f"{path} is stale: run `python -m pipeline.outputs._dbt_render`"
    assert sorted(p.name for p in STAGING_DIR.glob("stg_*.sql")) == \
        sorted(n for n in render_staging() if n.startswith("stg_"))
    macro = PROJECT_DIR / "macros" / "distribution_fields.sql"
    assert macro.read_text() == render_distribution_fields()
    parts = render_distribution_parts()
    for name, text in parts.items():
        path = DISTRIBUTIONS_DIR / name
        assert path.is_file() and path.read_text() == text, \
            f"{path} is stale: run `python -m pipeline.outputs._dbt_render`"
    assert sorted(p.name for p in DISTRIBUTIONS_DIR.glob(f"{DISTRIBUTION_PART}*.sql")) == \
        sorted(n for n in parts if n.endswith(".sql"))


# dialect-only spellings: each belongs in an adapter-dispatched macro (macros/cross_db.sql)
_DIALECT_ONLY = re.compile(r"::|`|\b(epoch|date_diff|datetime_diff|timestamp_diff|unix_\w+|"
                           r"quantile\w*|approx_quantiles|list|array_agg|safe_cast|try_cast|"
                           r"strftime|format_date|date_trunc|date_add|timezone|"
                           r"string_agg|listagg|ifnull|nvl|iif)\s*\(", re.IGNORECASE)


def test_models_hold_no_dialect_only_sql():
    models = sorted((PROJECT_DIR / "models").rglob("*.sql"))
    assert len(models) > 20
    for path in models:
        text = re.sub(r"--[^\n]*", "", path.read_text())
        found = _DIALECT_ONLY.search(text)
        assert not found, f"{path.relative_to(PROJECT_DIR)}: {found.group(0)!r}"


# ---- the same project on BigQuery ----------------------------------------------------------
def test_dbt_build_on_bigquery(bigquery_emulator, warehouse, tmp_path):  # noqa: F811
    from pipeline.outputs._bigquery import load_warehouse

    client = bigquery_emulator
    project = client.project
    endpoint = client._connection.API_BASE_URL
    loaded = load_warehouse(client, warehouse, project, list(REGISTRY), events=True)
    with _connect(warehouse) as con:
        events = con.execute("select count(*) from event_store.expanded").fetchone()[0]
        want = {(s, t): con.execute(f"select count(*) from {s}.{t}").fetchone()[0]
                for s, t in MARTS}
    assert next(t.rows for t in loaded if t.qualified_name.endswith("event_store.expanded")) \
        == events
    out = tmp_path / "bq"
    out.mkdir()
    assert main(["build", "--out", str(out), "--target", "bigquery", "--project", project,
                 "--api-endpoint", endpoint]) == 0
    assert {r["status"] for r in _run_results(out)} <= {"success", "pass"}
    for schema, table in MARTS:
        rows = client.query(f"select count(*) as n from `{project}.{schema}.{table}`").result()
        assert next(iter(rows))["n"] == want[(schema, table)], (schema, table)
