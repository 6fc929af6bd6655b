"""Planted dependencies through SQL: the Spearman or Cramér's V of each pair a hand-built
source ties together (tests/handbuilt.py), measured the same way on the source and on a
generated warehouse. Used by test_real_sources.py and for the issue-11 figures:

    .venv/bin/python tests/dependency_metrics.py SOURCE.duckdb GENERATED/warehouse.duckdb

A student enrollment is a (person, offering) pair; its score is the mean score ratio
(published_score / points_possible) over its graded results, a person's the mean over all of
theirs. Scores enter Cramér's V as quintiles (NTILE 5), so every pair is label × label.
"""

from __future__ import annotations

import math
import sys

import duckdb

CS = "context_store_entity"
_RATIO = f"""SELECT r.person_id AS pid, a.course_offering_id AS off,
    r.published_score / a.points_possible AS x FROM {CS}.learner_activity_result r
    JOIN {CS}.learner_activity a ON a.learner_activity_id = r.learner_activity_id
    WHERE r.published_score IS NOT NULL AND a.points_possible > 0"""
# one row per student enrollment: its labels, its mean score and results (graded or not)
ENROLLMENTS = f"""WITH e AS (SELECT e.*, s.course_offering_id AS off
    FROM {CS}.course_section_enrollment e JOIN {CS}.course_section s
    ON s.course_section_id = e.course_section_id WHERE e.role = 'Student'),
  m AS (SELECT pid, off, AVG(x) AS score FROM ({_RATIO}) GROUP BY 1, 2),
  n AS (SELECT r.person_id AS pid, a.course_offering_id AS off, COUNT(*) AS results
    FROM {CS}.learner_activity_result r JOIN {CS}.learner_activity a
    ON a.learner_activity_id = r.learner_activity_id GROUP BY 1, 2)
  SELECT e.*, m.score, COALESCE(n.results, 0) AS results,
    CASE WHEN e.role_status = 'Withdrawn' THEN 1 ELSE 0 END AS withdrawn
  FROM e LEFT JOIN m ON m.pid = e.person_id AND m.off = e.off
  LEFT JOIN n ON n.pid = e.person_id AND n.off = e.off"""
# one row per student enrollment not withdrawn: its mean score and its events (zeros
# included; the gradebook's own Submitted/Graded events left out, as the profiler does)
ACTIVITY = f"""WITH ev AS (SELECT e.person.udp_id AS pid, e.course_offering.udp_id AS off,
    COUNT(*) AS n FROM event_store.expanded e
    WHERE NOT (e.type = 'GradeEvent' OR e.action = 'Submitted') GROUP BY 1, 2)
  SELECT x.score, COALESCE(ev.n, 0) AS events FROM ({ENROLLMENTS}) x
  LEFT JOIN ev ON ev.pid = x.person_id AND ev.off = x.off WHERE x.withdrawn = 0"""
# one row per person with a score: their columns and their mean score over all results
PEOPLE = f"""SELECT p.*, m.score FROM {CS}.person p JOIN (SELECT pid, AVG(x) AS score
    FROM ({_RATIO}) GROUP BY 1) m ON m.pid = p.person_id"""

# one row per student enrollment with the student's person columns (DuckDB names a person
# column `<name>_1` where the enrollment has a column of that name)
PERSON_ENROLLMENTS = f"""SELECT x.*, p.* EXCLUDE (person_id) FROM ({ENROLLMENTS}) x
  JOIN {CS}.person p ON p.person_id = x.person_id"""

# source name -> [(relation, kind, a, b)]: kind "spearman" (numbers) or "cramers_v" (labels;
# `score` as quintiles); the pairs each source plants
PLANTED = {
    "events": [("activity", "spearman", "score", "events")],
    "withdrawal": [("enrollment", "spearman", "score", "withdrawn"),
                   ("enrollment", "spearman", "results", "withdrawn")],
    "extra_columns": [("enrollment", "cramers_v", "score", "final_result"),
                      ("enrollment", "cramers_v", "role_status", "final_result"),
                      ("enrollment", "spearman", "score", "registration_day"),
                      ("enrollment", "spearman", "score", "withdrawn"),
                      ("person", "cramers_v", "score", "region"),
                      ("person", "cramers_v", "score", "age_band"),
                      ("person", "cramers_v", "score", "imd_band"),
                      ("person", "cramers_v", "score", "disability"),
                      ("person", "cramers_v", "region", "imd_band"),
                      ("person", "cramers_v", "age_band", "imd_band")],
}
# the person-level links of issue 11: each person column against the person's mean score,
# and (over their student enrollments) against the outcome label and withdrawal
PERSON_COLUMNS = ("region", "age_band", "imd_band", "disability")
PERSON_LINKS = [link for c in PERSON_COLUMNS for link in (
    ("person", "cramers_v", "score", c),
    ("person_enrollment", "cramers_v", "final_result", c),
    ("person_enrollment", "cramers_v", "withdrawn", c))]
