"""Every column: a hand-built source with the institution's own columns of several types, a
few sensitive ones and a missing optional column; `profile` then `run` carry the extras into
the warehouse under their names and types, with their distributions (TVD, KS measured with
SQL over both files), and nothing of the sensitive columns leaves the source."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from distributions._estimators import QUANTILES
from pipeline.cli import main
from pipeline.generate._samplers import compile_distribution

BASE = 8_200_000_000  # source keys, unlike the generator's
STUDENTS, TEACHERS, OFFERINGS = 4000, 150, 40
TERMS = (("Fall 2024", "Fall", 2024, dt.date(2024, 8, 26), dt.date(2024, 12, 20)),
         ("Spring 2025", "Spring", 2025, dt.date(2025, 1, 13), dt.date(2025, 5, 9)))
EXTRAS = {  # table -> extra column -> DuckDB type the warehouse must carry
    "person": {"region": "VARCHAR", "age_band": "VARCHAR", "disability": "BOOLEAN",
               "prior_attempts": "BIGINT", "deprivation_pct": "DOUBLE"},
    "course_section_enrollment": {"final_result": "VARCHAR", "registration_day": "BIGINT",
                                  "registered_on": "DATE", "exam_score": "DOUBLE",
                                  "last_login": "TIMESTAMP WITH TIME ZONE"},
    "course_grade": {"banked": "BOOLEAN"},
}
SENSITIVE = {("person", "contact_email"), ("person", "nickname"), ("person", "personal_code"),
             ("person", "alt_contact"), ("person", "advisor_notes"), ("person", "first_name"),
             ("course_section_enrollment", "id_student")}


def _people(rng) -> pd.DataFrame:
    n = STUDENTS + TEACHERS
    ids = BASE + np.arange(n)
    regions = rng.choice(["North", "South", "East", "West", "Wales", "Scotland"], n,
                         p=[0.3, 0.25, 0.15, 0.12, 0.1, 0.08])
    return pd.DataFrame({
        "person_id": ids, "name": [f"Zq{i:05d} Vandersloot" for i in range(n)],
        "first_name": [f"Zq{i:05d}" for i in range(n)], "last_name": "Vandersloot",
        "sex": rng.choice(["Female", "Male"], n, p=[0.55, 0.45]),
        "region": regions, "age_band": rng.choice(["0-35", "35-55", "55<="], n, p=[.7, .25, .05]),
        "disability": rng.random(n) < 0.1,
        "prior_attempts": rng.choice(6, n, p=[.6, .2, .1, .05, .03, .02]),
        "deprivation_pct": np.round(rng.beta(0.7, 2.5, n) * 100, 2),  # right-skewed
        "contact_email": [f"zq{i}@uni.example.edu" for i in range(n)],
        "nickname": [f"Zippy{i % 50}" for i in range(n)],
        "personal_code": [f"PC-{rng.integers(10**7, 10**8)}" for _ in range(n)],
        "alt_contact": [f"backup{i}@mail.example.org" if i % 3 == 0 else None
                        for i in range(n)],
        "advisor_notes": [f"Quarrington note {i}: met on Tuesday about the coursework plan "
                          "and the extension" for i in range(n)],
    })


def _courses(rng) -> dict[str, pd.DataFrame]:
    terms = pd.DataFrame([{"academic_term_id": BASE + 900 + i, "name": t[0], "term_type": t[1],
                           "term_year": t[2], "term_begin_date": t[3], "term_end_date": t[4]}
                          for i, t in enumerate(TERMS)])
    offerings = pd.DataFrame({
        "course_offering_id": BASE + 500 + np.arange(OFFERINGS),
        "academic_term_id": BASE + 900 + np.arange(OFFERINGS) % 2,
        "cip_family": rng.choice(["27", "09", "45", "52"], OFFERINGS),
        "course_level": rng.choice(["100", "200", "300"], OFFERINGS),
        "available_credits": 3, "le_status": "available"})
    sections = pd.DataFrame({
        "course_section_id": BASE + 600 + np.arange(2 * OFFERINGS),
        "course_offering_id": BASE + 500 + np.arange(2 * OFFERINGS) // 2,
        "status": "active", "delivery_mode": "FaceToFace", "max_enrollment": 120})
    return {"academic_term": terms, "course_offering": offerings, "course_section": sections}


def _enrollments(rng, people: pd.DataFrame) -> pd.DataFrame:
    sections = BASE + 600 + np.arange(2 * OFFERINGS)
    student = np.repeat(people.person_id[:STUDENTS].to_numpy(), 2)
    term = np.tile([0, 1], STUDENTS)  # one course in each term
    offering = rng.integers(0, OFFERINGS // 2, len(student)) * 2 + term
    section = sections[offering * 2 + rng.integers(0, 2, len(student))]
    teacher = people.person_id[STUDENTS:].to_numpy()
    n = len(student)
    high = rng.random(n) < 0.45  # a bimodal score: a failing and a passing mode
    frame = pd.DataFrame({
        "course_section_id": section, "person_id": student, "role": "Student",
        "role_status": "Enrolled", "enrollment_status": "Active",
        "id_student": student - BASE,
        "final_result": rng.choice(["Pass", "Fail", "Withdrawn", "Distinction"], n,
                                   p=[.45, .25, .2, .1]),
        "registration_day": np.round(-rng.gamma(2.0, 30.0, n)).astype(int),
        "exam_score": np.round(np.clip(np.where(high, rng.normal(82, 6, n),
                                                rng.normal(38, 10, n)), 0, 100), 1),
    })
    frame["registered_on"] = (pd.Timestamp("2024-08-26") + pd.to_timedelta(
        frame.registration_day, unit="D")).dt.date
    frame["last_login"] = pd.Timestamp("2024-09-01", tz="UTC") + pd.to_timedelta(
        rng.exponential(20.0, n), unit="D")
    staff = pd.DataFrame({"course_section_id": sections, "person_id": teacher[
        np.arange(len(sections)) % len(teacher)], "role": "Teacher",
        "role_status": "Enrolled", "enrollment_status": "Active"})
    out = pd.concat([frame, staff], ignore_index=True)
    for column in ("id_student", "registration_day"):  # integers with nulls (staff rows)
        out[column] = out[column].astype("Int64")
    return out


def build_source(path: Path) -> Path:
    """A DuckDB source: 2 terms, 40 offerings, 4,000 students with extra columns."""
    rng = np.random.default_rng(11)
    people = _people(rng)
    tables = {**_courses(rng), "person": people, "course_section_enrollment":
              _enrollments(rng, people)}
    students = tables["course_section_enrollment"].query("role == 'Student'")
    # course_grade without its optional final_grade column
    tables["course_grade"] = pd.DataFrame({
        "course_section_id": students.course_section_id, "person_id": students.person_id,
        "le_current_score": students.exam_score, "le_final_score": students.exam_score,
        "gpa_cumulative_excluding_course_grade": np.round(rng.uniform(1.5, 4.0, len(students)), 2),
        "banked": rng.random(len(students)) < 0.3})
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA context_store_entity")
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE context_store_entity.{name} AS SELECT * FROM frame")
            con.unregister("frame")
    return path


# ---- the round trip ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The source, its profile (and privacy manifest) and the warehouse generated from it."""
    root = tmp_path_factory.mktemp("columns")
    source = build_source(root / "source.duckdb")
    profile = root / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
    out = root / "warehouse"
    assert main(["run", "--profile", str(profile), "--fte", "600", "--event-days", "1",
                 "--no-marts", "--out", str(out)]) == 0
    return {"source": source, "profile": profile, "out": out,
            "warehouse": out / "warehouse.duckdb",
            "manifest": json.loads(profile.with_name("profile.privacy.json").read_text())}


