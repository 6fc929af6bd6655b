"""The source's structure: children per parent where the generator's plan needs more than
the default template's counts, learned with aggregate SQL (zeros included, LEFT JOIN).

- `structure.terms_per_student`: in how many terms a student is enrolled (participation over
  time: a source whose students attend one term of four gives 1, not 4);
- `structure.entry_term` and `structure.term_span`: the position of a student's first term
  and how many terms lie from it to their last, each given their number of terms;
- `tables.course_section_enrollment.rows.per_section`: students per section, zeros included,
  by the offering's course level (the plan sizes offerings from it, so a source with 1,500
  students per offering gives 1,500, whatever its sections' declared capacity);
- `rows.per_offering` and `rows.section_share`: students per offering and how an offering's
  students split over its sections (distributions/_offering_sizes.py);
- `rows.per_student_term` from the enrollments themselves when the source has no
  person__academic_term table (courses per student per term, unconditional);
- `tables.learner_activity.rows.per_grandparent`: activities per course offering over all
  its groups, zeros included (a course's total is its own shape: 4, 5 or 6 assignments, not
  a sum of independent per-group draws; a student's results number its course's total).

Each count rests on the people or parent rows behind it and passes the profile's privacy
guard like any other distribution.
"""

from __future__ import annotations

from distributions._calendar import season_of
from distributions._estimators import Cell, Missing, value_counts
from distributions._noisy_counts import noised_section_sizes
from distributions._offering_sizes import per_offering, section_share

ENROLLMENT = "course_section_enrollment"
# the course structure: parents whose children the plan sizes the institution by
COURSE_PARENTS = frozenset(("academic_term", "course_offering", "course_section",
                            "learner_activity_group", "wiki", "discussion", "module"))
COURSE_CHILDREN = frozenset(("course_section", ENROLLMENT, "learner_activity_group",
                             "learner_activity", "wiki_page", "discussion", "discussion_entry",
                             "module", "module_item", "file", "quiz"))
PER_SECTION = f"/tables/{ENROLLMENT}/rows/per_section"
PER_OFFERING = "/tables/learner_activity/rows/per_grandparent"


def structure_part(p, profile: dict) -> None:
    """Learn participation, section sizes and (without person__academic_term) courses per
    student-term; each part that the source cannot tell keeps the default, with a note."""
    for what, learn in (("/structure/terms_per_student", _terms_per_student),
                        ("/structure/entry_term", _entry_term),
                        ("/structure/term_span", _term_span),
                        (PER_SECTION, _per_section),
                        (f"/tables/{ENROLLMENT}/rows/per_offering",
                         lambda p, profile: per_offering(p, profile, _student_rows(p))),
                        (f"/tables/{ENROLLMENT}/rows/section_share",
                         lambda p, profile: section_share(p, profile, _student_rows(p))),
                        (f"/tables/{ENROLLMENT}/rows/per_student_term", _per_student_term),
                        (PER_OFFERING, _activities_per_offering)):
        try:
            learn(p, profile)
        except Missing as missing:
            p.notes.append(f"{what}: kept the default ({missing})")


def _student_rows(p) -> str:
    """SELECT person, section, offering, term of every student enrollment."""
    r = p.reader
    role = r.col(ENROLLMENT, "role", "text", "e")
    term = r.col("course_offering", "academic_term_id", "number", "o")
    return (f"SELECT e.person_id AS person, e.course_section_id AS section, "
            f"s.course_offering_id AS offering, {term} AS term "
            f"FROM {r.rel(ENROLLMENT)} AS e JOIN {r.rel('course_section')} AS s "
            f"ON e.course_section_id = s.course_section_id JOIN {r.rel('course_offering')} "
            f"AS o ON s.course_offering_id = o.course_offering_id WHERE {role} = 'Student'")


def _terms_per_student(p, profile: dict) -> None:
    base = (f"SELECT COUNT(DISTINCT term) AS v FROM ({_student_rows(p)}) AS x "
            "GROUP BY person")
    counts = value_counts(p.reader, base).get((), {})
    path = "/structure/terms_per_student"
    hist = p.guard.histogram(path, {int(v): c for v, c in counts.items() if v})
    spec = p.guard.categorical(path, hist, text=False, nodata=False,
                               noise=False) if hist else None  # noised once, just above
    if spec is None:
        raise Missing("no enrolled student survives the privacy rules")
    profile.setdefault("structure", {})["terms_per_student"] = spec
    mean = sum(i["value"] * i["p"] for i in spec["values"]) / sum(i["p"] for i in spec["values"])
    p.notes.append(f"/structure/terms_per_student: students are enrolled in {mean:.2f} of the "
                   f"source's {p.counts.get('academic_term', 0)} term(s) on average; runs keep "
                   "that participation")


