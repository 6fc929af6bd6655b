"""The institution beyond its column distributions, estimated with aggregate SQL in the source
engine: its size and staffing (`sizing_part`), its grading scheme (`grading_part`), and the
entity rules' parameters in their units (a due date as a fraction of its term, sections per
session name, campus skew). The calendar is distributions/_calendar.py."""

from __future__ import annotations

from distributions._day_resolution import score_step, spread_scores
from distributions._estimators import (
    Missing,
    Reader,
    Summary,
    keep_default,
    summarize,
    value_counts,
)
from distributions._noisy_grading import noised_gradebook, noised_scheme
from distributions._structure import (
    drop_stale_cells,
    scale_part,
    structure_part,
    students_per_term,
)
from distributions._term_list import MAX_TERMS

NO_DATA = "NoData"  # the load of a student-term the source does not know


def measure_base(p, table: str, name: str, pid: bool = False) -> str:
    """SELECT x for a continuous column, in the unit its rule reads it in (and with `pid`,
    the row's person as pid, for a person-weighted histogram under ε)."""
    r, sql = p.reader, p.sql
    x = "AS x" + (f", {r.col(table, 'person_id', 'key', 't')} AS pid" if pid else "")
    if (table, name) == ("learner_activity", "due_date"):
        return _due_fraction(r)
    if table == "learner_activity_result" and name in ("response_date", "graded_date"):
        later = sql.seconds(r.col(table, name, "time", "t"))
        if name == "response_date":  # hours from the due date to the submission
            earlier = sql.seconds(r.col("learner_activity", "due_date", "time", "a"))
        else:  # hours from the submission to the grading
            earlier = sql.seconds(r.col(table, "response_date", "time", "t"))
        return (f"SELECT ({later} - {earlier}) / 3600.0 {x} FROM {r.rel(table)} AS t "
                f"JOIN {r.rel('learner_activity')} AS a ON t.learner_activity_id = "
                f"a.learner_activity_id WHERE {later} IS NOT NULL AND {earlier} IS NOT NULL")
    if (table, name) == ("learner_activity_result", "published_score"):
        return _score_fraction(r, x)
    return f"SELECT {r.col(table, name, 'number', 't')} {x} FROM {r.rel(table)} AS t"


def _score_fraction(r: Reader, x: str) -> str:
    """SELECT x: each graded score as a fraction of its points; on a step (whole points),
    spread over it (distributions/_day_resolution.py), within the source's own range."""
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    found = score_step(r)
    spread = spread_scores(r.sql, score, points, found[0]) if found else score
    # the lowest and highest scores stay where they are: a full mark is an atom (a sixth of
    # an Open University-style source's marks), which spread would blur into the marks below
    # only graded work: a score missing for submitted work is simply not counted
    return (f"SELECT CASE WHEN _f IN (_lo, _hi) THEN _f ELSE LEAST(GREATEST(_y, _lo), _hi) END "
            f"{x} FROM (SELECT t.*, {score} / {points} AS _f, {spread} / {points} AS _y, "
            f"MIN({score} / {points}) OVER () AS _lo, MAX({score} / {points}) OVER () "
            f"AS _hi FROM {r.rel('learner_activity_result')} AS t JOIN "
            f"{r.rel('learner_activity')} AS a ON t.learner_activity_id = "
            f"a.learner_activity_id WHERE {points} > 0 AND {score} IS NOT NULL) AS t")


def _due_fraction(r: Reader) -> str:
    """Fraction of the term (0..1, clipped) at which an assignment is due; null if none."""
    s = r.sql
    due = s.seconds(r.col("learner_activity", "due_date", "time", "a"))
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "term"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "term"))
    return (f"SELECT CASE WHEN d IS NULL THEN NULL ELSE LEAST(GREATEST((d - b) / (e - b), 0), 1)"
            f" END AS x FROM (SELECT {due} AS d, {begin} AS b, {end} AS e "
            f"FROM {r.rel('learner_activity')} AS a JOIN {r.rel('course_offering')} AS o "
            f"ON a.course_offering_id = o.course_offering_id JOIN {r.rel('academic_term')} "
            f"AS term ON o.academic_term_id = term.academic_term_id) AS f WHERE e > b")


