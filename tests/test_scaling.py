"""Row counts follow the plan: students-driven tables grow with FTE, the institution's fixed
structure does not; `--terms` adds real, consecutive academic terms."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import connect, generate, manifest

from pipeline import REGISTRY
from pipeline.cli._job import planned_rows
from pipeline.generate import Settings

SIZES = (1_000, 5_000, 20_000)
GROWING = ("person", "course_section_enrollment", "learner_activity_result")
FIXED = ("academic_term", "campus", "academic_organization")


def _q(key: str) -> str:
    return REGISTRY[key].qualified_name


@pytest.fixture(scope="module")
def plans(profile):
    return {fte: planned_rows(profile, Settings(fte=fte, seed=0)) for fte in SIZES}


@pytest.mark.parametrize("key", GROWING)
@pytest.mark.parametrize("small, large", [(1_000, 5_000), (5_000, 20_000), (1_000, 20_000)])
def test_students_driven_tables_grow_linearly(plans, key, small, large):
    ratio = plans[large][_q(key)] / plans[small][_q(key)]
    expected = large / small
    assert abs(ratio / expected - 1) <= 0.15, f"{key}: ×{ratio:.2f} for FTE ×{expected:g}"


@pytest.mark.parametrize("key", FIXED)
def test_fixed_tables_do_not_change(plans, key):
    counts = {fte: plans[fte][_q(key)] for fte in SIZES}
    assert len(set(counts.values())) == 1, counts
    assert counts[SIZES[0]] > 0


def test_fixed_tables_have_expected_sizes(plans, profile):
    plan = plans[SIZES[0]]
    assert plan[_q("academic_term")] == 2  # the default terms
    assert plan[_q("campus")] == profile["tables"]["campus"]["rows"]["count"]


def test_plan_covers_every_table(plans):
    for plan in plans.values():
        assert set(plan) == {t.qualified_name for t in REGISTRY}
        assert all(isinstance(n, int) and n >= 0 for n in plan.values())


def test_plan_is_a_pure_function_of_settings(profile):
    settings = Settings(fte=3_000, seed=5, terms=2)
    assert planned_rows(profile, settings) == planned_rows(profile, settings)


# ---- three terms, generated --------------------------------------------------------------
@pytest.fixture(scope="module")
def three_terms(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("terms3"), "--fte", 400, "--terms", 3,
                    "--seed", 3, "--event-days", 7, "--no-marts", "--no-evaluate",
                    command="run")


@pytest.fixture(scope="module")
def db3(three_terms):
    connection = connect(three_terms)
    yield connection
    connection.close()


def test_generated_counts_equal_plan(db3, three_terms, profile):
    plan = planned_rows(profile, Settings(fte=400, seed=3, terms=3))
    counts = {t.qualified_name: db3.execute(f"SELECT count(*) FROM {t.qualified_name}")
              .fetchone()[0] for t in REGISTRY}
    assert counts == plan
    written = manifest(three_terms)["tables"]
    assert written.pop("event_store.expanded") > 0
    assert written == plan


def test_three_terms_times_students(db3, profile):
    (terms,) = db3.execute(f"SELECT count(*) FROM {_q('academic_term')}").fetchone()
    assert terms == 3
    (students,) = db3.execute(
        f"SELECT count(DISTINCT person_id) FROM {_q('person__academic_term')}").fetchone()
    (rows,) = db3.execute(f"SELECT count(*) FROM {_q('person__academic_term')}").fetchone()
    assert rows == students * 3
    # every student is in every term
    (per_student,) = db3.execute(
        f"SELECT min(n) FROM (SELECT count(DISTINCT academic_term_id) n "
        f"FROM {_q('person__academic_term')} GROUP BY person_id)").fetchone()
    assert per_student == 3


def test_term_dates_are_real(db3):
    terms = db3.execute(
        f"SELECT name, term_type, term_year, term_begin_date, term_end_date, instr_begin_date, "
        f"instr_end_date, le_term_begin_date, le_term_end_date FROM {_q('academic_term')} "
        f"ORDER BY term_begin_date").fetchall()
    names = [t[0] for t in terms]
    assert names == ["Fall 2025", "Spring 2026", "Fall 2026"]
    assert [t[1] for t in terms] == ["Fall", "Spring", "Fall"]
    assert [t[2] for t in terms] == [2025, 2026, 2026]
    begins = [t[3].date() for t in terms]
    assert begins[0] == dt.date(2025, 8, 25)
    assert begins[1] == dt.date(2026, 1, 12)
    assert all(b.weekday() == 0 for b in begins), "terms begin on a Monday"
    for (_, _, _, begin, end, ib, ie, leb, lee) in terms:
        assert begin < end
        assert begin <= ib <= ie <= end
        assert leb == begin.date() and lee == end.date()
        assert (end - begin).days < 7 * 18
    for earlier, later in zip(terms, terms[1:]):
        assert earlier[4] < later[3], f"{earlier[0]} overlaps {later[0]}"


def test_term_ids_follow_term_order(db3):
    rows = db3.execute(f"SELECT academic_term_id FROM {_q('academic_term')} "
                       f"ORDER BY term_begin_date").fetchall()
    ids = [r[0] for r in rows]
    assert ids == sorted(ids)


def test_sessions_lie_inside_their_term(db3):
    (outside,) = db3.execute(
        f"SELECT count(*) FROM {_q('academic_session')} s JOIN {_q('academic_term')} t "
        f"USING (academic_term_id) WHERE s.begin_date < t.term_begin_date "
        f"OR s.end_date > t.term_end_date").fetchone()
    assert outside == 0


def test_every_term_gets_its_first_week_of_events(db3):
    """`--event-days 7`: each of the three terms has events on exactly its first 7 days."""
    rows = db3.execute("""
        SELECT t.name, count(DISTINCT e.event_date),
               min(e.event_date) = CAST(any_value(t.term_begin_date) AS DATE)
        FROM event_store.expanded e
        JOIN context_store_entity.course_offering o
          ON o.course_offering_id = e.course_offering.udp_id
        JOIN context_store_entity.academic_term t USING (academic_term_id)
        GROUP BY 1""").fetchall()
    assert len(rows) == 3
    assert all(days == 7 and starts for _, days, starts in rows), rows