_RELATIONS = {"enrollment": ENROLLMENTS, "person": PEOPLE, "activity": ACTIVITY,
              "person_enrollment": PERSON_ENROLLMENTS}


def association(con: duckdb.DuckDBPyConnection, relation: str, kind: str, a: str,
                b: str) -> float | None:
    """The pair's Spearman (average ranks) or bias-corrected Cramér's V on one warehouse."""
    base = f"SELECT {_expr(a, kind)} AS a, {_expr(b, kind)} AS b FROM ({_RELATIONS[relation]})"
    if kind == "spearman":
        value = con.execute(f"""WITH t AS ({base}), r AS (SELECT
            RANK() OVER (ORDER BY a) + (COUNT(*) OVER (PARTITION BY a) - 1) / 2.0 AS ra,
            RANK() OVER (ORDER BY b) + (COUNT(*) OVER (PARTITION BY b) - 1) / 2.0 AS rb
            FROM t WHERE a IS NOT NULL AND b IS NOT NULL) SELECT CORR(ra, rb) FROM r""")
        value = value.fetchone()[0]
        return None if value is None or math.isnan(value) else float(value)
    rows = con.execute(f"SELECT a, b, COUNT(*) FROM ({base}) WHERE a IS NOT NULL AND "
                       "b IS NOT NULL GROUP BY 1, 2").fetchall()
    return cramers_v({(x, y): n for x, y, n in rows})


def _expr(column: str, kind: str) -> str:
    if column == "score" and kind == "cramers_v":
        return "CASE WHEN score IS NULL THEN NULL ELSE NTILE(5) OVER (PARTITION BY score IS " \
               "NULL ORDER BY score) END"
    return f"CAST({column} AS VARCHAR)" if kind == "cramers_v" else column


def cramers_v(table: dict[tuple, int]) -> float | None:
    """Bias-corrected Cramér's V (Bergsma 2013) of {(a, b): count}."""
    rows, cols = sorted({k[0] for k in table}), sorted({k[1] for k in table})
    n = sum(table.values())
    if len(rows) < 2 or len(cols) < 2 or n < 2:
        return None
    by_row = {r: sum(c for (x, _), c in table.items() if x == r) for r in rows}
    by_col = {c: sum(v for (_, y), v in table.items() if y == c) for c in cols}
    chi2 = sum((table.get((r, c), 0) - by_row[r] * by_col[c] / n) ** 2
               / (by_row[r] * by_col[c] / n) for r in rows for c in cols)
    k, r = len(cols), len(rows)
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    kc, rc = k - (k - 1) ** 2 / (n - 1), r - (r - 1) ** 2 / (n - 1)
    return math.sqrt(phi2 / min(kc - 1, rc - 1)) if min(kc, rc) > 1 else None


def planted(source: str, generated: str, name: str,
            pairs: list[tuple] | None = None) -> list[tuple[str, float, float]]:
    """[(pair, source value, generated value)] for the pairs source `name` plants (or
    `pairs`, when given)."""
    out = []
    with duckdb.connect(source, read_only=True) as src, \
            duckdb.connect(generated, read_only=True) as gen:
        for relation, kind, a, b in PLANTED[name] if pairs is None else pairs:
            label = f"{relation}: {kind}({a}, {b})"
            out.append((label, association(src, relation, kind, a, b),
                        association(gen, relation, kind, a, b)))
    return out


if __name__ == "__main__":
    source_path, generated_path = sys.argv[1:3]
    which = sys.argv[3] if len(sys.argv) > 3 else next(
        n for n in PLANTED if n in source_path)
    for pair, want, got in planted(source_path, generated_path, which):
        gap = None if want is None or got is None else got - want
        print(f"{pair:55s} source {want:+.3f}  generated {got:+.3f}  diff "
              f"{gap:+.3f}" if gap is not None else f"{pair:55s} {want} {got}")