def _both(run):
    con = duckdb.connect()
    con.execute(f"ATTACH '{run['source']}' AS s (READ_ONLY)")
    con.execute(f"ATTACH '{run['warehouse']}' AS g (READ_ONLY)")
    return con


def test_extras_are_in_the_warehouse_with_their_names_and_types(run):
    with _both(run) as con:
        for table, columns in EXTRAS.items():
            found = dict(con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'g' "
                "AND schema_name = 'context_store_entity' AND table_name = ?", [table]).fetchall())
            assert {c: found.get(c) for c in columns} == columns, table
            for column in columns:  # generated, not all null
                assert con.execute(f'SELECT COUNT("{column}") FROM g.context_store_entity.'
                                   f"{table}").fetchall()[0][0] > 0, (table, column)
    document = json.loads(run["profile"].read_text())
    for table, columns in EXTRAS.items():
        assert set(document["tables"][table]["extras"]) == set(columns)


def test_the_run_manifest_and_the_bigquery_schemas_carry_the_extras(run):
    """`publish` declares the tables from the run's manifest: extras with BigQuery types."""
    from pipeline.outputs._bigquery import registry_schema
    from pipeline.udp._registry import REGISTRY

    extras = json.loads((run["out"] / "campus-synth.json").read_text())["extras"]
    registry = REGISTRY.with_extras(extras)
    bq = {"VARCHAR": "STRING", "BIGINT": "INT64", "DOUBLE": "FLOAT64", "BOOLEAN": "BOOL",
          "DATE": "DATE", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP"}
    for table, columns in EXTRAS.items():
        fields = {f.name: (f.field_type, f.mode) for f in registry_schema(registry[table])}
        assert {c: fields.get(c) for c in columns} == {c: (bq[t], "NULLABLE")
                                                       for c, t in columns.items()}


def _where(table: str) -> str:
    """The rows compared: students (the source's staff rows hold no extra values)."""
    if table == "course_section_enrollment":
        return "WHERE role = 'Student'"
    return ""


def _tvd(con, table: str, column: str) -> float:
    shares = " ".join(f"""{db} AS (SELECT CAST("{column}" AS VARCHAR) AS v, COUNT(*) / SUM(COUNT(*))
        OVER () AS p FROM {db}.context_store_entity.{table} {_where(table)} GROUP BY v),"""
                      for db in ("s", "g"))
    return con.execute(f"""WITH {shares.rstrip(',')}
        SELECT SUM(ABS(COALESCE(s.p, 0) - COALESCE(g.p, 0))) / 2
        FROM s FULL JOIN g ON s.v IS NOT DISTINCT FROM g.v""").fetchall()[0][0]


def _ks(con, table: str, column: str, kind: str) -> float:
    x = f'epoch("{column}") / 86400.0' if kind.startswith(("DATE", "TIMESTAMP")) else \
        f'"{column}"'
    parts = " UNION ALL ".join(
        f"SELECT {x} AS x, {int(db == 's')} AS a FROM {db}.context_store_entity.{table} "
        f"{_where(table)}" for db in ("s", "g"))
    return con.execute(f"""WITH v AS (SELECT * FROM ({parts}) WHERE x IS NOT NULL),
        c AS (SELECT x, SUM(a) AS na, SUM(1 - a) AS nb FROM v GROUP BY x),
        e AS (SELECT SUM(na) OVER (ORDER BY x) / SUM(na) OVER () AS fa,
                     SUM(nb) OVER (ORDER BY x) / SUM(nb) OVER () AS fb FROM c)
        SELECT MAX(ABS(fa - fb)) FROM e""").fetchall()[0][0]


CONTINUOUS = {("person", "deprivation_pct"), ("course_section_enrollment", "registration_day"),
              ("course_section_enrollment", "registered_on"),
              ("course_section_enrollment", "exam_score"),
              ("course_section_enrollment", "last_login")}


def test_extras_keep_their_distributions(run):
    """Categorical TVD ≤ 0.03 and numeric KS ≤ 0.05 per extra column, source vs generated."""
    measured = {}
    with _both(run) as con:
        for table, columns in EXTRAS.items():
            for column, kind in columns.items():
                if (table, column) in CONTINUOUS:
                    measured[(table, column)] = ("ks", _ks(con, table, column, kind))
                else:
                    measured[(table, column)] = ("tvd", _tvd(con, table, column))
    failing = {k: v for k, v in measured.items() if v[1] > (0.05 if v[0] == "ks" else 0.03)}
    assert not failing, failing


def test_quantiles_follow_a_bimodal_score_a_fitted_normal_does_not(run):
    """The stored quantiles' inverse CDF against the normal fit of the same mean and sd (of
    the students' cell: an exam score exists for students only, so it is learned given
    role, the staff's cell all null)."""
    spec = json.loads(run["profile"].read_text())["tables"]["course_section_enrollment"][
        "columns"]["exam_score"]
    assert spec["kind"] == "conditional" and spec["given"] == ["role"]
    assert [c["distribution"]["null_fraction"] for c in spec["cells"]
            if c["when"]["role"] == "Teacher"] == [1.0]
    spec = next(c["distribution"] for c in spec["cells"] if c["when"]["role"] == "Student")
    assert spec["family"] == "empirical" and len(spec["quantiles"]) == len(QUANTILES)
    with duckdb.connect(str(run["source"]), read_only=True) as con:
        source = np.sort(np.array(con.execute(
            "SELECT exam_score FROM context_store_entity.course_section_enrollment "
            "WHERE exam_score IS NOT NULL").fetchall(), dtype=float)[:, 0])
    u = (np.arange(20_000) + 0.5) / 20_000

    def ks(family: str) -> float:
        drawn = np.sort(compile_distribution({**spec, "family": family}).sample(u))
        grid = np.concatenate([source, drawn])
        return float(np.max(np.abs(np.searchsorted(source, grid, "right") / len(source)
                                   - np.searchsorted(drawn, grid, "right") / len(drawn))))

    assert ks("empirical") <= 0.02 < 0.08 <= ks("normal")


@pytest.mark.parametrize("null_fraction", [0.06, 0.5])
def test_values_beside_nulls_keep_their_whole_distribution(null_fraction):
    """A column with nulls (an exam kind undated half the time): its non-null values span
    every stored quantile, the upper tail included, and the null share is kept."""
    spec = {"kind": "continuous", "family": "empirical", "min": 0.0, "max": 1.0,
            "quantiles": {"0.25": 0.25, "0.5": 0.5, "0.75": 0.75},
            "null_fraction": null_fraction}
    u = (np.arange(10_000) + 0.5) / 10_000
    drawn = compile_distribution(spec).sample(u)
    values = drawn[~np.isnan(drawn)]
    assert np.isnan(drawn).mean() == pytest.approx(null_fraction, abs=1e-3)
    assert np.quantile(values, [0.5, 0.99]) == pytest.approx([0.5, 0.99], abs=0.01)


# ---- privacy and coverage ------------------------------------------------------------------
def test_sensitive_columns_are_named_in_the_notes_and_never_leave(run):
    document = json.loads(run["profile"].read_text())
    for table, column in SENSITIVE:
        assert any(n.startswith(f"/tables/{table}/columns/{column}: not profiled (sensitive")
                   for n in run["manifest"]["notes"]), (table, column)
    coverage = run["manifest"]["coverage"]
    for table, column in SENSITIVE:
        assert column not in document["tables"][table]["columns"]
        entry = coverage[table]["columns"][column]
        assert entry["status"] == "skipped" and "sensitive" in entry["reason"], (table, column)
    text = run["profile"].read_text() + run["profile"].with_name("profile.privacy.json") \
        .read_text()
    with duckdb.connect(str(run["source"]), read_only=True) as con:
        secrets = set()
        for table, column in SENSITIVE:
            secrets |= {str(v) for (v,) in con.execute(
                f'SELECT DISTINCT "{column}" FROM context_store_entity.{table} '
                f'WHERE "{column}" IS NOT NULL').fetchall()}
    leaked = [s for s in secrets if len(s) > 4 and s in text]
    assert not leaked[:5]
    assert "Vandersloot" not in text and "Quarrington" not in text and "@" not in text


def test_every_column_is_accounted_for_and_a_missing_optional_column_is_defaulted(run):
    coverage = run["manifest"]["coverage"]
    with duckdb.connect(str(run["source"]), read_only=True) as con:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ?",
                [table]).fetchall()]
            assert coverage[table]["status"] == "read"
            assert set(columns) <= set(coverage[table]["columns"]), table
    grade = coverage["course_grade"]["columns"]
    assert grade["final_grade"]["status"] == "defaulted"
    assert grade["banked"]["status"] == "profiled"
    assert grade["gpa_cumulative_excluding_course_grade"]["status"] == "profiled"
    assert coverage["wiki_page"]["status"] == "defaulted"
