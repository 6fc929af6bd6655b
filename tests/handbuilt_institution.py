"""The tables of a hand-built institution (see handbuilt.py): `Shape`, what one looks like, and
`institution`, every UDP table of one drawn with numpy/pandas from its shape."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

KEY_BASE = 9_100_000_000  # source keys: large and unlike the generator's row numbers
LETTERS = (("A", 93), ("A-", 90), ("B+", 87), ("B", 83), ("B-", 80), ("C+", 77), ("C", 73),
           ("C-", 70), ("D", 60), ("F", 0))


@dataclass(frozen=True)
class Shape:
    """What a hand-built institution looks like."""

    seed: int = 0
    terms: int = 2
    term_weeks: int = 16
    offerings_per_term: int = 8
    sections_per_offering: tuple[int, int] = (1, 3)   # inclusive range
    students: int = 500
    terms_per_student: tuple[float, ...] = (0.0, 1.0)  # P(1 term), P(2 terms), ...; last: all
    courses_per_term: tuple[int, int] = (2, 4)
    groups_per_offering: tuple[int, int] = (2, 4)
    activities_per_group: tuple[int, int] = (1, 3)
    weight_total: float = 100.0
    unsubmitted: float = 0.07
    withdrawn: float = 0.06
    withdrawal_by_score: float = 0.0   # logit slope of withdrawal on -latent
    withdrawn_rows_dropped: bool = False  # withdrawn: rows for some work only (or none)
    person_terms: bool = True          # write person__academic_term
    campuses: int = 3
    extra_columns: bool = False
    first_term: tuple[str, int, str] = ("Fall", 2024, "08-26")


# ---- the institution ------------------------------------------------------------------------
def institution(shape: Shape) -> dict[str, pd.DataFrame]:
    """Every table of a hand-built institution of this shape, keyed by UDP table name."""
    rng = np.random.default_rng(shape.seed)
    t: dict[str, pd.DataFrame] = {}
    t["campus"] = pd.DataFrame({"campus_id": KEY_BASE + 10 + np.arange(shape.campuses),
                                "name": [f"Campus {i}" for i in range(shape.campuses)],
                                "code": [f"C{i}" for i in range(shape.campuses)]})
    t["academic_term"] = _terms(shape)
    t["course_offering"] = _offerings(shape, rng, t["academic_term"])
    t["course_section"] = _sections(shape, rng, t["course_offering"], t["campus"])
    people, student_terms = _students(shape, rng, t["academic_term"])
    enrollments, teachers = _enrollments(shape, rng, student_terms, t)
    t["person"] = _people(shape, rng, people, teachers)
    if shape.person_terms:
        t["person__academic_term"] = _person_terms(rng, student_terms)
    groups, activities = _activities(shape, rng, t)
    results = _results(shape, rng, enrollments, activities, groups, t)
    t["course_section_enrollment"] = enrollments.drop(columns=["latent", "offering", "term"])
    t["learner_activity_group"], t["learner_activity"] = groups, activities
    t["learner_activity_result"] = results.drop(columns=["section", "ratio", "weight"])
    t["course_grade"] = _grades(results, enrollments)
    if shape.extra_columns:
        _extras(rng, t, enrollments)
    return t


def _terms(shape: Shape) -> pd.DataFrame:
    kind, year, start = shape.first_term
    other = {"Fall": "Spring", "Spring": "Fall"}
    begins = {"Fall": "08-26", "Spring": "01-13"} if kind == "Fall" else \
        {"Spring": "02-01", "Fall": "10-01"}
    rows = []
    for i in range(shape.terms):
        month, day = map(int, (start if i == 0 else begins[kind]).split("-"))
        begin = dt.datetime(year, month, day)
        end = begin + dt.timedelta(weeks=shape.term_weeks, days=-3)
        rows.append({"academic_term_id": KEY_BASE + 900 + i, "name": f"{kind} {year}",
                     "term_type": kind, "term_year": year, "session_type": "Semester",
                     "term_begin_date": begin, "term_end_date": end,
                     "instr_begin_date": begin, "instr_end_date": end - dt.timedelta(days=7)})
        year += kind == "Fall"  # Fall is followed by the next calendar year's Spring
        kind = other[kind]
    return pd.DataFrame(rows)


def _offerings(shape: Shape, rng, terms: pd.DataFrame) -> pd.DataFrame:
    n = shape.terms * shape.offerings_per_term
    level = rng.choice(["100", "200", "300", "400"], n, p=[0.4, 0.3, 0.2, 0.1])
    family = rng.choice(["27", "52", "26", "45", "11"], n)
    number = [f"{lv[0]}{i % 100:02d}" for i, lv in enumerate(level)]
    return pd.DataFrame({
        "course_offering_id": KEY_BASE + 5000 + np.arange(n),
        "academic_term_id": np.repeat(terms["academic_term_id"].to_numpy(),
                                      shape.offerings_per_term),
        "cip_family": family, "subject": [f"S{f}" for f in family], "number": number,
        "title": [f"Hand-built course {i}" for i in range(n)], "course_level": level,
        "available_credits": rng.choice([3, 4, 30, 60], n, p=[0.5, 0.2, 0.2, 0.1]),
        "le_status": rng.choice(["available", "completed"], n, p=[0.9, 0.1])})


def _sections(shape: Shape, rng, offerings: pd.DataFrame, campus: pd.DataFrame) -> pd.DataFrame:
    lo, hi = shape.sections_per_offering
    per = rng.integers(lo, hi + 1, len(offerings))
    n = int(per.sum())
    return pd.DataFrame({
        "course_section_id": KEY_BASE + 20_000 + np.arange(n),
        "course_offering_id": np.repeat(offerings["course_offering_id"].to_numpy(), per),
        "section_number": [f"{i:03d}" for i in range(n)],
        "status": "active", "delivery_mode": rng.choice(["FaceToFace", "Online"], n),
        "max_enrollment": rng.integers(25, 60, n) if hi > 1 else np.full(n, 2000),
        "campus_id": rng.choice(campus["campus_id"].to_numpy(), n)})


def _students(shape: Shape, rng, terms: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Student keys and their student-term rows (entry term, then consecutive terms)."""
    n, n_terms = shape.students, len(terms)
    shares = np.asarray(shape.terms_per_student, float)
    how_many = np.minimum(1 + rng.choice(len(shares), n, p=shares / shares.sum()), n_terms)
    if shares[-1] == 1.0 and len(shares) > 1:  # "all" shape: every student in every term
        how_many[:] = n_terms
    entry = (rng.random(n) * (n_terms - how_many + 1)).astype(int)
    person = np.repeat(np.arange(n), how_many)
    term = np.repeat(entry, how_many) + _ordinal(how_many)
    keys = KEY_BASE + 100_000 + np.arange(n)
    return keys, pd.DataFrame({"person": person, "person_id": keys[person],
                               "term": term, "academic_term_id":
                               terms["academic_term_id"].to_numpy()[term]})


