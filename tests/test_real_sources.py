"""Profile then run on hand-built sources (tests/handbuilt.py), each unlike the default in one
way; the generated institution keeps the source's structure.

For every source: `campus-synth profile` and `campus-synth run` at the profile's own FTE (the
source's size) succeed, and through SQL on both DuckDB files the rows per table are within
10 % and the children-per-parent distributions within KS 0.05 — where the source has enough
parents for a KS to mean anything (below MIN_PARENTS a single parent moves the CDF by more
than the tolerance; those FKs are compared by their mean instead)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from handbuilt import SHAPES, SPARSE_TABLES, build
from dependency_metrics import PLANTED, planted
from structure_metrics import CHILDREN, histogram, ks, numbers, row_counts, shares, tvd

from pipeline.cli import main

MIN_PARENTS = 60
KS_MAX = 0.05
ASSOCIATION_MAX = 0.05  # |generated − source| Spearman or Cramér's V of a planted pair
TVD_MAX = 0.03
# columns generation once took from the built-in catalog (and the course columns keyed by a
# course's position in its term): each is learned from the source now
CATALOG = {"course_offering": ("subject", "number", "title", "cip_family", "course_level",
                               "available_credits"),
           "course_section": ("section_number",), "campus": ("name", "code"),
           "learner_activity_group": ("name",)}
ROWS_TOLERANCE = 0.10
MARTS = "one_row"  # the one run that builds the marts too (dbt costs ~40 s)
# FKs whose children come from a draw per offering, not per parent: with a source of a few
# dozen offerings their per-parent KS measures which offerings got which counts
PER_OFFERING = {"results per enrollment", "students per section", "students per offering"}


@pytest.fixture(scope="module", params=sorted(SHAPES))
def pair(request, tmp_path_factory) -> tuple[str, Path, Path, dict]:
    """(name, source, generated warehouse, profile) — profiled and run once per source."""
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    source = build(name, folder / "source", parquet=name == "one_row")
    profile_path = folder / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(profile_path)]) == 0
    profile = json.loads(profile_path.read_text())
    # the events source: its two weeks of events, so activity ↔ score compares like with like
    flags = ["--event-days", "14" if name == "events" else "1", "--no-evaluate"]
    flags += [] if name == MARTS else ["--no-marts"]
    flags += [] if name in (MARTS, "events") else ["--event-scale", "0"]  # no events: works
    out = folder / "run"
    assert main(["run", "--profile", str(profile_path), "--out", str(out), *flags]) == 0
    return name, source, out / "warehouse.duckdb", profile


def _source_connection(source: Path) -> duckdb.DuckDBPyConnection:
    if source.is_file():
        return duckdb.connect(str(source), read_only=True)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA context_store_entity")
    for file in sorted(source.glob("*.parquet")):
        con.execute(f"CREATE VIEW context_store_entity.{file.stem} AS "
                    f"SELECT * FROM read_parquet('{file}')")
    return con


def test_rows_per_table_within_10_percent(pair):
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want, got = row_counts(src), row_counts(gen)
    off = {t: (n, got.get(t, 0)) for t, n in want.items()
           if t != "expanded" and abs(got.get(t, 0) / n - 1) > ROWS_TOLERANCE}
    assert not off, f"{name}: rows (source, generated) off by more than 10 %: {off}"


def test_children_per_parent_match(pair):
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        for fk in CHILDREN:
            want, got = histogram(src, fk), histogram(gen, fk)
            parents = sum(want.values())
            if fk in PER_OFFERING or parents < MIN_PARENTS:
                assert _mean(got) == pytest.approx(_mean(want), rel=0.1), (name, fk)
            else:
                assert ks(want, got) <= KS_MAX, (name, fk, want, got)


def test_planted_dependencies_match(pair):
    """Withdrawal tied to low scores, an outcome label tied to scores and to role_status,
    demographic bands tied to scores and to each other: each pair's association within
    0.05 of the source's (sources without planted pairs have nothing to check)."""
    name, source, generated, _ = pair
    if name not in PLANTED:
        pytest.skip(f"{name} plants no dependency")
    found = planted(str(source), str(generated), name)
    off = [(p, round(w, 3), round(g, 3)) for p, w, g in found
           if w is None or g is None or abs(g - w) > ASSOCIATION_MAX]
    assert not off, f"{name}: planted pairs off by more than {ASSOCIATION_MAX}: {off}"


