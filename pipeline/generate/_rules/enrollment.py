"""Enrollments: students pick sections of their own term, instructors staff every section.

Student rows come first, grouped by student-term (courses per student depend on load); then
staff rows grouped by section. Staff totals follow the profile's role shares, so the role
column of the whole table matches the profile while every section has a teacher.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.generate._column_values import Labels, numeric
from pipeline.generate._engine import Engine, narrow_ints, rule
from pipeline.generate._plan import Children, count_rule, draw_counts
from pipeline.generate._scenario_effects import apply_effects
from pipeline.udp._schema import Table

KEY = "course_section_enrollment"
STUDENT, TEACHER = "Student", "Teacher"


@dataclass
class EnrollmentLayout:
    students: Children        # student rows per person__academic_term row
    sections: np.ndarray      # chosen section of each student row
    staff: Children           # staff rows per course_section row

    @property
    def n_students(self) -> int:
        return self.students.n_rows

    @property
    def n_rows(self) -> int:
        return self.students.n_rows + self.staff.n_rows


def role_shares(engine: Engine) -> dict:
    """The profile's role shares, normalised."""
    values = engine.distribution(KEY, "role")["values"]
    total = sum(item["p"] for item in values)
    return {item["value"]: item["p"] / total for item in values}


@count_rule("enrollments")
def plan_enrollments(engine: Engine, table: Table) -> EnrollmentLayout:
    """Student rows per student-term (by load) and staff rows per section."""
    terms = np.arange(engine.n_rows("person__academic_term"), dtype=np.int64)
    spec = engine.profile["tables"][KEY]["rows"]["per_student_term"]
    counts = draw_counts(engine, KEY, spec, "person__academic_term", terms, terms, len(terms))
    # no more courses than the student's term offers
    offered = engine.layouts["course_offering"].counts[
        engine.layouts["person__academic_term"].other_rows(terms)]
    students = Children.from_counts(np.minimum(counts, offered))
    capacity = _section_capacity(engine)
    sections = _choose_sections(engine, students, capacity)
    staff = Children.from_counts(_staff_counts(engine, students.n_rows, capacity))
    return EnrollmentLayout(students, sections, staff)