def _entry_term(p, profile: dict) -> None:
    """The position (0 = the source's first term, by begin date) of each student's first
    term, given how many terms lie from it to their last: where in the run students enter
    (a student spanning all four terms of four enters in the first; pooled shares cut to
    the room each span leaves would crowd students into the early terms)."""
    _by_terms(p, profile, "entry_term", "MIN(k.position)", "term_span",
              "MAX(k.position) - MIN(k.position)", 0)


def _term_span(p, profile: dict) -> None:
    """How many terms lie from a student's first term to their last, given how many they
    attend (a student of two terms of four may take the first and the last): the plan
    spreads their terms over it instead of placing them one after another."""
    _by_terms(p, profile, "term_span", "MAX(k.position) - MIN(k.position)",
              "terms_per_student", "COUNT(DISTINCT x.term)", 2)


def _by_terms(p, profile: dict, name: str, value: str, given: str, group: str,
              fewest: int) -> None:
    """/structure/NAME: a per-student `value` over the positions of their terms, given
    another (`group`, at least `fewest`), as a conditional on `given`."""
    r = p.reader
    begin = r.col("academic_term", "term_begin_date", "time", "t")
    base = (f"SELECT {group} AS g0, {value} AS v FROM "
            f"({_student_rows(p)}) AS x JOIN (SELECT t.academic_term_id AS term, "
            f"DENSE_RANK() OVER (ORDER BY {begin}) - 1 AS position "
            f"FROM {r.rel('academic_term')} AS t) AS k ON x.term = k.term GROUP BY x.person")
    path = f"/structure/{name}"
    by_terms = {(int(g[0]),): c for g, c in value_counts(r, base, 1).items()
                if g[0] is not None and g[0] >= fewest}
    pooled: dict = {}
    for counts in by_terms.values():
        for v, c in counts.items():
            pooled[v] = pooled.get(v, 0) + c
    otherwise = _positions(p, path, pooled)
    if otherwise is None:
        raise Missing(f"no student of {fewest} or more terms survives the privacy rules")
    cells = {g: _positions(p, f"{path}/cells[{g[0]}]", c) for g, c in by_terms.items()}
    spec = p._conditional(path, {"given": [given]}, cells, otherwise,
                          {g: sum(c.values()) for g, c in by_terms.items()})
    profile.setdefault("structure", {})[name] = spec if spec["cells"] else otherwise


def _positions(p, path: str, counts: dict) -> dict | None:
    """A categorical of term positions (each count a student) under the privacy rules."""
    hist = p.guard.histogram(path, {int(v): c for v, c in counts.items() if v is not None})
    return p.guard.categorical(path, hist, text=False, nodata=False,
                               noise=False) if hist else None


def _per_section(p, profile: dict) -> None:
    """Students per section, zeros included, conditioned on the offering's course level."""
    r = p.reader
    level = r.col_or_null("course_offering", "course_level", "text", "o")
    base = (f"SELECT {level} AS g0, COUNT(x.person) AS v FROM {r.rel('course_section')} AS s "
            f"JOIN {r.rel('course_offering')} AS o ON s.course_offering_id = "
            f"o.course_offering_id LEFT JOIN ({_student_rows(p)}) AS x "
            f"ON x.section = s.course_section_id GROUP BY s.course_section_id, {level}")
    counts = value_counts(r, base, 1) if p.guard.epsilon is None else \
        noised_section_sizes(p, _student_rows(p))  # under ε: bounded per person, noised
    hist = {g: institutional(p, "course_section", c) for g, c in counts.items()}
    template = {"integer": True}
    pooled: dict = {}
    for counts in hist.values():
        for v, c in counts.items():
            pooled[int(v)] = pooled.get(int(v), 0) + c
    otherwise = p._count_distribution(PER_SECTION + "/otherwise", pooled, template)
    if otherwise is None:
        raise Missing("too few sections to publish their sizes")
    cells = {g: p._count_distribution(f"{PER_SECTION}/cells[{g[0]}]", c, template)
             for g, c in hist.items() if g[0] is not None}
    spec = p._conditional(PER_SECTION, {"given": ["course_offering_id.course_level"]},
                          cells, otherwise, {g: sum(c.values()) for g, c in hist.items()})
    if spec is not None and not spec["cells"]:
        spec = otherwise
    profile["tables"][ENROLLMENT]["rows"]["per_section"] = spec


