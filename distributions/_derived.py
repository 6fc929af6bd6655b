"""Derived parameters: what a profile needs beyond column distributions, estimated with
aggregate SQL in the source engine — rule parameters in their units (a due date as a fraction
of its term), the institution's size and staffing, the grading scheme, the calendar."""

from __future__ import annotations

from distributions._estimators import Missing, Reader, value_counts
from distributions._structure import (
    drop_stale_cells,
    scale_part,
    structure_part,
    students_per_term,
)


def measure_base(p, table: str, name: str) -> str:
    """SELECT x for a continuous column, in the unit its rule reads it in."""
    r, sql = p.reader, p.sql
    if (table, name) == ("learner_activity", "due_date"):
        return _due_fraction(r)
    if table == "learner_activity_result" and name in ("response_date", "graded_date"):
        later = sql.seconds(r.col(table, name, "time", "t"))
        if name == "response_date":  # hours from the due date to the submission
            earlier = sql.seconds(r.col("learner_activity", "due_date", "time", "a"))
        else:  # hours from the submission to the grading
            earlier = sql.seconds(r.col(table, "response_date", "time", "t"))
        return (f"SELECT ({later} - {earlier}) / 3600.0 AS x FROM {r.rel(table)} AS t "
                f"JOIN {r.rel('learner_activity')} AS a ON t.learner_activity_id = "
                f"a.learner_activity_id WHERE {later} IS NOT NULL AND {earlier} IS NOT NULL")
    if (table, name) == ("learner_activity_result", "published_score"):
        score = r.col(table, name, "number", "t")
        points = r.col("learner_activity", "points_possible", "number", "a")
        # only graded work: a score missing for submitted work is simply not counted
        return (f"SELECT {score} / {points} AS x FROM {r.rel(table)} AS t "
                f"JOIN {r.rel('learner_activity')} AS a ON t.learner_activity_id = "
                f"a.learner_activity_id WHERE {points} > 0 AND {score} IS NOT NULL")
    return f"SELECT {r.col(table, name, 'number', 't')} AS x FROM {r.rel(table)} AS t"


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


def _guarded(p, what: str, estimate) -> None:
    try:
        estimate()
    except Missing as missing:
        p.notes.append(f"{what}: kept the default ({missing})")


def sizing_part(p, profile: dict) -> None:
    """The structure (children per parent, participation), settings.fte, settings.terms,
    instructors per 100 students, section fill rate."""
    structure_part(p, profile)
    drop_stale_cells(p, profile)
    _guarded(p, "/settings/terms", lambda: profile.setdefault("settings", {}).update(
        terms=min(max(p.counts["academic_term"], 1), 40)))
    _guarded(p, "/settings/fte", lambda: _fte(p, profile))
    _guarded(p, "/structure", lambda: scale_part(p, profile, getattr(p, "source_fte", None)))
    _guarded(p, "/institution", lambda: _ratios(p, profile["institution"]))


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


NO_DATA = "NoData"
MAX_TERM_WEEKS = 60  # a term longer than this is not a term (the schema's limit too)


def _ratios(p, institution: dict) -> None:
    r = p.reader
    role = r.col("course_section_enrollment", "role", "text", "t")
    person = r.col("course_section_enrollment", "person_id", "number", "t")
    row = r.rows(
        f"SELECT COUNT(DISTINCT CASE WHEN {role} = 'Student' THEN {person} END) AS students, "
        f"COUNT(DISTINCT CASE WHEN {role} <> 'Student' THEN {person} END) AS staff, "
        f"SUM(CASE WHEN {role} = 'Student' THEN 1 ELSE 0 END) AS seats "
        f"FROM {r.rel('course_section_enrollment')} AS t")[0]
    if row["students"] and row["staff"]:
        institution["instructors_per_100_students"] = round(
            100 * row["staff"] / row["students"], 4)
    capacity = r.scalar(f"SELECT AVG({r.col('course_section', 'max_enrollment', 'number')}) "
                        f"FROM {r.rel('course_section')} AS t")
    sections = p.counts["course_section"]
    if capacity and row["seats"]:
        fill = float(row["seats"]) / sections / float(capacity)
        institution["section_fill_rate"] = round(min(max(fill, 0.01), 1.5), 4)