def test_catalog_columns_are_learned(pair):
    """Course subject, number and title, section number, campus and group names: TVD ≤ 0.03
    against the source (they once came from the built-in catalog, TVD 1.0)."""
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        distances = {f"{t}.{c}": round(tvd(shares(src, t, c), shares(gen, t, c)), 4)
                     for t, columns in CATALOG.items() for c in columns}
    off = {column: d for column, d in distances.items() if d > TVD_MAX}
    assert not off, f"{name}: catalog columns over TVD {TVD_MAX}: {off}"


def test_gradebook_follows_the_source(pair):
    """Whether withdrawn students keep a score and whether the current score is the final one
    are learned: the share of grades without a score and the share whose current score
    differs from the final are the source's, within 0.01."""
    name, source, generated, _ = pair
    sql = ("SELECT AVG(CASE WHEN le_final_score IS NULL THEN 1.0 ELSE 0 END), "
           "AVG(CASE WHEN ABS(le_current_score - le_final_score) > 0.005 THEN 1.0 ELSE 0 END) "
           "FROM context_store_entity.course_grade")
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want, got = src.execute(sql).fetchone(), gen.execute(sql).fetchone()
    assert got == pytest.approx(want, abs=0.01), (name, want, got)


def _mean(hist: dict[int, int]) -> float:
    return sum(v * c for v, c in hist.items()) / max(sum(hist.values()), 1)


def test_grading_status_is_never_null(pair):
    name, _, generated, _ = pair
    with duckdb.connect(str(generated), read_only=True) as gen:
        statuses = dict(gen.execute(
            "SELECT grading_status, COUNT(*) FROM context_store_entity.learner_activity_result "
            "GROUP BY 1").fetchall())
    assert None not in statuses and statuses, (name, statuses)


def test_learned_structure_is_in_the_profile(pair):
    name, _, _, profile = pair
    terms = profile["structure"]["terms_per_student"]["values"]
    mean = sum(i["value"] * i["p"] for i in terms)
    if name == "one_term":
        assert mean == pytest.approx(1.1, abs=0.03)
        assert max(t["weeks"] for t in profile["calendar"]["term_types"].values()) >= 34
    assert "per_section" in profile["tables"]["course_section_enrollment"]["rows"]


def test_marts_are_built_unless_skipped(pair):
    """The one run with marts has them filled; the --no-marts runs stop after the load."""
    name, _, generated, _ = pair
    with duckdb.connect(str(generated), read_only=True) as gen:
        schemas = {r[0] for r in gen.execute(
            "SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()}
        if name != MARTS:
            assert not any(s.startswith("mart_") for s in schemas), schemas
            return
        rows = gen.execute("SELECT COUNT(*) FROM mart_course_offering.status").fetchone()[0]
    assert rows > 0


def test_missing_optional_tables_and_columns_are_notes(tmp_path, capsys):
    """Without assignment groups, grades, student-terms, course levels, capacities, term types
    and role statuses, profile notes each default and the profile generates and loads."""
    source = build("sparse", tmp_path, parquet=True)
    profile = tmp_path / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
    captured = capsys.readouterr()
    notes = captured.out + captured.err
    for table in SPARSE_TABLES:
        assert f"optional table {table} is not in the source" in notes
    assert "kept the default" in notes
    assert main(["run", "--profile", str(profile), "--out", str(tmp_path / "w"),
                 "--event-days", "1", "--event-scale", "0", "--no-marts", "--no-evaluate"]) == 0