def _activities_per_offering(p, profile: dict) -> None:
    """Activities per course offering, zeros included (institutional counts: courses are not
    people)."""
    r = p.reader
    if not r.has("learner_activity", "course_offering_id"):
        raise Missing("learner_activity has no course_offering_id")
    base = (f"SELECT COUNT(a.course_offering_id) AS v FROM {r.rel('course_offering')} AS o "
            f"LEFT JOIN {r.rel('learner_activity')} AS a ON a.course_offering_id = "
            f"o.course_offering_id GROUP BY o.course_offering_id")
    counts = institutional(p, "course_offering", value_counts(r, base).get((), {}))
    spec = p._count_distribution(PER_OFFERING, counts, {"integer": True})
    if spec is None:
        raise Missing("too few offerings to publish their activities")
    profile["tables"]["learner_activity"].setdefault("rows", {})["per_grandparent"] = spec


def _per_student_term(p, profile: dict) -> None:
    """Courses per student per term from the enrollments (only without person__academic_term:
    with it, the profiler's load-conditioned estimate stands)."""
    if p.reader.has("person__academic_term", "person_id"):
        return
    base = (f"SELECT COUNT(DISTINCT offering) AS v FROM ({_student_rows(p)}) AS x "
            "GROUP BY person, term")
    counts = value_counts(p.reader, base).get((), {})
    path = f"/tables/{ENROLLMENT}/rows/per_student_term"
    spec = p._count_distribution(path, counts, {"integer": True})
    if spec is None:
        raise Missing("too few student-terms to publish")
    profile["tables"][ENROLLMENT]["rows"]["per_student_term"] = spec
    p.notes.append(f"{path}: the source has no person__academic_term: courses per student "
                   "per term are counted from the enrollments (not conditioned on load)")


def students_per_term(p) -> float:
    """Mean distinct students per term (terms that have students)."""
    row = p.reader.rows(f"SELECT COUNT(DISTINCT person) AS n FROM ({_student_rows(p)}) AS x "
                        "GROUP BY term")
    return sum(r["n"] for r in row) / len(row) if row else 0.0