def grading_part(p, profile: dict) -> None:
    """Grading scheme: per letter, the floor of its k-th lowest final score (a cut-off that
    rests on at least k students); letters with fewer than k students are left out."""
    _guarded(p, "/grading_scheme", lambda: _grading(p, profile))
    _guarded(p, "/gradebook", lambda: _gradebook(p, profile))


DIFFERENT_CURRENT = 0.01  # share of grades whose current score differs from the final below
#                           which the source's current score is its final score


def _gradebook(p, profile: dict) -> None:
    """How the source's gradebook treats withdrawn students (still scored, or not) and what
    its current score is (Canvas's graded work only, or the final score itself); each is
    decided on at least k students, else the generator's default (Canvas) stays."""
    r, k = p.reader, p.guard.k
    final = r.col("course_grade", "le_final_score", "number", "g")
    current = r.col("course_grade", "le_current_score", "number", "g")
    status = r.col("course_section_enrollment", "role_status", "text", "e")
    withdrawn = ", ".join(f"'{s}'" for s in profile["engagement"]["withdrawn_role_statuses"])
    row = r.rows(
        f"SELECT SUM(CASE WHEN w THEN 1 ELSE 0 END) AS w, SUM(CASE WHEN w AND f IS NOT NULL "
        f"THEN 1 ELSE 0 END) AS ws, SUM(CASE WHEN c IS NOT NULL AND f IS NOT NULL THEN 1 "
        f"ELSE 0 END) AS b, SUM(CASE WHEN ABS(c - f) > 0.005 THEN 1 ELSE 0 END) AS d "
        f"FROM (SELECT {final} AS f, {current} AS c, {status} IN ({withdrawn}) AS w "
        f"FROM {r.rel('course_grade')} AS g JOIN {r.rel('course_section_enrollment')} AS e "
        "ON g.course_section_id = e.course_section_id AND g.person_id = e.person_id) AS x")[0]
    rules = {}
    if (row["w"] or 0) >= k:
        rules["withdrawn_scored"] = row["ws"] / row["w"] > 0.5
    if (row["b"] or 0) >= k:
        rules["current_is_final"] = row["d"] / row["b"] < DIFFERENT_CURRENT
    if rules:
        profile["gradebook"] = rules
        p.notes.append(f"/gradebook: {rules} (withdrawn students scored in {row['ws'] or 0:,} "
                       f"of {row['w'] or 0:,} grades; current differs from final in "
                       f"{row['d'] or 0:,} of {row['b'] or 0:,})")


def _grading(p, profile: dict) -> None:
    r, k = p.reader, p.guard.k
    grade = r.col("course_grade", "final_grade", "text", "t")
    score = r.col("course_grade", "le_final_score", "number", "t")
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


def calendar_part(p, profile: dict) -> None:
    """The calendar from academic_term (and academic_session) dates."""
    _guarded(p, "/calendar", lambda: build_calendar(p, profile))


def term_rows(r: Reader) -> list[dict]:
    """Each term's type and begin/end dates (institution calendar facts, no people)."""
    s = r.sql
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "t"))
    kind = r.col("academic_term", "term_type", "text", "t")
    session = (r.col("academic_term", "session_type", "text", "t")
               if r.has("academic_term", "session_type") else "NULL")
    return r.rows(f"SELECT {kind} AS term_type, {session} AS session_type, {begin} AS b, "
                  f"{end} AS e FROM {r.rel('academic_term')} AS t WHERE {begin} IS NOT NULL "
                  f"AND {end} IS NOT NULL ORDER BY b")


