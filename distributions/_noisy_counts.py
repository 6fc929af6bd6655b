"""Counts that a person moves without bound, bounded to public caps and noised under ε: the
row counts the manifest reports, students per section and the section fill rate.

A person can hold any number of enrollments, results or events, so a count of them has no
bounded sensitivity. Under `--epsilon` each person's rows are clipped to a public cap before
anything is counted (their first rows by key; the rest are not counted), and the caps are
listed in the manifest (`bounds`):

- enrollments: `ENROLLMENTS_PER_TERM` × the source's number of terms (terms are institutional,
  so the cap is public once the term count is);
- rows of any other person table: that many per enrollment (`ROWS_PER_ENROLLMENT`), one
  per term for person__academic_term, one for person;
- events: `EVENTS_PER_ENROLLMENT` per capped enrollment.

Without ε nothing here runs: the profile is what it always was.
"""

from __future__ import annotations

import numpy as np

from distributions._event_queries import QUALIFIED, TABLE, has_events

ENROLLMENTS_PER_TERM = 5   # a student's enrollments counted per term of the source (public)
ROWS_PER_ENROLLMENT = 60   # rows of a per-enrollment table (results) per counted enrollment
EVENTS_PER_ENROLLMENT = 2000  # events per counted enrollment
SECTIONS = "/tables/course_section_enrollment/rows/per_section"
FILL_RATE = "/institution/section_fill_rate"


def enrollment_cap(p) -> int:
    """The most enrollments one person contributes to any count (public: from the number
    of terms, an institutional count)."""
    return ENROLLMENTS_PER_TERM * max(p.counts.get("academic_term", 1), 1)


def bounds(p) -> dict:
    """The public caps on one person's contribution, for the manifest."""
    cap = enrollment_cap(p)
    return {"enrollments_per_person": cap,
            "enrollments_note": f"{ENROLLMENTS_PER_TERM} per term x "
                                f"{max(p.counts.get('academic_term', 1), 1)} term(s); a "
                                "person's enrollments beyond it (by section key) are not "
                                "counted in students per section, the fill rate or row counts",
            "rows_per_person": {t: _row_cap(p, t) for t in sorted(_person_tables(p))}}


def _person_tables(p) -> list[str]:
    tables = [t for t in p.counts if t in p.entities and "person_id" in
              {c.name for c in p.entities[t].columns} and p.reader.has(t, "person_id")]
    return tables + ([QUALIFIED] if QUALIFIED in p.counts and has_events(p.reader) else [])


def _row_cap(p, table: str) -> int:
    if table == "person":
        return 1
    if table == "person__academic_term":
        return max(p.counts.get("academic_term", 1), 1)
    if table == QUALIFIED:
        return enrollment_cap(p) * EVENTS_PER_ENROLLMENT
    if table in ("course_section_enrollment", "course_grade"):
        return enrollment_cap(p)
    return enrollment_cap(p) * ROWS_PER_ENROLLMENT


def released_row_counts(p) -> dict[str, int]:
    """The row counts the manifest reports: exact for institutional tables (no person
    behind a row); under ε, for a person table, the count of its rows clipped to the
    table's cap per person, plus Laplace noise at sensitivity that cap (one person adds at
    most that many rows), one query per table (`/manifest/tables/<table>`)."""
    if p.guard.epsilon is None:
        return dict(p.counts)
    out = dict(p.counts)
    for table in _person_tables(p):
        cap = _row_cap(p, table)
        rows = p.reader.scalar(_clipped_rows_sql(p, table, cap)) or 0
        noised = p.guard.noised_sums(f"/manifest/tables/{table}", {"rows": float(rows)}, cap)
        out[table] = max(int(round((noised or {"rows": 0.0})["rows"])), 0)
    return out


def _clipped_rows_sql(p, table: str, cap: int) -> str:
    r = p.reader
    if table == QUALIFIED:
        pid = f"e.{r.sql.ident('person')}.{r.sql.ident('udp_id')}"
        rel = f"{r.rel(TABLE)} AS e"
    else:
        pid, rel = r.col(table, "person_id", "key", "t"), f"{r.rel(table)} AS t"
    return (f"SELECT SUM(LEAST(n, {cap})) FROM (SELECT {pid} AS pid, COUNT(*) AS n "
            f"FROM {rel} GROUP BY 1) AS per")


def noised_section_sizes(p, student_rows: str) -> dict[tuple, dict[int, int]]:
    """{(course level,): {students: sections}} from two noised queries over each section's
    count of students, each person counted in at most `enrollment_cap` sections (their
    first by section key): a person adds 1 to at most that many counts, so both the vector
    of sections' counts (`SECTIONS`) and the vector of their sums per level
    (`SECTIONS/seats`) move by at most the cap in L1 (the sensitivity of each). Sections
    are institutional: which exist, and their level, are not noised. Post-processing: each
    level's mean is its noised seats over its sections, and a section's size is that mean
    plus its noised deviation from the level's noised mean shrunk by the share of that
    spread the noise does not explain (empirical Bayes), so the noise does not pass for
    spread. The sum of the sizes is kept (`p.noised_seats`) for the fill rate."""
    rows = p.reader.rows(_section_sql(p, student_rows, enrollment_cap(p)))
    cap = float(enrollment_cap(p))
    sizes = p.guard.noised_sums(SECTIONS, {str(r["section"]): float(r["n"]) for r in rows},
                                cap) or {}
    levels = sorted({str(r["level"]) for r in rows})
    seats = p.guard.noised_sums(SECTIONS + "/seats", {
        level: float(sum(r["n"] for r in rows if str(r["level"]) == level))
        for level in levels}, cap) or {}
    query = p.guard.budget.queries.get(SECTIONS)
    noise_var = 2 * (query.scale if query else 0.0) ** 2  # a Laplace(b) variance: 2b²
    hist: dict[tuple, dict[int, int]] = {}
    p.noised_seats = 0.0
    for level in levels:
        mine = [r for r in rows if str(r["level"]) == level]
        noised = np.array([sizes.get(str(r["section"]), 0.0) for r in mine])
        mean = max(seats.get(level, 0.0), 0.0) / len(mine)
        spread = float(noised.var(ddof=1)) if len(mine) > 1 else 0.0
        keep = max(0.0, 1.0 - noise_var / spread) if spread > 0 else 0.0
        shrunk = np.maximum(np.round(mean + keep * (noised - noised.mean())), 0).astype(int)
        p.noised_seats += float(shrunk.sum())
        cell = hist.setdefault((mine[0]["level"],), {})
        for n in shrunk.tolist():
            cell[n] = cell.get(n, 0) + 1
    return hist


def _section_sql(p, student_rows: str, cap: int) -> str:
    """SELECT section, level, n: each section's students, a person in ≤ `cap` sections."""
    r = p.reader
    level = r.col_or_null("course_offering", "course_level", "text", "o")
    return (f"SELECT s.course_section_id AS section, {level} AS level, COUNT(x.person) AS n "
            f"FROM {r.rel('course_section')} AS s JOIN {r.rel('course_offering')} AS o "
            f"ON s.course_offering_id = o.course_offering_id LEFT JOIN (SELECT * FROM (SELECT "
            f"person, section, ROW_NUMBER() OVER (PARTITION BY person ORDER BY section) AS nth"
            f" FROM ({student_rows}) AS e) AS numbered WHERE nth <= {cap}) AS x "
            f"ON x.section = s.course_section_id GROUP BY s.course_section_id, {level}")
