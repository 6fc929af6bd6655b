"""udp_distributions.context_store_distributions, built in SQL by dbt from a generated
warehouse, against the profile the warehouse came from.

The mart is read back through the importer of Unizin's layout
(`distributions._udp_distributions.profile_from_udp_distributions`), which also reads
`campus-synth export-distributions` output, and compared with the default profile the way the
profiling round trip compares (tests/test_profile_roundtrip.py): categorical total variation
< 0.02, conditional cells of at least 200 rows < 0.03, continuous means within 5%. 5,000 FTE
is enough for that here (the round trip's 20,000 also estimates per-parent counts and
sizing, which this layout does not hold); events are kept to a minimum, they play no part.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import generate
from test_profile_roundtrip import _mean, _tvd

from distributions import load_profile
from distributions._udp_distributions import (
    SCHEMA,
    export_udp_distributions,
    profile_from_udp_distributions,
)
from pipeline.cli import main
from pipeline.outputs._dbt import PROJECT_DIR, profile
from pipeline.outputs._dbt_render import DISTRIBUTION_PART, DISTRIBUTIONS_DIR

FTE = 5_000
# far below what the mart took when it buffered each field's values (ordered aggregates and
# quantile_cont: out of memory at 150 MB with these 1.2 M activity results, at 1.3 GiB at
# 100,000 FTE). What it takes now grows with the rows only as DuckDB's out-of-core sort of
# the largest part's medians does: learner_activity_result's part needs 30-60 MB at 20,000
# FTE, 150-250 MB at 200,000 (4.9 M and 49 M results; the one union-all query of every field
# that it replaced failed at 1,000 MB there)
MEMORY_LIMIT = "80MB"
MIN_CELL_ROWS = 200
# a field whose shares are not row shares by construction (an xfail, nothing looser)
NOT_ROW_SHARES = {
    ("academic_career", "code"):
        "one row per career code (enumerate layout): the profile's shares weight the careers "
        "elsewhere, the table holds each code once",
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """`campus-synth run --fte 5000 --no-marts`, with one day of sparse events and without
    the evaluation that ends a run (no test here reads it), then `campus-synth build` of the
    one mart read here and what it reads (its parts in mart_helper and their staging), with
    their tests. dbt's default (eager) selection also runs the relationship tests that join
    to models left unbuilt, and fails on them; cautious selection runs the tests whose every
    parent is built (174 nodes, 7 s; `run` with every mart took 28 s, 4 s without)."""
    out = generate(tmp_path_factory.mktemp("dist"), "--fte", FTE, "--seed", 0,
                   "--event-scale", 0.02, "--event-days", 1, "--no-marts", "--no-evaluate",
                   command="run")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_INDIRECT_SELECTION", "cautious")
        assert main(["build", "--out", str(out),
                     "--select", "+udp_distributions__context_store_distributions"]) == 0
    return out


@pytest.fixture(scope="module")
def mart(warehouse) -> pa.Table:
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        return con.sql("select * from udp_distributions.context_store_distributions"
                       ).to_arrow_table()


@pytest.fixture(scope="module")
def from_mart(mart) -> dict:
    profile, _notes = profile_from_udp_distributions(mart, "context_store_distributions")
    return profile


def test_layout_is_the_exports(mart):
    """Same columns and types as `campus-synth export-distributions`, and the same fields,
    dependencies and kinds (the export's cells are the profile's; the mart's are all)."""
    assert mart.schema.names == SCHEMA.names
    for name in SCHEMA.names:
        assert mart.schema.field(name).type == SCHEMA.field(name).type, name
    export = export_udp_distributions(load_profile())

    def shape(table: pa.Table) -> set:
        return {(r["entity"], r["field_name"], r["distribution_type"],
                 r["number_of_dependencies"], r["dependency_field_names"])
                for r in table.to_pylist()}

    assert shape(mart) == shape(export)
    proportions: dict = {}
    for row in mart.to_pylist():
        if row["distribution_type"] == "categorical":
            key = (row["entity"], row["field_name"], row["dependency_field_values"])
            proportions[key] = proportions.get(key, 0.0) + row["proportion"]
    assert all(abs(total - 1) < 1e-9 for total in proportions.values())


def _columns(kind: str):
    for table, spec in load_profile()["tables"].items():
        for name, dist in spec["columns"].items():
            if dist["kind"] == kind:
                reason = NOT_ROW_SHARES.get((table, name))
                marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
                yield pytest.param(table, name, id=f"{table}.{name}", marks=marks)


@pytest.mark.parametrize(("table", "name"), list(_columns("categorical")))
def test_categorical_shares_match_the_profile(from_mart, table, name):
    got = from_mart["tables"][table]["columns"][name]
    want = load_profile()["tables"][table]["columns"][name]
    assert _tvd(got, want) < 0.02


@pytest.mark.parametrize(("table", "name"), list(_columns("continuous")))
def test_continuous_means_match_the_profile(from_mart, table, name):
    got = from_mart["tables"][table]["columns"][name]
    want = load_profile()["tables"][table]["columns"][name]
    assert got["mean"] == pytest.approx(_mean(want), rel=0.05)


def test_conditional_cells_match_the_profile(from_mart, mart, warehouse):
    checked = 0
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        for table, spec in load_profile()["tables"].items():
            for name, want in spec["columns"].items():
                if want["kind"] != "conditional" or any("." in g for g in want["given"]):
                    continue  # catalog cells (programs per career) are a handful of rows
                got = from_mart["tables"][table]["columns"][name]
                cols = ", ".join(want["given"])
                sizes = {tuple(r[:-1]): r[-1] for r in con.execute(
                    f"select {cols}, count(*) from context_store_entity.{table} group by all"
                ).fetchall()}
                cells = {tuple(c["when"][g] for g in got["given"]): c["distribution"]
                         for c in got["cells"]}
                for cell in want["cells"]:
                    key = tuple(cell["when"][g] for g in want["given"])
                    if sizes.get(key, 0) < MIN_CELL_ROWS:
                        continue
                    checked += 1
                    theirs = cell["distribution"]
                    if theirs["kind"] == "categorical":
                        assert _tvd(cells[key], theirs) < 0.03, (table, name, key)
                    else:
                        assert cells[key]["mean"] == pytest.approx(_mean(theirs), rel=0.05), \
                            (table, name, key)
    assert checked >= 8


def test_the_mart_is_the_union_of_one_part_per_table(warehouse, mart):
    """Each context-store table's fields are aggregated by a query of their own (a part table
    in mart_helper, int_distributions__<table>); no part holds another table's rows, and the
    mart is their union, row for row."""
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        parts = sorted(name for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'mart_helper' "
            "and starts_with(table_name, ?)", [DISTRIBUTION_PART]).fetchall())
        tables = {name.removeprefix(DISTRIBUTION_PART) for name in parts}
        assert tables == set(mart.column("entity").to_pylist())
        for name in parts:
            held = con.execute(f"select distinct entity from mart_helper.{name}").fetchall()
            assert held == [(name.removeprefix(DISTRIBUTION_PART),)], name
        union = " union all ".join(f"select * from mart_helper.{name}" for name in parts)
        query = "select count(*), sum(hash(d)) from ({}) as d"
        assert con.execute(query.format(union)).fetchall() == con.execute(query.format(
            "select * from udp_distributions.context_store_distributions")).fetchall()