def mean_count(p, path: str, hist: dict) -> dict | None:
    """When too few parents leave a children-per-parent distribution unpublishable: only its
    mean (an aggregate over every parent), as the two whole counts around it, so a source
    with four sections of 1,500 students still sizes its sections at 1,500."""
    parents = sum(float(c) for c in hist.values())
    if parents <= 0 or path.split("/")[2] not in COURSE_CHILDREN:
        return None
    mean = sum(int(v) * float(c) for v, c in hist.items()) / parents
    low = int(mean // 1)
    p.guard.record(path, "suppressed", f"too few parent rows (k={p.guard.k}) to publish the "
                   "distribution: only its mean is published", parents)
    if mean - low < 1e-9:
        return {"kind": "categorical", "values": [{"value": low, "p": 1.0}]}
    share = round(mean - low, 6)
    return {"kind": "categorical", "values": [{"value": low, "p": round(1 - share, 6)},
                                              {"value": low + 1, "p": share}]}


def child_keys(p, table: str, parent: str) -> list[tuple[str, str]]:
    """(parent key column, child column) pairs joining `table` to its layout parent."""
    parent_key = p.entities[parent].primary_key
    if len(parent_key) > 1:  # a link table's children carry the same composite key
        return [(c, c) for c in parent_key]
    fk = next(f.column for f in p.entities[table].foreign_keys if f.parent == parent)
    for column in (parent_key[0], fk):
        if not p.reader.has(parent if column == parent_key[0] else table, column):
            raise Missing(f"key column {column} is not in the source")
    return [(parent_key[0], fk)]


def has_people(p, table: str) -> bool:
    """Whether a person stands behind each row of `table` (else its values are institutional:
    a section's capacity, an assignment's due date)."""
    return "person_id" in {c.name for c in p.entities[table].columns}


def institutional(p, parent: str, hist: dict) -> dict:
    """Children-per-parent counts as the privacy guard weighs them: the course structure's
    parents (terms, offerings, sections, groups, content containers) are institutional — their
    counts are never suppressed for being few; other parents keep bare counts (k parents: a
    person's table, or the catalog's few careers and programs, whose shape three parents
    cannot tell, so the default's stays)."""
    if parent not in COURSE_PARENTS:
        return hist
    return {v: Cell(float(c)) for v, c in hist.items()}


def scale_part(p, profile: dict, fte: float | None) -> None:
    """The source's offerings per term per FTE: a run of `--fte F` has F times as many;
    and per term type, where the calendar names the source's terms (a source teaching 7
    courses in its autumn terms and 5 in its spring ones keeps both)."""
    if not fte:
        p.notes.append("/structure: offerings per term are sized from seats per section "
                       "(the source's FTE is unknown)")
        return
    r = p.reader
    term = r.col("course_offering", "academic_term_id", "number", "o")
    row = r.rows(f"SELECT COUNT(*) AS n, COUNT(DISTINCT {term}) AS terms "
                 f"FROM {r.rel('course_offering')} AS o")[0]
    if row["terms"]:
        # a ratio to FTE: profiles merged by FTE-weighted means pool it correctly
        profile.setdefault("structure", {})["offerings_per_fte"] = round(
            row["n"] / row["terms"] / fte, 6)
    by_type = _offerings_by_term_type(p, profile)
    if by_type:
        profile["structure"]["offerings_per_fte_by_term_type"] = {
            name: round(n / fte, 6) for name, n in by_type.items()}
        p.notes.append("/structure/offerings_per_fte_by_term_type: offerings per term by "
                       "term type: " + ", ".join(f"{name} {n:g}" for name, n in by_type.items()))


def _offerings_by_term_type(p, profile: dict) -> dict[str, float]:
    """Mean offerings per term of each term type the calendar holds (terms with offerings
    only, as the mean over all terms counts them); empty when the source's terms cannot be
    typed (no dates: the calendar is the default's)."""
    r = p.reader
    if not r.has("academic_term", "term_begin_date"):
        return {}
    begin = r.sql.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    kind = r.col_or_null("academic_term", "term_type", "text", "t")
    rows = r.rows(f"SELECT {kind} AS term_type, {begin} AS b, COUNT(*) AS n "
                  f"FROM {r.rel('course_offering')} AS o JOIN {r.rel('academic_term')} AS t "
                  f"ON o.academic_term_id = t.academic_term_id WHERE {begin} IS NOT NULL "
                  f"GROUP BY t.academic_term_id, {kind}, {begin}")
    counts: dict[str, list[int]] = {}
    for row in rows:
        name = row["term_type"] or season_of(row["b"])
        counts.setdefault(name, []).append(int(row["n"]))
    known = profile["calendar"]["term_types"]
    if not counts or any(name not in known for name in counts):
        return {}
    # sorted by name: the engine returns groups in no fixed order (BigQuery, DuckDB's
    # threads), and the profile's bytes and notes must not depend on it
    return {name: sum(n) / len(n) for name, n in sorted(counts.items())}


def drop_stale_cells(p, profile: dict) -> None:
    """Cells of a conditional kept from the default whose `when` names a value the source's
    own distribution of that column no longer has (the default's Faculty cells of role_status
    when the source's roles are Student and Teacher) are dropped, with a note, so that every
    profile the profiler writes passes the generator's contract."""
    tables = profile["tables"]
    for name, spec in tables.items():
        for column, dist in spec["columns"].items():
            values = {g: _values_of(p, tables, name, g) for g in dist.get("given", [])}
            dropped = _prune(dist, values)
            if dropped:
                p.notes.append(f"/tables/{name}/columns/{column}: {dropped} cell(s) of the "
                               "default dropped (their condition names a value the source "
                               "does not have)")


def _values_of(p, tables: dict, table: str, given: str) -> set | None:
    fk, _, column = given.partition(".")
    if column:
        parent = p.entities[table].parent_of(fk) if table in p.entities else None
        table = p.registry[parent].name if parent else None
    else:
        column = fk
    dist = tables.get(table, {}).get("columns", {}).get(column) if table else None
    if not dist or dist["kind"] != "categorical":
        return None
    return {i["value"] for i in dist["values"]}


def _prune(dist: dict, values: dict) -> int:
    if dist.get("kind") != "conditional":
        return 0
    kept = [c for c in dist["cells"] if all(
        values.get(g) is None or c["when"].get(g) in values[g] for g in dist["given"])]
    dropped = len(dist["cells"]) - len(kept)
    dist["cells"] = kept
    return dropped + sum(_prune(c["distribution"], values) for c in kept) + \
        _prune(dist["otherwise"], values)
