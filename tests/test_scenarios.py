"""Scenarios through the CLI: the worked wellbeing example recovered by OLS inside the
institution, counterfactual twins (one seed, several scenarios: identical rows wherever the
scenarios do not reach), the effects where they reach, the scenario recorded in the manifest
and the table comments. Bad files: tests/test_scenario_files.py; BigQuery labels:
tests/test_scenario_publish.py."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
import statsmodels.api as sm
from conftest import connect, manifest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
WELLBEING = ROOT / "distributions" / "scenarios" / "wellbeing.yaml"
REDESIGN = ROOT / "distributions" / "scenarios" / "course_redesign.yaml"
SMALL = ["--fte", "300", "--terms", "1", "--event-days", "3", "--no-marts", "--no-evaluate"]

# a twin of the wellbeing scenario that also reaches into the gradebook: a tutoring flag on
# enrollments, an effect of it on every graded result's score (+5 points of 100), and a
# course grade column derived from the flag and the grade
# (plus an override of an existing column by a family, and a weekly check-in per enrollment)
TUTORING = WELLBEING.read_text().replace("name: wellbeing", "name: tutoring").replace(
    "\ntables:\n", """
tables:
  weekly_checkin:
    grain: {entity: course_section_enrollment, per: week}
    columns:
      mood:
        family: Categorical
        values: [{value: low, p: 0.3}, {value: ok, p: 0.5}, {value: high, p: 0.2}]
      hours: {family: Gamma, shape: 2, scale: 1.5}
      intro_course: {expression: "course_offering.course_level == '100'"}
""", 1) + """
columns:
  course_section_enrollment:
    tutoring: {family: Bernoulli, p: 0.2}
    enrollment_status:
      family: Categorical
      values: [{value: Active, p: 0.5}, {value: Completed, p: 0.5}]
  course_grade:
    tutored_score:
      expression: >-
        where(le_final_score > 0,
              le_final_score + 5 * course_section_enrollment.tutoring, 0)
effects:
  tutoring_adds_five_points:
    target: score
    add: 5 * course_section_enrollment.tutoring
  tutoring_halves_withdrawal:
    target: withdrawal
    multiply: where(tutoring, 0.5, 1)
"""
# "STEM courses have 30 % more video events": an event_rate effect on one tool (kaltura)
STEM = "o.cip_family in ('11', '14', '26', '27', '40')"
STEM_VIDEO = """name: stem_video
effects:
  stem_video_up_thirty_percent:
    target: event_rate
    tool: kaltura
    multiply: >-
      where((course_offering.cip_family == '11') or (course_offering.cip_family == '14')
      or (course_offering.cip_family == '26') or (course_offering.cip_family == '27')
      or (course_offering.cip_family == '40'), 1.3, 1)
