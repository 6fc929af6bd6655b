"""At full size (20,000 FTE, one shared `generate`), the generated data reproduces the
profile's aggregates: role shares, conditional statuses, activities per assignment group,
grades, and the headcount implied by the academic-load mix."""

from __future__ import annotations

import math

import pytest

from pipeline import REGISTRY

pytestmark = pytest.mark.slow

BIG_FTE = 20_000
ENROLLMENT = REGISTRY["course_section_enrollment"].qualified_name
GRADE = REGISTRY["course_grade"].qualified_name
RESULT = REGISTRY["learner_activity_result"].qualified_name
ACTIVITY = REGISTRY["learner_activity"].qualified_name
GROUP = REGISTRY["learner_activity_group"].qualified_name
SECTION = REGISTRY["course_section"].qualified_name
PERSON_TERM = REGISTRY["person__academic_term"].qualified_name


def _categorical(dist: dict) -> dict:
    total = sum(item["p"] for item in dist["values"])
    return {item["value"]: item["p"] / total for item in dist["values"]}


def _cell(conditional: dict, **when) -> dict:
    for cell in conditional["cells"]:
        if cell["when"] == when:
            return _categorical(cell["distribution"])
    raise KeyError(when)


def _columns(profile, table):
    return profile["tables"][table]["columns"]


def _shares(big, sql: str, params=()) -> dict:
    rows = big.execute(sql, list(params)).fetchall()
    total = sum(n for _, n in rows)
    assert total > 0
    return {value: n / total for value, n in rows}


def _assert_close(observed: dict, expected: dict, tolerance: float):
    for value in set(observed) | set(expected):
        got, want = observed.get(value, 0.0), expected.get(value, 0.0)
        assert abs(got - want) <= tolerance, f"{value}: {got:.4f} vs profile {want:.4f}"


def test_role_shares(big, profile):
    expected = _categorical(_columns(profile, "course_section_enrollment")["role"])
    observed = _shares(big, f"SELECT role, count(*) FROM {ENROLLMENT} GROUP BY role")
    _assert_close(observed, expected, 0.01)


@pytest.mark.parametrize("role", ["Student", "Teacher"])
def test_role_status_given_role(big, profile, role):
    expected = _cell(_columns(profile, "course_section_enrollment")["role_status"], role=role)
    observed = _shares(big, f"SELECT role_status, count(*) FROM {ENROLLMENT} WHERE role = ? "
                            f"GROUP BY role_status", [role])
    _assert_close(observed, expected, 0.02)


@pytest.mark.parametrize("role_status, role", [("Enrolled", "Student"), ("Enrolled", "Teacher"),
                                               ("Withdrawn", "Student")])
def test_enrollment_status_given_role_status_and_role(big, profile, role_status, role):
    expected = _cell(_columns(profile, "course_section_enrollment")["enrollment_status"],
                     role_status=role_status, role=role)
    observed = _shares(big, f"SELECT enrollment_status, count(*) FROM {ENROLLMENT} "
                            f"WHERE role_status = ? AND role = ? GROUP BY enrollment_status",
                       [role_status, role])
    _assert_close(observed, expected, 0.02)


def test_activities_per_group(big, profile):
    spec = profile["tables"]["learner_activity"]["rows"]["per_parent"]
    n_min, n_max, mean, sd, groups = big.execute(
        f"SELECT min(n), max(n), avg(n), stddev_samp(n), count(*) FROM ("
        f"SELECT g.learner_activity_group_id, count(a.learner_activity_id) n FROM {GROUP} g "
        f"LEFT JOIN {ACTIVITY} a USING (learner_activity_group_id) "
        f"GROUP BY g.learner_activity_group_id)").fetchone()
    assert groups > 1000
    assert n_min == spec["min"] == 1
    assert n_max <= spec["max"] == 50
    assert abs(mean / spec["mean"] - 1) <= 0.05, f"mean {mean:.3f} vs {spec['mean']}"
    assert abs(sd / spec["sd"] - 1) <= 0.10, f"sd {sd:.3f} vs {spec['sd']}"


def _grades_with_status(big) -> str:
    return (f"SELECT g.*, e.role_status FROM {GRADE} g JOIN {ENROLLMENT} e "
            f"ON e.course_section_id = g.course_section_id AND e.person_id = g.person_id "
            f"AND e.role = 'Student'")