def _ordinal(counts: np.ndarray) -> np.ndarray:
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum())) - starts


def _enrollments(shape: Shape, rng, student_terms: pd.DataFrame, t: dict):
    """Student rows (distinct offerings of their term) and one teacher row per section."""
    sections, offerings = t["course_section"], t["course_offering"]
    lo, hi = shape.courses_per_term
    k = np.minimum(rng.integers(lo, hi + 1, len(student_terms)), shape.offerings_per_term)
    row = np.repeat(np.arange(len(student_terms)), k)
    term = student_terms["term"].to_numpy()[row]
    # distinct offerings: a random rotation of the term's offerings, first k of them
    start = rng.integers(0, shape.offerings_per_term, len(student_terms))[row]
    offering = term * shape.offerings_per_term + (start + _ordinal(k)) % shape.offerings_per_term
    off_keys = offerings["course_offering_id"].to_numpy()[offering]
    section = _pick_section(rng, sections, off_keys)
    latent = rng.normal(size=len(row)) * 0.6 + rng.normal(size=len(student_terms))[row] * 0.8
    withdraw_logit = np.log(shape.withdrawn / (1 - shape.withdrawn)) - \
        shape.withdrawal_by_score * latent
    withdrawn = rng.random(len(row)) < 1 / (1 + np.exp(-withdraw_logit))
    students = pd.DataFrame({
        "course_section_id": section, "person_id": student_terms["person_id"].to_numpy()[row],
        "role": "Student", "role_status": np.where(withdrawn, "Withdrawn", "Enrolled"),
        "enrollment_status": np.where(withdrawn, "Inactive", "Active"),
        "latent": latent, "offering": off_keys, "term": term})
    n_sections = len(sections)
    teacher_keys = KEY_BASE + 400_000 + np.arange(max(n_sections // 2, 2))
    teachers = pd.DataFrame({
        "course_section_id": sections["course_section_id"].to_numpy(),
        "person_id": teacher_keys[np.arange(n_sections) % len(teacher_keys)],
        "role": "Teacher", "role_status": "Enrolled", "enrollment_status": "Active",
        "latent": np.nan, "offering": sections["course_offering_id"].to_numpy(), "term": -1})
    return pd.concat([students, teachers], ignore_index=True), teacher_keys


def _pick_section(rng, sections: pd.DataFrame, offering_keys: np.ndarray) -> np.ndarray:
    by_offering = sections.groupby("course_offering_id")["course_section_id"].apply(np.array)
    u = rng.random(len(offering_keys))
    return np.array([by_offering[o][int(x * len(by_offering[o]))]
                     for o, x in zip(offering_keys, u, strict=True)])


def _people(shape: Shape, rng, students: np.ndarray, teachers: np.ndarray) -> pd.DataFrame:
    keys = np.concatenate([students, teachers])
    n = len(keys)
    return pd.DataFrame({"person_id": keys, "name": [f"Person {i}" for i in range(n)],
                         "first_name": [f"First{i}" for i in range(n)],
                         "last_name": [f"Last{i}" for i in range(n)],
                         "sex": rng.choice(["Female", "Male"], n, p=[0.55, 0.45])})


def _person_terms(rng, student_terms: pd.DataFrame) -> pd.DataFrame:
    n = len(student_terms)
    load = rng.choice(["FullTime", "HalfTime"], n, p=[0.8, 0.2])
    return pd.DataFrame({
        "person_id": student_terms["person_id"], "academic_term_id":
        student_terms["academic_term_id"], "eot_academic_load": load,
        "cen_academic_level": rng.choice(["Freshman", "Sophomore", "Junior", "Senior"], n),
        "gpa_credits_units_hours": np.where(load == "FullTime", 15.0, 6.0)})


def _activities(shape: Shape, rng, t: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    offerings, terms = t["course_offering"], t["academic_term"]
    lo, hi = shape.groups_per_offering
    per = rng.integers(lo, hi + 1, len(offerings))
    n = int(per.sum())
    offering = np.repeat(offerings["course_offering_id"].to_numpy(), per)
    raw = rng.uniform(0.5, 1.5, n)
    totals = np.bincount(np.repeat(np.arange(len(offerings)), per), weights=raw)
    weight = np.round(shape.weight_total * raw / np.repeat(totals, per), 2)
    groups = pd.DataFrame({
        "learner_activity_group_id": KEY_BASE + 30_000 + np.arange(n),
        "course_offering_id": offering,
        "name": np.array(["Assignments", "Quizzes", "Exams", "Projects"])[_ordinal(per) % 4],
        "group_weight": weight, "status": "available", "drop_lowest_amount": 0,
        "drop_highest_amount": 0})
    alo, ahi = shape.activities_per_group
    acts = rng.integers(alo, ahi + 1, n)
    m = int(acts.sum())
    act_offering = np.repeat(offering, acts)
    term_of = offerings.set_index("course_offering_id")["academic_term_id"]
    begin = terms.set_index("academic_term_id")["term_begin_date"]
    starts = begin[term_of[act_offering].to_numpy()].to_numpy()
    fraction = rng.uniform(0.1, 0.95, m)
    due = starts + pd.to_timedelta(fraction * shape.term_weeks * 7, unit="D").floor("D") + \
        pd.Timedelta(hours=23, minutes=59)
    return groups, pd.DataFrame({
        "learner_activity_id": KEY_BASE + 40_000 + np.arange(m),
        "course_offering_id": act_offering,
        "learner_activity_group_id": np.repeat(groups["learner_activity_group_id"], acts)
        .to_numpy(),
        "title": [f"Work {i}" for i in range(m)], "due_date": due,
        "points_possible": rng.choice([10.0, 20.0, 100.0], m), "status": "published",
        "visibility": "everyone"})


def _results(shape: Shape, rng, enrollments: pd.DataFrame, activities: pd.DataFrame,
             groups: pd.DataFrame, t: dict) -> pd.DataFrame:
    """One row per student enrollment × assignment of its course."""
    students = enrollments[enrollments["role"] == "Student"]
    pairs = students[["course_section_id", "person_id", "latent", "offering", "role_status"]] \
        .merge(activities[["learner_activity_id", "course_offering_id", "due_date",
                           "points_possible", "learner_activity_group_id"]],
               left_on="offering", right_on="course_offering_id")
    pairs = pairs.merge(groups[["learner_activity_group_id", "group_weight"]],
                        on="learner_activity_group_id")
    n = len(pairs)
    latent = pairs["latent"].to_numpy()
    ratio = np.clip(0.72 + 0.12 * latent + rng.normal(0, 0.08, n), 0, 1)
    threshold = np.quantile(rng.normal(size=100_000) * 0.5 - latent.mean() * 0.0,
                            shape.unsubmitted) if shape.unsubmitted > 0 else -np.inf
    missing = (0.5 * latent + rng.normal(0, 0.5, n) < threshold) | \
        ((pairs["role_status"] == "Withdrawn").to_numpy() & (rng.random(n) < 0.6))
    if shape.unsubmitted == 0:
        missing[:] = False
    status = np.where(missing, "unsubmitted", "graded")
    response = pairs["due_date"] - pd.to_timedelta(rng.uniform(0, 72, n), unit="h")
    points = pairs["points_possible"].to_numpy()
    kept = _kept_rows(shape, rng, pairs) if shape.withdrawn_rows_dropped else np.ones(n, bool)
    return pd.DataFrame({
        "learner_activity_result_id": KEY_BASE + 1_000_000 + np.arange(n),
        "learner_activity_id": pairs["learner_activity_id"], "person_id": pairs["person_id"],
        "response_date": response.where(~missing), "grading_status": status,
        "published_score": np.where(missing, np.nan, np.round(ratio * points, 2)),
        "graded_date": (response + pd.to_timedelta(rng.uniform(2, 120, n), unit="h"))
        .where(~missing),
        "gradebook_status": "true",
        "section": pairs["course_section_id"], "ratio": np.where(missing, 0.0, ratio),
        "weight": pairs["group_weight"]})[kept]


def _kept_rows(shape: Shape, rng, pairs: pd.DataFrame) -> np.ndarray:
    """A withdrawn enrollment keeps each row with a probability drawn per enrollment from
    U(-0.25, 0.8) (clipped at 0: about a fifth keep none); the others keep every row."""
    enrollment = pd.factorize(pairs["person_id"].astype(str) + "/" +
                              pairs["course_section_id"].astype(str))[0]
    keep = np.clip(rng.uniform(-0.25, 0.8, enrollment.max() + 1), 0, 1)[enrollment]
    withdrawn = (pairs["role_status"] == "Withdrawn").to_numpy()
    return ~withdrawn | (rng.random(len(pairs)) < keep)


def _grades(results: pd.DataFrame, enrollments: pd.DataFrame) -> pd.DataFrame:
    """Final score: the weight-averaged fraction of points (missing work as zero)."""
    scored = results.assign(w=results["weight"] * results["ratio"])
    by = scored.groupby(["section", "person_id"])
    frame = (100 * by["w"].sum() / by["weight"].sum()).rename("le_final_score").reset_index()
    frame = frame.rename(columns={"section": "course_section_id"})
    frame["le_final_score"] = frame["le_final_score"].round(2)
    frame["le_current_score"] = frame["le_final_score"]
    cuts = np.array([c for _, c in LETTERS])
    letters = np.array([g for g, _ in LETTERS])
    frame["final_grade"] = letters[np.argmax(frame["le_final_score"].to_numpy()[:, None]
                                             >= cuts[None, :], axis=1)]
    frame["gpa_cumulative_excluding_course_grade"] = np.round(
        np.clip(frame["le_final_score"] / 25, 0, 4), 2)
    return frame


def _extras(rng, t: dict, enrollments: pd.DataFrame) -> None:
    """Demographic and outcome columns tied to the student's mean latent (so to scores)."""
    students = enrollments[enrollments["role"] == "Student"]
    mean_latent = students.groupby("person_id")["latent"].mean()
    person = t["person"]
    z = person["person_id"].map(mean_latent).fillna(0).to_numpy()
    noise = rng.normal(0, 0.7, len(person))
    person["region"] = np.array(["North", "South", "East", "West", "Wales"])[
        np.digitize(z + noise, [-0.8, -0.2, 0.3, 0.9])]
    person["age_band"] = np.where(z + noise > 0.4, "35-55", np.where(z + noise > -1.0,
                                                                     "0-35", "55<="))
    person["disability"] = np.where(z + rng.normal(0, 1, len(person)) < -1.3, "Y", "N")
    person["imd_band"] = np.array(["0-10%", "10-20%", "20-40%", "40-60%", "60-100%"])[
        np.digitize(z + noise, [-1.0, -0.4, 0.2, 0.8])]
    enrollment = t["course_section_enrollment"]
    latent = enrollments["latent"].to_numpy()
    outcome = np.where(latent > 0.9, "Distinction", np.where(latent > -0.5, "Pass", "Fail"))
    outcome = np.where(enrollment["role_status"] == "Withdrawn", "Withdrawn", outcome)
    enrollment["final_result"] = np.where(enrollment["role"] == "Student", outcome, None)
    day = np.round(-60 + 25 * np.nan_to_num(latent) + rng.normal(0, 20, len(enrollment)))
    enrollment["registration_day"] = np.where(enrollment["role"] == "Student", day, np.nan)