def _section_capacity(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """(section rows, weight of each section when students pick one): the students per
    offering and their split over its sections learned from the source, else the students
    per section learned from it (its sizes, zeros included), else the capacity; a deleted
    section keeps a token weight (never all zero in a term)."""
    sections = np.arange(engine.n_rows("course_section"), dtype=np.int64)
    rows = engine.profile["tables"][KEY]["rows"]
    if "per_offering" in rows and "section_share" in rows:
        return sections, _split_offerings(engine, rows, sections) + 1e-6
    learned = rows.get("per_section")
    if learned is not None:
        u = engine.stratified(KEY, "section_size", sections, len(sections))
        try:
            size = np.nan_to_num(numeric(engine.draw(learned, "course_section", sections, u)))
        finally:
            engine.clear()
        return sections, np.maximum(size, 0.0) + 1e-6
    capacity = np.maximum(np.nan_to_num(numeric(
        engine.values("course_section", "max_enrollment", sections))), 1.0)
    deleted = engine.values("course_section", "status", sections).isin(["deleted"])
    return sections, np.where(deleted, capacity * 1e-6, capacity)


def _split_offerings(engine: Engine, rows: dict, sections: np.ndarray) -> np.ndarray:
    """Students of each section: its offering's drawn size (by course level) split over the
    offering's sections by their drawn shares (an offering of one section takes it all)."""
    offering_of = engine.layouts["course_section"].parent_rows(sections)
    offerings = np.arange(engine.n_rows("course_offering"), dtype=np.int64)
    try:
        u = engine.stratified(KEY, "offering_size", offerings, len(offerings))
        size = np.nan_to_num(numeric(engine.draw(rows["per_offering"], "course_offering",
                                                 offerings, u)))
        u = engine.stratified(KEY, "section_share", sections, len(sections))
        share = np.nan_to_num(numeric(engine.draw(rows["section_share"], "course_section",
                                                  sections, u)))
    finally:
        engine.clear()
    share = np.maximum(share, 1e-6)
    total = np.bincount(offering_of, weights=share, minlength=len(offerings))
    return np.maximum(size, 0.0)[offering_of] * share / total[offering_of]


def _choose_sections(engine: Engine, students: Children, seats: tuple) -> np.ndarray:
    """Capacity-weighted sections of the student's term, one per offering per student."""
    sections, capacity = seats
    offering_of = engine.layouts["course_section"].parent_rows(sections)
    term_of_section = engine.layouts["course_offering"].parent_rows(offering_of)
    cumulative = np.concatenate([[0.0], np.cumsum(capacity)])
    first = np.searchsorted(term_of_section, np.arange(engine.n_rows("academic_term") + 1))
    rows = np.arange(students.n_rows, dtype=np.int64)
    group = students.parent_rows(rows)
    term = engine.layouts["person__academic_term"].other_rows(group)
    lo, hi = cumulative[first[term]], cumulative[first[term + 1]]
    chosen = np.empty(len(rows), dtype=np.int64)
    pending, draw = rows, 0
    while len(pending):
        u = engine.uniform(KEY, "course_section_id", pending, draw)
        target = lo[pending] + u * (hi[pending] - lo[pending])
        chosen[pending] = np.searchsorted(cumulative, target, side="right") - 1
        pending, draw = _repeated_offerings(group, offering_of[chosen], pending), draw + 1
        if draw > 64:  # a term with fewer offerings than a student's load: take neighbours
            chosen[pending] = _next_free(group, chosen, offering_of, pending, first[term],
                                         first[term + 1])
            break
    # kept for the whole job, one per student enrollment: int32 where the sections allow
    # (enrollment_sections reads it back into int64, so no value drawn changes)
    return narrow_ints(chosen)


def _repeated_offerings(group: np.ndarray, offering: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Rows (of `among`'s groups) that repeat an offering already taken in their group."""
    order = np.lexsort((np.arange(len(group)), offering, group))
    same = (group[order][1:] == group[order][:-1]) & (offering[order][1:] == offering[order][:-1])
    repeated = order[1:][same]
    return repeated[np.isin(group[repeated], group[among])]


def _next_free(group, chosen, offering_of, pending, term_first, term_stop) -> np.ndarray:
    """Fallback for institutions so small that random redraws keep colliding."""
    result = chosen[pending].copy()
    for i, row in enumerate(pending):
        taken = set(offering_of[chosen[group == group[row]]]) - {offering_of[result[i]]}
        lo, hi = term_first[row], term_stop[row]
        candidate = result[i]
        while offering_of[candidate] in taken:
            candidate = lo + (candidate - lo + 1) % max(hi - lo, 1)
        result[i] = chosen[row] = candidate
    return result


def _staff_counts(engine: Engine, n_student_rows: int, seats: tuple) -> np.ndarray:
    """One teacher per section, plus extra staff in proportion to section capacity."""
    sections, capacity = seats
    share = role_shares(engine).get(STUDENT, 1.0)
    total = round(n_student_rows * (1 - share) / share) if share > 0 else len(sections)
    extra = max(total - len(sections), 0) * capacity / capacity.sum()
    u = engine.uniform(KEY, "staff_rows", sections)
    counts = 1 + np.floor(extra + u).astype(np.int64)
    return np.minimum(counts, engine.facts["instructors"])


def _layout(engine: Engine) -> EnrollmentLayout:
    return engine.layouts[KEY]


def enrollment_sections(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Section row of each enrollment row."""
    layout = _layout(engine)
    student = rows < layout.n_students
    sections = np.empty(len(rows), dtype=np.int64)
    sections[student] = layout.sections[rows[student]]
    sections[~student] = layout.staff.parent_rows(rows[~student] - layout.n_students)
    return sections


def enrollment_people(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Person row of each enrollment row: the student, or an instructor of the offering.

    An offering's staff are consecutive instructors from an offset drawn per offering, so
    the teacher of every section of a course is the same person and no one appears twice
    in a section."""
    layout = _layout(engine)
    student = rows < layout.n_students
    people = np.empty(len(rows), dtype=np.int64)
    student_terms = layout.students.parent_rows(rows[student])
    people[student] = engine.layouts["person__academic_term"].parent_rows(student_terms)
    staff = rows[~student] - layout.n_students
    section = layout.staff.parent_rows(staff)
    ordinal = staff - layout.staff.first_child(section)
    offering = engine.layouts["course_section"].parent_rows(section)
    start, stop = engine.facts["populations"]["instructors"]
    base = (engine.uniform(KEY, "instructor", offering) * (stop - start)).astype(np.int64)
    people[~student] = start + (base + ordinal) % (stop - start)
    return people


@rule("enrollment")
def enrollment(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Section, person and role of enrollment rows."""
    if column == "course_section_id":
        return enrollment_sections(engine, rows)
    if column == "person_id":
        return enrollment_people(engine, rows)
    return _roles(engine, rows)


def _roles(engine: Engine, rows: np.ndarray) -> Labels:
    """Students are Student; each section's first staff row is its Teacher; the rest follow
    the profile's non-student role shares, less the teachers already placed."""
    layout = _layout(engine)
    shares = role_shares(engine)
    categories = tuple(shares)
    n_total = layout.n_rows
    n_sections = engine.n_rows("course_section")
    others = {r: p * n_total for r, p in shares.items() if r != STUDENT}
    if not others:  # a source of students alone: no staff rows were planned
        return Labels(np.full(len(rows), categories.index(STUDENT), np.int32), categories)
    if TEACHER in others:
        others[TEACHER] = max(others[TEACHER] - n_sections, 0.0)
    names = tuple(others)
    weights = np.array([others[n] for n in names]) + 1e-12
    cumulative = np.cumsum(weights / weights.sum())
    u = engine.uniform(KEY, "role", rows)
    drawn = np.array([categories.index(n) for n in names])[
        np.minimum(np.searchsorted(cumulative, u, side="right"), len(names) - 1)]
    staff = np.maximum(rows - layout.n_students, 0)
    first_staff = staff == layout.staff.first_child(layout.staff.parent_rows(staff))
    teacher = categories.index(TEACHER) if TEACHER in categories else drawn
    codes = np.where(rows < layout.n_students, categories.index(STUDENT),
                     np.where(first_staff, teacher, drawn))
    return Labels(codes.astype(np.int32), categories)


def is_student(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Whether each enrollment row is a student's."""
    return rows < _layout(engine).n_students


def engagement(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """The latent engagement of each (student) enrollment row: standard normal, shared in
    part by all of a student's enrollments, driving both scores and activity."""
    latent = _baseline_engagement(engine, rows, engine.fk_rows(KEY, "person_id", rows))
    return apply_effects(engine, "engagement", rows, latent)  # a scenario's shift, if any


def _baseline_engagement(engine: Engine, rows: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Engagement before any scenario effect: the student's part (`student_share` of its
    variance) plus the enrollment's own."""
    share = float(engine.profile["engagement"]["student_share"])
    own = own_engagement(engine, rows)
    return np.sqrt(share) * student_latent(engine, people) + np.sqrt(1 - share) * own


def own_engagement(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """The enrollment's own part of engagement (apart from the student's)."""
    return engine.normal(KEY, "engagement", rows)


def person_engagement(engine: Engine, people: np.ndarray) -> np.ndarray:
    """The latent a person's tied labels (a demographic band) are drawn on: the mean
    engagement of their student enrollments, standardized (its variance is s + (1 − s)/n
    for n enrollments and student share s), so that a band follows the person's mean score
    as far as the source's does — drawn on the student part alone, a band could follow a
    student of one enrollment no closer than √s (real-like source: Cramér's V 0.06–0.15
    short of it). A person without student enrollments (an instructor) takes their own
    part. The mean is of the engagement before a scenario's effects: a scenario's effect
    may read a person's columns, and it changes outcomes, not who the students are."""
    means = engine.facts.get(("person_engagement",))
    if means is None:
        with engine.scratch():
            means = engine.facts[("person_engagement",)] = _mean_engagement(engine)
    drawn = means[people]
    return np.where(np.isnan(drawn), student_latent(engine, people), drawn)


_CHUNK = 1 << 20  # enrollment rows per pass: bounded memory at any size


def _mean_engagement(engine: Engine) -> np.ndarray:
    """Per person row: the standardized mean engagement of their student enrollments (NaN
    for a person without any), computed once per worker over every student enrollment."""
    share = float(engine.profile["engagement"]["student_share"])
    n_people, n_rows = engine.n_rows("person"), _layout(engine).n_students
    total, count = np.zeros(n_people), np.zeros(n_people)
    for first in range(0, n_rows, _CHUNK):
        rows = np.arange(first, min(first + _CHUNK, n_rows), dtype=np.int64)
        people = engine.fk_rows(KEY, "person_id", rows)
        total += np.bincount(people, _baseline_engagement(engine, rows, people), n_people)
        count += np.bincount(people, minlength=n_people)
        engine.clear()
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count / np.sqrt(share + (1 - share) / count)


def activity_latent(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """The latent behind a student enrollment's event rates: its engagement, mixed with noise
    of its own as far as the profile's `engagement.activity_rho` (from the source's
    events-vs-score correlation) says activity follows scores less than fully."""
    latent = engagement(engine, rows)
    rho = float(engine.profile["engagement"].get("activity_rho", 1.0))
    if rho >= 1.0:
        return latent
    return rho * latent + np.sqrt(1 - rho * rho) * engine.normal(KEY, "activity", rows)


def student_latent(engine: Engine, people: np.ndarray) -> np.ndarray:
    """The student's own part of engagement, shared by all their enrollments (and GPA)."""
    return engine.normal("person", "engagement", people)