def test_every_student_enrollment_has_one_grade(big):
    (students,) = big.execute(
        f"SELECT count(*) FROM {ENROLLMENT} WHERE role = 'Student'").fetchone()
    (grades,) = big.execute(f"SELECT count(*) FROM {GRADE}").fetchone()
    (joined,) = big.execute(f"SELECT count(*) FROM ({_grades_with_status(big)})").fetchone()
    assert grades == students == joined


def test_withdrawn_students_have_no_final_grade(big, profile):
    withdrawn = profile["engagement"]["withdrawn_role_statuses"]
    marks = ", ".join("?" for _ in withdrawn)
    n, graded = big.execute(
        f"SELECT count(*), count(*) FILTER (WHERE final_grade IS NOT NULL "
        f"OR le_final_score IS NOT NULL) FROM ({_grades_with_status(big)}) "
        f"WHERE role_status IN ({marks})", withdrawn).fetchone()
    assert n > 100
    assert graded == 0
    n, graded = big.execute(
        f"SELECT count(*), count(*) FILTER (WHERE final_grade IS NOT NULL "
        f"AND le_final_score IS NOT NULL) FROM ({_grades_with_status(big)}) "
        f"WHERE role_status NOT IN ({marks})", withdrawn).fetchone()
    assert graded / n >= 0.9, f"only {graded / n:.3f} of the others have a final grade"


def test_letter_grades_follow_the_grading_scheme(big, profile):
    scheme = sorted(profile["grading_scheme"], key=lambda g: -g["min_score"])
    rows = big.execute(f"SELECT le_final_score, final_grade FROM {GRADE} "
                       f"WHERE le_final_score IS NOT NULL OR final_grade IS NOT NULL").fetchall()
    assert len(rows) > 1000
    wrong = []
    for score, letter in rows:
        expected = None if score is None else next(
            (g["grade"] for g in scheme if score >= g["min_score"]), None)
        if expected != letter:
            wrong.append((score, letter, expected))
    assert not wrong, f"{len(wrong)} mismatches, e.g. {wrong[:5]}"
    letters = {letter for _, letter in rows}
    assert {"A", "B", "C", "F"} <= letters


def test_submissions_correlate_with_final_score(big):
    """More submitted work ⇒ a higher final score: the number of submitted results of an
    enrollment correlates positively with its le_final_score (and, more strongly, the share
    of its assignments it submitted)."""
    by_count, by_share, n = big.execute(
        f"WITH submitted AS ("
        f"  SELECT a.course_offering_id, r.person_id, count(r.response_date) n, "
        f"  count(r.response_date) / count(*) share "
        f"  FROM {RESULT} r JOIN {ACTIVITY} a USING (learner_activity_id) "
        f"  GROUP BY ALL) "
        f"SELECT corr(s.n, g.le_final_score), corr(s.share, g.le_final_score), count(*) "
        f"FROM {GRADE} g JOIN {SECTION} c USING (course_section_id) "
        f"JOIN submitted s ON s.course_offering_id = c.course_offering_id "
        f"AND s.person_id = g.person_id WHERE g.le_final_score IS NOT NULL").fetchone()
    assert n > 1000
    assert by_count > 0, f"correlation of submitted count and final score: {by_count}"
    assert by_share > 0.3, f"correlation of submitted share and final score: {by_share}"


def test_headcount_follows_the_load_mix(big, profile):
    fte_by_load = profile["institution"]["fte_by_load"]
    loads = _categorical(_columns(profile, "person__academic_term")["eot_academic_load"])
    fte_per_student = sum(p * fte_by_load[load] for load, p in loads.items())
    expected = BIG_FTE / fte_per_student
    (students,) = big.execute(
        f"SELECT count(DISTINCT person_id) FROM {PERSON_TERM}").fetchone()
    assert math.isclose(students, expected, rel_tol=0.01), f"{students} vs {expected:.0f}"


def test_load_shares(big, profile):
    expected = _categorical(_columns(profile, "person__academic_term")["eot_academic_load"])
    observed = _shares(big, f"SELECT eot_academic_load, count(*) FROM {PERSON_TERM} "
                            f"GROUP BY eot_academic_load")
    _assert_close(observed, expected, 0.01)