def session_names(p) -> tuple[dict]:
    """Counts of sections per session *name* (the ids never leave the source)."""
    r = p.reader
    name = r.col("academic_session", "name", "text", "s")
    r.col("course_section", "academic_session_id", "number", "t")
    base = (f"SELECT {name} AS v FROM {r.rel('course_section')} AS t LEFT JOIN "
            f"{r.rel('academic_session')} AS s ON t.academic_session_id = s.academic_session_id")
    return (value_counts(r, base).get((), {}),)


def campus_skew(p, table: str, name: str) -> dict | None:
    """Skew s of the rank-size curve of sections per campus (weights 1/rank^s), by maximum
    likelihood; campuses without sections count as zeros."""
    import numpy as np
    from scipy import optimize

    r = p.reader
    column = r.col(table, name, "number", "t")
    rows = r.rows(f"SELECT COUNT(*) AS n FROM {r.rel(table)} AS t WHERE {column} IS NOT NULL "
                  f"GROUP BY {column}")
    counts = sorted((row["n"] for row in rows), reverse=True)
    counts += [0] * max(p.counts.get("campus", 0) - len(counts), 0)
    if len(counts) < 2:
        return None
    n, ranks = np.array(counts, float), np.arange(1, len(counts) + 1)

    def loss(s: float) -> float:
        w = ranks ** -s
        return -float(np.dot(n, np.log(w / w.sum())))

    skew = optimize.minimize_scalar(loss, bounds=(0.0, 10.0), method="bounded").x
    return {"kind": "foreign_key", "skew": round(float(skew), 4)}


def sizing_part(p, profile: dict) -> None:
    """The structure (children per parent, participation), settings.fte, settings.terms,
    instructors per 100 students, section fill rate."""
    structure_part(p, profile)
    drop_stale_cells(p, profile)
    keep_default(p, "/settings/terms", lambda: profile.setdefault("settings", {}).update(
        terms=min(max(p.counts["academic_term"], 1), MAX_TERMS)))
    keep_default(p, "/settings/fte", lambda: _fte(p, profile))
    keep_default(p, "/structure", lambda: scale_part(p, profile, getattr(p, "source_fte", None)))
    keep_default(p, "/institution", lambda: _ratios(p, profile["institution"]))


def _fte(p, profile: dict) -> None:
    """The FTE of one term: each student-term weighted by its load, averaged over the terms
    with students (so a run of the source's terms at this FTE has the source's size)."""
    r = p.reader
    if not r.has("person__academic_term", "eot_academic_load"):
        _fte_from_enrollments(p, profile)
        return
    load = r.col("person__academic_term", "eot_academic_load", "text", "t")
    rows = r.rows(
        f"SELECT {load} AS v, COUNT(*) AS n, COUNT(DISTINCT t.academic_term_id) AS terms "
        f"FROM {r.rel('person__academic_term')} AS t GROUP BY 1")
    terms = max((row["terms"] for row in rows), default=0)
    by_load = profile["institution"]["fte_by_load"]
    fte = sum(row["n"] * by_load.get(row["v"], by_load.get(NO_DATA, 0.5)) for row in rows)
    if terms:  # a person has ≤ one row per term: they move the sum by ≤ max load × terms
        bound = max(by_load.values()) * max(p.counts.get("academic_term", terms), terms)
        fte = (p.guard.noised_sums("/settings/fte", {"fte": fte}, bound) or {"fte": 0})["fte"]
    if fte > 0 and terms:
        profile["settings"]["fte"] = p.source_fte = round(fte / terms, 1)


def _fte_from_enrollments(p, profile: dict) -> None:
    """Without person__academic_term: the mean distinct students per term, at the FTE per
    student of the profile's load mix (the plan turns it back into the same students)."""
    students = students_per_term(p)
    if students <= 0:
        raise Missing("no student enrollments")
    loads = profile["tables"]["person__academic_term"]["columns"]["eot_academic_load"]
    by_load = profile["institution"]["fte_by_load"]
    total = sum(i["p"] for i in loads["values"])
    per_student = sum(i["p"] * by_load.get(i["value"], 0.5) for i in loads["values"]) / total
    profile["settings"]["fte"] = p.source_fte = round(students * per_student, 1)
    p.notes.append("/settings/fte: the source has no person__academic_term: the FTE is its "
                   "mean students per term at the default load mix")



