"""Structure metrics through SQL: rows per table and children-per-parent histograms of a
UDP warehouse (a hand-built source or a generated warehouse.duckdb), and the KS distance
between two such histograms. Used by test_real_sources.py and for the issue-11 figures."""

from __future__ import annotations

import duckdb

CS = "context_store_entity"
_OFFERING_OF_ENROLLMENT = (f"{CS}.course_section_enrollment AS e JOIN {CS}.course_section AS s "
                           "ON e.course_section_id = s.course_section_id")
STUDENT = "e.role = 'Student'"

# name -> SQL giving one row per parent with its number of children (zeros included)
CHILDREN = {
    "offerings per term": f"""SELECT COUNT(o.course_offering_id) AS n FROM {CS}.academic_term t
        LEFT JOIN {CS}.course_offering o ON o.academic_term_id = t.academic_term_id
        GROUP BY t.academic_term_id""",
    "sections per offering": f"""SELECT COUNT(s.course_section_id) AS n
        FROM {CS}.course_offering o LEFT JOIN {CS}.course_section s
        ON s.course_offering_id = o.course_offering_id GROUP BY o.course_offering_id""",
    "students per section": f"""SELECT COUNT(e.person_id) AS n FROM {CS}.course_section s
        LEFT JOIN (SELECT * FROM {CS}.course_section_enrollment e WHERE {STUDENT}) e
        ON e.course_section_id = s.course_section_id GROUP BY s.course_section_id""",
    "students per offering": f"""SELECT COUNT(e.person_id) AS n FROM {CS}.course_offering o
        LEFT JOIN (SELECT e.person_id, s.course_offering_id FROM {_OFFERING_OF_ENROLLMENT}
                   WHERE {STUDENT}) e ON e.course_offering_id = o.course_offering_id
        GROUP BY o.course_offering_id""",
    "enrollments per student": f"""SELECT COUNT(*) AS n FROM {CS}.course_section_enrollment e
        WHERE {STUDENT} GROUP BY e.person_id""",
    "terms per student": f"""SELECT COUNT(DISTINCT o.academic_term_id) AS n
        FROM {_OFFERING_OF_ENROLLMENT} JOIN {CS}.course_offering o
        ON o.course_offering_id = s.course_offering_id WHERE {STUDENT} GROUP BY e.person_id""",
    "groups per offering": f"""SELECT COUNT(g.learner_activity_group_id) AS n
        FROM {CS}.course_offering o LEFT JOIN {CS}.learner_activity_group g
        ON g.course_offering_id = o.course_offering_id GROUP BY o.course_offering_id""",
    "activities per group": f"""SELECT COUNT(a.learner_activity_id) AS n
        FROM {CS}.learner_activity_group g LEFT JOIN {CS}.learner_activity a
        ON a.learner_activity_group_id = g.learner_activity_group_id
        GROUP BY g.learner_activity_group_id""",
    "results per enrollment": f"""SELECT COUNT(r.person_id) AS n FROM (
          SELECT DISTINCT e.person_id, s.course_offering_id FROM {_OFFERING_OF_ENROLLMENT}
          WHERE {STUDENT}) x
        LEFT JOIN (SELECT r.person_id, a.course_offering_id FROM {CS}.learner_activity_result r
          JOIN {CS}.learner_activity a ON a.learner_activity_id = r.learner_activity_id) r
        ON r.person_id = x.person_id AND r.course_offering_id = x.course_offering_id
        GROUP BY x.person_id, x.course_offering_id""",
}


def histogram(con: duckdb.DuckDBPyConnection, name: str) -> dict[int, int]:
    """{children: parents} for one of CHILDREN."""
    rows = con.execute(f"SELECT n, COUNT(*) FROM ({CHILDREN[name]}) GROUP BY n").fetchall()
    return {int(n): int(c) for n, c in rows}


def ks(a: dict, b: dict) -> float:
    """Largest gap between the empirical CDFs of two {value: count} histograms."""
    ta, tb = sum(a.values()), sum(b.values())
    if not ta or not tb:
        return 1.0
    gap, ca, cb = 0.0, 0, 0
    for value in sorted(set(a) | set(b)):
        ca, cb = ca + a.get(value, 0), cb + b.get(value, 0)
        gap = max(gap, abs(ca / ta - cb / tb))
    return gap


def shares(con: duckdb.DuckDBPyConnection, table: str, column: str) -> dict:
    """{value: share of rows} of one column (nulls as None)."""
    rows = con.execute(f'SELECT "{column}", COUNT(*) FROM {CS}.{table} GROUP BY 1').fetchall()
    total = sum(n for _, n in rows)
    return {value: n / total for value, n in rows} if total else {}


def tvd(a: dict, b: dict) -> float:
    """Total variation distance between two {value: share} distributions."""
    return 0.5 * sum(abs(a.get(v, 0.0) - b.get(v, 0.0)) for v in set(a) | set(b))


def numbers(con: duckdb.DuckDBPyConnection, table: str, column: str) -> dict[float, int]:
    """{value: rows} of a numeric column's non-null values (a histogram `ks` compares)."""
    rows = con.execute(f'SELECT CAST("{column}" AS DOUBLE), COUNT(*) FROM {CS}.{table} '
                       f'WHERE "{column}" IS NOT NULL GROUP BY 1').fetchall()
    return {float(value): int(n) for value, n in rows}


def row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every context-store table."""
    names = [r[0] for r in con.execute(
        f"SELECT table_name FROM duckdb_tables() WHERE schema_name = '{CS}'").fetchall()]
    return {n: con.execute(f"SELECT COUNT(*) FROM {CS}.{n}").fetchone()[0] for n in names}


def compare(source: str, generated: str) -> tuple[dict, dict]:
    """({fk: KS}, {table: generated/source rows}) between two DuckDB warehouses."""
    a = duckdb.connect(source, read_only=True)
    b = duckdb.connect(generated, read_only=True)
    try:
        distances = {}
        for name in CHILDREN:
            try:
                distances[name] = round(ks(histogram(a, name), histogram(b, name)), 4)
            except duckdb.CatalogException:  # a table the source does not have
                continue
        ra, rb = row_counts(a), row_counts(b)
        ratios = {t: round(rb.get(t, 0) / n, 3) for t, n in sorted(ra.items()) if n}
        return distances, ratios
    finally:
        a.close()
        b.close()