"""
ENTITY, EVENTS = "context_store_entity", "event_store.expanded"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- the worked example and its twin ------------------------------------------------------
@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> Path:
    """One command, four scenarios, one seed: OUT/wellbeing, OUT/tutoring,
    OUT/course_redesign and OUT/stem_video."""
    tmp = tmp_path_factory.mktemp("scenarios")
    tutoring = _write(tmp, "tutoring.yaml", TUTORING)
    video = _write(tmp, "stem_video.yaml", STEM_VIDEO)
    out = tmp / "out"
    code = main(["run", "--out", str(out), "--scenario", str(WELLBEING), "--scenario",
                 str(tutoring), "--scenario", str(REDESIGN), "--scenario", str(video), *SMALL])
    assert code == 0
    yield out
    shutil.rmtree(tmp, ignore_errors=True)


def test_wellbeing_survey_recovers_its_coefficients(twins):
    with connect(twins / "wellbeing") as con:
        survey = con.sql("select * from context_store_entity.wellbeing_survey").fetchnumpy()
        cells = con.sql("""
            select count(*) from context_store_entity.wellbeing_survey s
            join context_store_entity.person__academic_term t using (person_id, academic_term_id)
            join context_store_entity.academic_term using (academic_term_id)""").fetchall()
    assert len(survey["happiness"]) == 10_000 == cells[0][0]  # every row a real student-term
    assert set(survey) >= {"person_id", "academic_term_id", "week_in_term", "happiness",
                           "exercise_hours", "healthy_weight"}
    assert "baseline" not in survey  # hidden: an intermediate draw
    assert set(np.unique(survey["healthy_weight"])) == {0, 1}
    assert survey["exercise_hours"].min() >= 1 and survey["week_in_term"].min() >= 1
    X = sm.add_constant(np.column_stack([survey["exercise_hours"], survey["healthy_weight"]]))
    fit = sm.OLS(survey["happiness"], X).fit()
    for estimate, error, truth in zip(fit.params, fit.bse, (7.0, 0.3, 0.5)):
        assert abs(estimate - truth) < 2 * error, (fit.params, fit.bse)


def _table_hashes(out: Path) -> dict[str, tuple]:
    with connect(out) as con:
        names = con.sql("""select schema_name || '.' || table_name from duckdb_tables()
                           union all  -- the event store: a view over the run's Parquet
                           select schema_name || '.' || view_name from duckdb_views()
                           where schema_name = 'event_store' order by 1""").fetchall()
        return {name: con.execute(f"select count(*), bit_xor(hash(t)) from {name} t").fetchall()[0]
                for (name,) in names}


def test_twins_differ_only_where_the_scenario_reaches(twins):
    base, other = _table_hashes(twins / "wellbeing"), _table_hashes(twins / "tutoring")
    assert other.keys() - base.keys() == {f"{ENTITY}.weekly_checkin"} and len(base) > 40
    other.pop(f"{ENTITY}.weekly_checkin")
    touched = {f"{ENTITY}.{t}" for t in ("course_section_enrollment", "course_grade",
                                          "learner_activity_result")} | {EVENTS}
    assert {name for name in base if base[name] != other[name]} == touched
    with _both(twins) as con:
        # enrollments keep every column but the new one, the overridden one and (through
        # the withdrawal effect) role_status; their results and events differ only where
        # the score effect reaches (scores, grade events) or the withdrawal was undone
        con.execute(f"""create temp table undone as select a.person_id, s.course_offering_id
            from base.{ENTITY}.course_section_enrollment a
            join treated.{ENTITY}.course_section_enrollment b
              using (course_section_id, person_id, role)
            join base.{ENTITY}.course_section s using (course_section_id)
            where a.role_status <> b.role_status""")
        for db in ("base", "treated"):
            con.execute(f"""create temp view {db}_results as select r.* exclude
                (published_score, published_grade) from {db}.{ENTITY}.learner_activity_result r
                join {db}.{ENTITY}.learner_activity a using (learner_activity_id)
                join {db}.{ENTITY}.learner_activity_group g using (learner_activity_group_id)
                anti join undone u on u.person_id = r.person_id
                  and u.course_offering_id = g.course_offering_id""")
            con.execute(f"""create temp view {db}_events as select e.* from {db}.{EVENTS} e
                anti join undone u on u.person_id = e.person.udp_id
                  and u.course_offering_id = e.course_offering.udp_id
                where e.type <> 'GradeEvent'""")
        enrollments = "select bit_xor(hash(t)) from (select * exclude (enrollment_status, " \
            f"role_status{{}}) from {{}}.{ENTITY}.course_section_enrollment) t"
        assert _one(con, enrollments.format("", "base")) == _one(
            con, enrollments.format(", tutoring", "treated"))
        grades = "select bit_xor(hash(t)) from (select course_section_id, person_id, " \
            f"gpa_cumulative_excluding_course_grade from {{}}.{ENTITY}.course_grade) t"
        assert _one(con, grades.format("base")) == _one(con, grades.format("treated"))
        for view in ("results", "events"):
            query = "select count(*), bit_xor(hash(t)) from {}_" + view + " t"
            assert _one(con, query.format("base")) == _one(con, query.format("treated")), view
        assert _one(con, "select count(*) from undone")[0] > 0


def _both(twins: Path) -> duckdb.DuckDBPyConnection:
    """One connection with the two twins attached as `base` and `treated`."""
    con = duckdb.connect()
    con.execute(f"attach '{twins / 'wellbeing' / 'warehouse.duckdb'}' as base (read_only)")
    con.execute(f"attach '{twins / 'tutoring' / 'warehouse.duckdb'}' as treated (read_only)")
    return con


def _one(con, query: str) -> tuple:
    return con.execute(query).fetchall()[0]


def test_withdrawal_effect_halves_withdrawals_of_the_tutored(twins):
    with _both(twins) as con:
        rows = con.sql(f"""select b.tutoring, a.role_status, b.role_status as treated_status
            from base.{ENTITY}.course_section_enrollment a
            join treated.{ENTITY}.course_section_enrollment b
              using (course_section_id, person_id, role)
            where a.role = 'Student'""").fetchnumpy()
    withdrawn = ["Withdrawn", "Dropped"]
    before = np.isin(rows["role_status"], withdrawn)
    after = np.isin(rows["treated_status"], withdrawn)
    tutored = rows["tutoring"] == 1
    assert not (after & ~before).any()  # nobody withdraws because of the effect
    assert (after[~tutored] == before[~tutored]).all()  # the untutored are untouched
    n = int(before[tutored].sum())
    kept = int(after[tutored].sum())
    assert n >= 10 and abs(kept - n / 2) <= 3 * (n / 4) ** 0.5, (kept, n)
    assert set(rows["treated_status"][before & ~after]) == {"Enrolled"}


def test_override_and_weekly_extension_table(twins):
    """An existing column drawn from a named family instead of the profile; an extension
    table at enrollment × week in term, with a categorical, a Gamma and a parent-row
    expression."""
    with connect(twins / "tutoring") as con:
        shares = dict(con.sql(f"""select enrollment_status, count(*) / sum(count(*)) over ()
            from {ENTITY}.course_section_enrollment group by 1""").fetchall())
        cells = con.sql(f"""select count(*), count(distinct (course_section_id, person_id,
                role, week_in_term)), max(week_in_term) from {ENTITY}.weekly_checkin""").fetchall()
        enrollments = con.sql(f"select count(*) from {ENTITY}.course_section_enrollment"
                              ).fetchall()[0][0]
        checkin = con.sql(f"""select c.mood, c.hours, c.intro_course,
                (o.course_level = '100')::int as level_100
            from {ENTITY}.weekly_checkin c
            join {ENTITY}.course_section s using (course_section_id)
            join {ENTITY}.course_offering o using (course_offering_id)""").fetchnumpy()
    assert set(shares) == {"Active", "Completed"} and abs(shares["Active"] - 0.5) < 0.05
    rows, distinct, weeks = cells[0]
    assert rows == distinct == enrollments * weeks  # one row per cell, one term
    np.testing.assert_array_equal(checkin["intro_course"], checkin["level_100"])
    moods = {m: np.mean(checkin["mood"] == m) for m in ("low", "ok", "high")}
    assert abs(moods["low"] - 0.3) < 0.02 and abs(moods["high"] - 0.2) < 0.02
    assert abs(checkin["hours"].mean() - 3.0) < 0.1  # Gamma(2, 1.5) has mean 3


def test_tutoring_effect_is_in_the_gradebook(twins):
    """Every graded result of a tutored enrollment scores 5 points (of 100) more than its
    twin, the course grades computed from them follow, and OLS recovers +5."""
    query = f"""
        select g.course_section_id, g.person_id, g.le_current_score, g.le_final_score
        from {ENTITY}.course_grade g order by 1, 2"""
    with connect(twins / "wellbeing") as a, connect(twins / "tutoring") as b:
        base, treated = a.sql(query).fetchnumpy(), b.sql(query).fetchnumpy()
        flags = b.sql(f"""select e.tutoring, g.tutored_score from {ENTITY}.course_grade g
            join {ENTITY}.course_section_enrollment e using (course_section_id, person_id)
            order by g.course_section_id, g.person_id""").fetchnumpy()
        results = f"""select r.learner_activity_result_id as id, r.published_score,
                a.points_possible, e.tutoring
            from {ENTITY}.learner_activity_result r
            join {ENTITY}.learner_activity a using (learner_activity_id)
            join {ENTITY}.learner_activity_group gr using (learner_activity_group_id)
            join {ENTITY}.course_section s on s.course_offering_id = gr.course_offering_id
            join {ENTITY}.course_section_enrollment e
              on e.course_section_id = s.course_section_id and e.person_id = r.person_id
            where r.grading_status = 'graded'
            order by r.learner_activity_result_id"""
        base_results = a.sql(results.replace("e.tutoring", "0")).fetchnumpy()
        treated_results = b.sql(results).fetchnumpy()
    tutored = flags["tutoring"].astype(float)
    current = np.asarray(treated["le_current_score"], dtype=float)
    graded = np.asarray(base["le_current_score"], dtype=float) > 0  # graded work (not dropped)
    # graded scores take normal scores from their rank among a sample of graded rows
    # (gradebook.py), which undoing withdrawals changes: others' scores move by hundredths
    # of a point, a few course scores (one or two graded results) by tenths
    off = np.abs(current[graded] - np.asarray(base["le_current_score"], dtype=float)[graded]
                 - 5 * tutored[graded])
    assert off.max() <= 0.5 and (off <= 0.05).mean() > 0.95, (off.max(), (off > 0.05).sum())
    final = np.asarray(treated["le_final_score"], dtype=float)
    scored = final > 0
    np.testing.assert_allclose(np.asarray(flags["tutored_score"], float)[scored],
                               final[scored] + 5 * tutored[scored])
    # results graded in both twins (an undone withdrawal grades more of the enrollment's work)
    _, i, j = np.intersect1d(treated_results["id"], base_results["id"], return_indices=True)
    shift = np.asarray(treated_results["published_score"], float)[i] - np.asarray(
        base_results["published_score"], float)[j]
    points = treated_results["points_possible"][i]
    assert len(shift) > 1000
    error = np.abs(shift - 0.05 * points * treated_results["tutoring"][i])
    assert (error <= 0.011 + 0.005 * points).all(), error.max()  # cents, and block ranks
    fit = sm.OLS(current[graded], sm.add_constant(tutored[graded])).fit()
    assert abs(fit.params[1] - 5) < 2 * fit.bse[1], (fit.params, fit.bse)
    assert 0.1 < tutored.mean() < 0.3


def test_course_redesign_scales_stem_events(twins):
    """STEM courses draw 30 % more learning-tool events; nothing else changes."""
    base, redesign = _table_hashes(twins / "wellbeing"), _table_hashes(
        twins / "course_redesign")
    assert {name for name in redesign if base.get(name) != redesign[name]} == {EVENTS}
    query = f"""select o.cip_family in ('11', '14', '26', '27', '40'), count(*)
        from {EVENTS} e join {ENTITY}.course_offering o
          on o.course_offering_id = e.course_offering.udp_id
        where e.type <> 'GradeEvent' and e.action <> 'Submitted' group by 1 order by 1"""
    with connect(twins / "wellbeing") as a, connect(twins / "course_redesign") as b:
        (_, other_before), (_, stem_before) = a.sql(query).fetchall()
        (_, other_after), (_, stem_after) = b.sql(query).fetchall()
    assert other_after == other_before
    assert abs(stem_after / stem_before - 1.3) < 3 * (1.3 / stem_before) ** 0.5


def test_per_tool_effect_scales_only_that_tool(twins):
    """STEM courses draw 30 % more video (kaltura) events; every other tool's events and
    non-STEM courses' videos are the twin's, event for event."""
    query = f"""select {STEM}, e.tool = 'kaltura', count(*), bit_xor(hash(e.id))
        from {EVENTS} e join {ENTITY}.course_offering o
          on o.course_offering_id = e.course_offering.udp_id
        group by 1, 2 order by 1, 2"""
    with connect(twins / "wellbeing") as a, connect(twins / "stem_video") as b:
        before, after = a.sql(query).fetchall(), b.sql(query).fetchall()
    assert [row[:2] for row in before] == [row[:2] for row in after] == [
        (False, False), (False, True), (True, False), (True, True)]
    assert before[:3] == after[:3]
    stem_before, stem_after = before[3][2], after[3][2]
    assert abs(stem_after / stem_before - 1.3) < 3 * (1.3 / stem_before) ** 0.5, (
        stem_before, stem_after)


def test_manifest_and_comments_record_the_scenario(twins):
    data = TUTORING.encode()
    recorded = manifest(twins / "tutoring")["scenario"]
    assert recorded["name"] == "tutoring"
    assert recorded["sha256"] == hashlib.sha256(data).hexdigest()
    assert recorded["tables"] == [f"{ENTITY}.{t}" for t in (
        "course_grade", "course_section_enrollment", "learner_activity_result",
        "weekly_checkin", "wellbeing_survey")] + [EVENTS]
    assert manifest(twins / "tutoring")["tables"][
        "context_store_entity.wellbeing_survey"] == 10_000
    with duckdb.connect(str(twins / "tutoring" / "warehouse.duckdb"), read_only=True) as con:
        comments = dict(con.sql("""select table_name, comment from duckdb_tables()
                                   where schema_name = 'context_store_entity'""").fetchall())
    for table in recorded["tables"][:-1]:
        assert f"scenario tutoring: tutoring.yaml, sha256 {recorded['sha256']}" in \
            comments[table.split(".")[1]]
    assert "scenario" not in comments["person"]