def _ratios(p, institution: dict) -> None:
    r = p.reader
    role = r.col("course_section_enrollment", "role", "text", "t")
    person = r.col("course_section_enrollment", "person_id", "number", "t")
    row = r.rows(
        f"SELECT COUNT(DISTINCT CASE WHEN {role} = 'Student' THEN {person} END) AS students, "
        f"COUNT(DISTINCT CASE WHEN {role} <> 'Student' THEN {person} END) AS staff, "
        f"SUM(CASE WHEN {role} = 'Student' THEN 1 ELSE 0 END) AS seats "
        f"FROM {r.rel('course_section_enrollment')} AS t")[0]
    # one person is one student and one staff member at most: L1 sensitivity 2
    row = {**row, **(p.guard.noised_sums("/institution/instructors_per_100_students", {
        "students": row["students"] or 0, "staff": row["staff"] or 0}, 2.0) or
        {"students": 0, "staff": 0})}
    if row["students"] > 0 and row["staff"] > 0:
        institution["instructors_per_100_students"] = round(
            100 * row["staff"] / row["students"], 4)
    capacity = r.scalar(f"SELECT AVG({r.col('course_section', 'max_enrollment', 'number')}) "
                        f"FROM {r.rel('course_section')} AS t")
    sections = p.counts["course_section"]
    # under ε: the seats are the sum of the noised students per section (post-processing)
    seats = row["seats"] if p.guard.epsilon is None else getattr(p, "noised_seats", 0)
    if capacity and seats:
        fill = float(seats) / sections / float(capacity)
        institution["section_fill_rate"] = round(min(max(fill, 0.01), 1.5), 4)


def grading_part(p, profile: dict) -> None:
    """Grading scheme: per letter, the floor of its k-th lowest final score (a cut-off that
    rests on at least k students); letters with fewer than k students are left out."""
    keep_default(p, "/grading_scheme", lambda: _grading(p, profile))
    keep_default(p, "/gradebook", lambda: _gradebook(p, profile))
    keep_default(p, "/tables/learner_activity_group/totals/group_weight",
                 lambda: _weight_totals(p, profile))


def _weight_totals(p, profile: dict) -> None:
    """What a course's assignment-group weights add up to (100 in Canvas's percent scheme,
    200 or a points scale elsewhere): the distribution over offerings with a weight, so the
    generator rescales each course's drawn weights to a drawn total instead of to 100.
    Courses are not people: published as they are, like the weights themselves."""
    r = p.reader
    weight = r.col("learner_activity_group", "group_weight", "number", "t")
    offering = r.col("learner_activity_group", "course_offering_id", "text", "t")
    base = (f"SELECT SUM({weight}) AS x FROM {r.rel('learner_activity_group')} AS t "
            f"WHERE {weight} IS NOT NULL GROUP BY {offering}")
    summary = summarize(r, base, p.guard.k).get((), Summary(0, 0))
    dist = p.guard.continuous("/tables/learner_activity_group/totals/group_weight", summary,
                              {"kind": "continuous", "integer": False}, people=False)
    if dist is None:
        raise Missing("no course has a group weight")
    spec = profile["tables"].setdefault("learner_activity_group", {"columns": {}})
    spec.setdefault("totals", {})["group_weight"] = dist
    p.notes.append(f"/tables/learner_activity_group/totals/group_weight: weights per course "
                   f"add up to {dist.get('median', dist.get('value')):g} "
                   f"(median over {summary.n:,} courses)")


DIFFERENT_CURRENT = 0.01  # share of grades whose current score differs from the final below
#                           which the source's current score is its final score


