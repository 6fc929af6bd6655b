"""How an offering's students spread over its sections, learned with aggregate SQL.

Sections sized one at a time (`rows.per_section`, by course level) make an offering's size
the sum of independent section draws: an offering of three sections came out three times an
offering of one, where a source whose students choose courses, not sections, fills each
course alike and splits it over its sections (the hand-built `extra_columns` source: 361–397
students in each offering of 1–3 sections; generated 182–619, students-per-section KS 0.43).
So the profile also holds:

- `tables.course_section_enrollment.rows.per_offering`: students per course offering that
  has a section, zeros included, by the offering's course level;
- `tables.course_section_enrollment.rows.section_share`: a section's students × its
  offering's sections / the offering's students (1 = an even split), over the sections of
  offerings with two or more sections and some students.

The generator weighs a section by its offering's drawn size × its drawn share, normalised
within the offering (pipeline/generate/_rules/enrollment.py). Sections and offerings are
institutional parents: their counts are not suppressed for being few (as per_section's).
Under ε neither is learned (the generator then weighs sections by per_section, whose sizes are
bounded per person and noised: distributions/_noisy_counts.py).
"""

from __future__ import annotations

from distributions._estimators import Cell, Missing, summarize, value_counts

ENROLLMENT = "course_section_enrollment"
PER_OFFERING = f"/tables/{ENROLLMENT}/rows/per_offering"
SECTION_SHARE = f"/tables/{ENROLLMENT}/rows/section_share"


def per_offering(p, profile: dict, students: str) -> None:
    """Students per offering with a section, zeros included, by course level; `students`
    selects person, section, offering, term of every student enrollment."""
    _not_under_epsilon(p)
    r = p.reader
    level = r.col_or_null("course_offering", "course_level", "text", "o")
    base = (f"SELECT {level} AS g0, COUNT(x.person) AS v FROM {r.rel('course_offering')} AS o "
            f"LEFT JOIN ({students}) AS x ON x.offering = o.course_offering_id "
            f"WHERE o.course_offering_id IN (SELECT s.course_offering_id FROM "
            f"{r.rel('course_section')} AS s) GROUP BY o.course_offering_id, {level}")
    # offerings are institutional: their counts are not suppressed for being few
    hist = {g: {v: Cell(float(c)) for v, c in counts.items()}
            for g, counts in value_counts(r, base, 1).items()}
    pooled: dict = {}
    for counts in hist.values():
        for v, c in counts.items():
            pooled[int(v)] = pooled.get(int(v), 0) + c
    template = {"integer": True}
    otherwise = p._count_distribution(PER_OFFERING + "/otherwise", pooled, template)
    if otherwise is None:
        raise Missing("too few offerings to publish their sizes")
    cells = {g: p._count_distribution(f"{PER_OFFERING}/cells[{g[0]}]", c, template)
             for g, c in hist.items() if g[0] is not None}
    spec = p._conditional(PER_OFFERING, {"given": ["course_level"]}, cells, otherwise,
                          {g: sum(c.values()) for g, c in hist.items()})
    profile["tables"][ENROLLMENT]["rows"]["per_offering"] = \
        spec if spec is not None and spec["cells"] else otherwise


def section_share(p, profile: dict, students: str) -> None:
    """A section's share of its offering's students relative to an even split, over the
    sections of offerings with two or more sections and some students."""
    _not_under_epsilon(p)
    r = p.reader
    sizes = (f"SELECT s.course_section_id AS section, s.course_offering_id AS offering, "
             f"COUNT(x.person) AS n FROM {r.rel('course_section')} AS s LEFT JOIN "
             f"({students}) AS x ON x.section = s.course_section_id "
             "GROUP BY s.course_section_id, s.course_offering_id")
    base = (f"SELECT {r.sql.number('a.n')} * b.sections / b.n AS x FROM ({sizes}) AS a JOIN "
            f"(SELECT offering, COUNT(*) AS sections, SUM(n) AS n FROM ({sizes}) AS c "
            "GROUP BY offering) AS b ON a.offering = b.offering "
            "WHERE b.sections >= 2 AND b.n > 0")
    summary = summarize(r, base, p.guard.k).get(())
    spec = p.guard.continuous(SECTION_SHARE, summary, {"family": "empirical"},
                              people=False) if summary else None
    if spec is None:
        raise Missing("no offering with two or more sections has students")
    profile["tables"][ENROLLMENT]["rows"]["section_share"] = spec


def _not_under_epsilon(p) -> None:
    """Missing under ε: the counts behind these are not bounded per person here."""
    if p.guard.epsilon is not None:
        raise Missing("under --epsilon sections are weighed by the noised students per "
                      "section alone")