def test_the_mart_builds_in_a_small_memory_limit(warehouse, tmp_path):
    """The mart and its parts, rebuilt by dbt on a copy of the warehouse under MEMORY_LIMIT
    (DuckDB spills its sorts to disk; an aggregate that buffers every value cannot), give the
    same table as the run's build."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse / "warehouse.duckdb", copy)
    document = profile("duckdb", copy)
    document["campus_synth"]["outputs"]["duckdb"]["settings"]["memory_limit"] = MEMORY_LIMIT
    (tmp_path / "profiles.yml").write_text(json.dumps(document), encoding="utf-8")
    dbt = Path(sys.executable).parent / "dbt"  # its own process: its own DuckDB settings
    done = subprocess.run(
        [str(dbt), "run", "--select", f"path:{DISTRIBUTIONS_DIR.relative_to(PROJECT_DIR)}",
         "udp_distributions__context_store_distributions",
         "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(tmp_path),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    rebuilt_nodes = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert sum(r["unique_id"].split(".")[-1].startswith(DISTRIBUTION_PART)
               for r in rebuilt_nodes) >= 10
    query = ("select count(*), sum(hash(d)) from "
             "udp_distributions.context_store_distributions as d")
    with duckdb.connect(str(copy), read_only=True) as rebuilt, \
            duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as built:
        assert rebuilt.execute(query).fetchall() == built.execute(query).fetchall()