def _gradebook(p, profile: dict) -> None:
    """How the source's gradebook treats withdrawn students (still scored, or not) and what
    its current score is (Canvas's graded work only, or the final score itself); each is
    decided on at least k students, else the generator's default (Canvas) stays."""
    r, k = p.reader, p.guard.k
    final = r.col("course_grade", "le_final_score", "number", "g")
    # a source with the final score alone still tells whether the withdrawn keep theirs
    current = r.col_or_null("course_grade", "le_current_score", "number", "g")
    status = r.col("course_section_enrollment", "role_status", "text", "e")
    withdrawn = ", ".join(f"'{s}'" for s in profile["engagement"]["withdrawn_role_statuses"])
    person = r.col("course_grade", "person_id", "key", "g")
    joined = (f"SELECT {final} AS f, {current} AS c, {status} IN ({withdrawn}) AS w, "
              f"{person} AS pid FROM {r.rel('course_grade')} AS g "
              f"JOIN {r.rel('course_section_enrollment')} AS e "
              "ON g.course_section_id = e.course_section_id AND g.person_id = e.person_id")
    if p.guard.epsilon is not None:  # noised person counts, not exact majorities
        row = {name: max(v, 0.0) for name, v in noised_gradebook(p, joined).items()}
    else:
        row = r.rows(
            f"SELECT SUM(CASE WHEN w THEN 1 ELSE 0 END) AS w, SUM(CASE WHEN w AND f IS NOT "
            f"NULL THEN 1 ELSE 0 END) AS ws, SUM(CASE WHEN c IS NOT NULL AND f IS NOT NULL "
            f"THEN 1 ELSE 0 END) AS b, SUM(CASE WHEN ABS(c - f) > 0.005 THEN 1 ELSE 0 END) "
            f"AS d FROM ({joined}) AS x")[0]
    rules = {}
    if (row["w"] or 0) >= k:
        rules["withdrawn_scored"] = row["ws"] / row["w"] > 0.5
    if (row["b"] or 0) >= k:
        rules["current_is_final"] = row["d"] / row["b"] < DIFFERENT_CURRENT
    what = "people" if p.guard.epsilon is not None else "grades"
    if not r.has("course_grade", "le_current_score"):
        p.notes.append("/gradebook: column course_grade.le_current_score is not in the source: "
                       "the current score follows Canvas's rule; le_final_score alone decides "
                       "whether the withdrawn are scored")
    if rules:
        profile["gradebook"] = rules
        p.notes.append(f"/gradebook: {rules} (withdrawn students scored in {row['ws'] or 0:,.0f}"
                       f" of {row['w'] or 0:,.0f} {what}; current differs from final in "
                       f"{row['d'] or 0:,.0f} of {row['b'] or 0:,.0f})")


def _grading(p, profile: dict) -> None:
    r, k = p.reader, p.guard.k
    grade = r.col("course_grade", "final_grade", "text", "t")
    score = r.col("course_grade", "le_final_score", "number", "t")
    if p.guard.epsilon is not None and r.has("course_grade", "person_id"):
        # no order statistic under ε: cut-offs from a noised histogram (_noisy_grading)
        pid = r.col("course_grade", "person_id", "key", "t")
        scheme = noised_scheme(p, f"SELECT {grade} AS grade, {score} AS s, {pid} AS pid "
                                  f"FROM {r.rel('course_grade')} AS t")
        if scheme is None:
            p.notes.append("/grading_scheme: kept the default (fewer than two letters "
                           "survive the noise)")
        else:
            profile["grading_scheme"] = scheme
        return
    rows = r.rows(
        f"WITH g AS (SELECT {grade} AS grade, {score} AS s FROM {r.rel('course_grade')} AS t), "
        "ranked AS (SELECT grade, s, ROW_NUMBER() OVER (PARTITION BY grade ORDER BY s) AS rn, "
        "COUNT(*) OVER (PARTITION BY grade) AS n FROM g WHERE grade IS NOT NULL AND s IS NOT "
        f"NULL) SELECT grade, MAX(n) AS n, MAX(CASE WHEN rn = {k} THEN s END) AS cut "
        "FROM ranked GROUP BY grade")
    kept = sorted(((row["grade"], row["cut"]) for row in rows if row["n"] >= k),
                  key=lambda item: -item[1])
    small = sum(row["n"] for row in rows if row["n"] < k)
    if small:
        p.guard.record("/grading_scheme", "suppressed",
                       f"letter grade(s) with fewer than k={k} students", small)
    if len(kept) < 2:
        p.notes.append("/grading_scheme: kept the default (too few graded students)")
        return
    scheme = [{"grade": g, "min_score": float(int(cut))} for g, cut in kept]
    scheme[-1]["min_score"] = 0.0  # the lowest letter takes every score below the others
    profile["grading_scheme"] = scheme