def session_rows(r: Reader) -> list[dict]:
    """Per session name: its offset from the term start and its length, in days."""
    s = r.sql
    sb = s.seconds(r.col("academic_session", "begin_date", "time", "x"))
    se = s.seconds(r.col("academic_session", "instr_end_date", "time", "x"))
    tb = s.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    te = s.seconds(r.col("academic_term", "instr_end_date", "time", "t"))
    name = r.col("academic_session", "name", "text", "x")
    kind = r.col("academic_session", "session_type", "text", "x")
    return r.rows(
        f"SELECT {name} AS name, MAX({kind}) AS session_type, COUNT(*) AS n, "
        f"AVG(({sb} - {tb}) / 86400.0) AS offset_days, AVG(({se} - {sb}) / 86400.0) AS days, "
        f"AVG(({te} - {se}) / 86400.0) AS to_end FROM {r.rel('academic_session')} AS x "
        f"JOIN {r.rel('academic_term')} AS t ON x.academic_term_id = t.academic_term_id "
        f"WHERE {name} IS NOT NULL GROUP BY 1")


# ---- calendar ---------------------------------------------------------------------------------
def build_calendar(p, profile: dict) -> None:
    """first_term, per term type its start, length and successor, and the sessions."""
    terms = [_term(row) for row in term_rows(p.reader)]
    if not terms or any(t["term_type"] is None for t in terms):
        raise Missing("academic_term has no usable term types and dates")
    default = p.default["calendar"]
    calendar = profile["calendar"]
    calendar["first_term"] = {"term_type": terms[0]["term_type"], "year": terms[0]["begin"].year}
    calendar["term_types"] = _term_types(terms, default["term_types"])
    types = [t["session_type"] for t in terms if t["session_type"]]
    if types:
        calendar["session_type"] = max(set(types), key=types.count)
    p.notes.append("/calendar: breaks and exams are kept from the default profile's term types")
    if p.reader.has("academic_session", "name"):
        sessions = [_session(row) for row in session_rows(p.reader)]
        if sessions:
            calendar["sessions"] = sorted(sessions, key=lambda s: (s["weeks"] is not None,
                                                                   s["first_week"], s["name"]))


def _term(row: dict) -> dict:
    import datetime as dt

    begin = dt.datetime.fromtimestamp(row["b"], dt.UTC).date()
    end = dt.datetime.fromtimestamp(row["e"], dt.UTC).date()
    return {"term_type": row["term_type"], "session_type": row["session_type"],
            "begin": begin, "end": end}


def _term_types(terms: list[dict], default: dict) -> dict:
    successors: dict[str, list[str]] = {}
    new_year: dict[str, bool] = {}
    for a, b in zip(terms, terms[1:], strict=False):
        successors.setdefault(a["term_type"], []).append(b["term_type"])
        new_year[b["term_type"]] = new_year.get(b["term_type"], False) or \
            b["begin"].year > a["begin"].year
    names = list(dict.fromkeys(t["term_type"] for t in terms))
    out = {}
    for name in names:
        mine = [t for t in terms if t["term_type"] == name]
        following = successors.get(name) or [default.get(name, {}).get("next", names[0])]
        nxt = max(set(following), key=following.count)
        nxt = nxt if nxt in names else names[0]
        weeks = round(sum((t["end"] - t["begin"]).days for t in mine) / len(mine) / 7)
        spec = {"begins_on_or_after": min(t["begin"].strftime("%m-%d") for t in mine),
                "weeks": min(max(weeks, 2), MAX_TERM_WEEKS), "next": nxt,
                "year_offset": int(new_year.get(name, default.get(name, {}).get(
                    "year_offset", 0)))}
        if any(t["begin"].weekday() != 0 for t in mine):  # not all on a Monday: the date
            spec["starts_monday"] = False
        _keep_breaks(spec, default.get(name, {}))
        out[name] = spec
    for name, spec in out.items():  # a cycle that never changes year would repeat a year
        if spec["next"] == name:
            spec["year_offset"] = 1
    return out


def _keep_breaks(spec: dict, default: dict) -> None:
    spec["breaks"] = [b for b in default.get("breaks", []) if b["week"] <= spec["weeks"]]
    spec["exams"] = [{**e, "week": min(e["week"], spec["weeks"])}
                     for e in default.get("exams", [])]


def _session(row: dict) -> dict:
    spans = row["offset_days"] < 7 and row["to_end"] <= 1
    weeks = None if spans else max(round((row["days"] + 3) / 7), 1)
    return {"name": row["name"], "session_type": row["session_type"] or "Regular",
            "first_week": max(round(row["offset_days"] / 7) + 1, 1), "weeks": weeks}
