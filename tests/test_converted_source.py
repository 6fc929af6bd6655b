"""profile → run → evaluate on a converted learning-analytics source (tests/converted_source.py:
Open University-shaped tables renamed to UDP, built without campus-synth).

One small source (2,000 students, CSV), profiled, run without events or marts, and evaluated
against the source through the CLI, once per module. The figures checked are the ones such a
source once failed: null shares of scores, response dates and final scores (the source has no
grading_status and no le_current_score), the unregistration day that exists exactly for the
withdrawn (and its pairs), and results per person; the profile's notes name every registry
column the source lacks."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from converted_source import ABSENT_COLUMNS, EVENT_EXTRAS, build, click_stream
from handbuilt import institution, shape_of, write_duckdb

from pipeline.cli import main

STUDENTS = 2000
ROWS_TOLERANCE = 0.10


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[dict, dict, dict, dict, dict, dict]:
    """(the profile's privacy manifest, the evaluation report, the source's and the
    warehouse's row counts, run's own evaluation against the profile, the profile) of the
    converted source."""
    root = tmp_path_factory.mktemp("converted")
    source, profile, out = root / "source", root / "profile.json", root / "run"
    rows = build(source, STUDENTS)
    assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
    assert main(["run", "--profile", str(profile), "--out", str(out), "--event-scale", "0",
                 "--no-marts"]) == 0
    assert main(["evaluate", "--real", str(source), "--synthetic", str(out), "--out",
                 str(root / "report"), "--no-detection"]) == 0
    manifest = json.loads((root / "profile.privacy.json").read_text())
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        generated = {t: con.execute(f"SELECT count(*) FROM context_store_entity.{t}")
                     .fetchall()[0][0] for t in rows}
        generated["roles"] = sorted(r for (r,) in con.execute(
            "SELECT DISTINCT role FROM context_store_entity.course_section_enrollment")
            .fetchall())
        generated["unscored"] = con.execute(
            "SELECT count(*) FROM context_store_entity.course_grade "
            "WHERE le_final_score IS NULL").fetchall()[0][0]
        generated["ranked"] = con.execute(_RANKED).fetchall()[0]
        generated["titles"] = con.execute(_TITLES).fetchall()[0]
        generated["timed_responses"] = con.execute(
            "SELECT count(*) FILTER (WHERE epoch(response_date) % 86400 <> 0), "
            "count(response_date) FROM context_store_entity.learner_activity_result"
        ).fetchall()[0]
        generated["fractional_scores"] = con.execute(
            "SELECT count(*) FILTER (WHERE published_score <> round(published_score)), "
            "count(published_score) FROM context_store_entity.learner_activity_result"
        ).fetchall()[0]
    for name, query in (("weights", _weights), ("term_names", _term_names),
                        ("subjects", _subjects), ("per_term", _per_term),
                        ("makeup", _makeup)):
        generated[name] = _both_sides(query, source, out)
    report, own = (json.loads((path / "report.json").read_text())
                   for path in (root / "report", out / "evaluation"))
    return manifest, report, rows, generated, own, json.loads(profile.read_text())


# (runs, runs in order): an offering's dated activities of one group name, in list order, and
# how many of those runs are due in that order
_RANKED = """WITH a AS (
  SELECT a.course_offering_id AS o, g.name AS kind, a.learner_activity_id AS id, a.due_date,
         LAG(a.due_date) OVER (PARTITION BY a.course_offering_id, g.name
                               ORDER BY a.learner_activity_id) AS before
  FROM context_store_entity.learner_activity a JOIN context_store_entity.learner_activity_group g
    USING (learner_activity_group_id) WHERE a.due_date IS NOT NULL)
SELECT COUNT(*), COUNT(*) FILTER (WHERE ok) FROM (
  SELECT o, kind, BOOL_AND(before IS NULL OR before <= due_date) AS ok FROM a
  GROUP BY o, kind HAVING COUNT(*) >= 2)"""


# (activities, activities whose title another of its course also has, runs of one group name
# of two or more, runs whose titles come in list order)
_TITLES = """WITH a AS (
  SELECT a.course_offering_id AS o, g.name AS kind, a.title, a.learner_activity_id AS id,
         COUNT(*) OVER (PARTITION BY a.course_offering_id, a.title) AS same,
         LAG(a.title) OVER (PARTITION BY a.course_offering_id, g.name
                            ORDER BY a.learner_activity_id) AS before
  FROM context_store_entity.learner_activity a JOIN context_store_entity.learner_activity_group g
    USING (learner_activity_group_id)),
runs AS (SELECT o, kind, BOOL_AND(before IS NULL OR before <= title) AS ok FROM a
  GROUP BY o, kind HAVING COUNT(*) >= 2)
SELECT (SELECT COUNT(*) FROM a), (SELECT COUNT(*) FILTER (WHERE same > 1) FROM a),
  (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FILTER (WHERE ok) FROM runs)"""


def _weights(con: duckdb.DuckDBPyConnection, prefix: str) -> dict[str, tuple]:
    """{group name: (min, max, mean) of its weights}."""
    rel = (f"'{prefix}learner_activity_group.csv'" if prefix.endswith("/")
           else prefix + "learner_activity_group")
    with con:
        return {name: (low, high, mean) for name, low, high, mean in con.execute(
            f"SELECT name, min(group_weight), max(group_weight), avg(group_weight) FROM {rel} "
            "GROUP BY name").fetchall()}


def _term_names(con: duckdb.DuckDBPyConnection, prefix: str) -> list[str]:
    """The terms' names in order of their begin dates."""
    rel = f"'{prefix}academic_term.csv'" if prefix.endswith("/") else prefix + "academic_term"
    with con:
        return [name for (name,) in con.execute(
            f"SELECT name FROM {rel} ORDER BY term_begin_date").fetchall()]


def _subjects(con: duckdb.DuckDBPyConnection, prefix: str) -> list[list[str]]:
    """The subjects of each term's offerings, sorted, in term order."""
    rel = (lambda t: f"'{prefix}{t}.csv'") if prefix.endswith("/") else (lambda t: prefix + t)
    with con:
        return [sorted(subjects) for (subjects,) in con.execute(
            f"SELECT list(subject) FROM {rel('course_offering')} GROUP BY academic_term_id "
            "ORDER BY academic_term_id").fetchall()]


def _makeup(con: duckdb.DuckDBPyConnection, prefix: str) -> dict[str, list]:
    """{"cma": the subjects any of whose courses has a CMA group, "exams": the distinct
    numbers of exam groups a course has}."""
    rel = (lambda t: f"'{prefix}{t}.csv'") if prefix.endswith("/") else (lambda t: prefix + t)
    with con:
        rows = con.execute(
            f"SELECT o.subject, COUNT(*) FILTER (WHERE g.name = 'CMA'), "
            f"COUNT(*) FILTER (WHERE g.name = 'Exam') FROM {rel('learner_activity_group')} g "
            f"JOIN {rel('course_offering')} o ON g.course_offering_id = o.course_offering_id "
            "GROUP BY o.course_offering_id, o.subject").fetchall()
    return {"cma": sorted({s for s, cma, _ in rows if cma}),
            "exams": sorted({exams for *_, exams in rows})}


def _both_sides(query, source, out) -> dict:
    """{"source": query over the source's CSV files, "generated": over the warehouse}; a
    query takes a connection and the prefix its tables are read under."""
    return {side: query(con, prefix) for side, con, prefix in (
        ("source", duckdb.connect(), str(source) + "/"),
        ("generated", duckdb.connect(str(out / "warehouse.duckdb"), read_only=True),
         "context_store_entity."))}


def _per_term(con: duckdb.DuckDBPyConnection, prefix: str) -> list[tuple[int, int]]:
    """(offerings, student enrollments) of each term, in term order."""
    def rel(table: str) -> str:
        return f"'{prefix}{table}.csv'" if prefix.endswith("/") else prefix + table
    with con:
        return con.execute(
            f"SELECT COUNT(DISTINCT o.course_offering_id), COUNT(e.person_id) "
            f"FROM {rel('course_offering')} o JOIN {rel('course_section')} s "
            f"ON s.course_offering_id = o.course_offering_id LEFT JOIN "
            f"{rel('course_section_enrollment')} e ON e.course_section_id = s.course_section_id "
            f"GROUP BY o.academic_term_id ORDER BY o.academic_term_id").fetchall()


def _figure(report: dict, kind: str, table: str, metric: str, **where) -> dict:
    found = [f for f in report["figures"] if f["kind"] == kind and f["table"] == table
             and f["metric"] == metric and all(f.get(k) == v for k, v in where.items())]
    assert len(found) == 1, f"expected one {kind} {table} {metric} {where}, found {found}"
    return found[0]


@pytest.mark.parametrize("table, column", [
    ("learner_activity_result", "published_score"),  # ~0.1 % null in the source
    ("learner_activity_result", "response_date"),  # never null in the source
    ("course_grade", "le_final_score"),  # never null, the withdrawn included
    ("course_section_enrollment", "date_unregistration"),  # null unless withdrawn
])
def test_null_shares_follow_the_source(converted, table, column):
    figure = _figure(converted[1], "column", table, "null_share_diff", column=column)
    assert figure["passed"], figure


@pytest.mark.parametrize("table, columns", [
    ("course_section_enrollment", ["role_status", "date_unregistration"]),
    ("course_section_enrollment", ["final_result", "date_unregistration"]),
    ("learner_activity", ["title", "assessment_type"]),  # both follow the group's name
    ("learner_activity", ["due_date", "assessment_type"]),  # most exams undated, TMAs early
])
def test_pairs_follow_the_source(converted, table, columns):
    figure = _figure(converted[1], "pair", table, "cramers_v_diff", columns=columns)
    assert figure["value"] <= 0.1, figure


def test_results_are_dated_by_their_kind_of_work(converted):
    """Exams without a due date are sat at the end of the term, TMAs come in early: the
    response date's trend over the assessment type follows the source (0.21 when every
    kind of work was dated from one distribution and undated work from mid-term)."""
    figure = _figure(converted[1], "cross_table", "learner_activity_result", "trend_v_diff",
                     columns=["learner_activity.assessment_type", "response_date"])
    assert figure["value"] <= 0.05, figure


def test_due_dates_follow_rank_in_course(converted):
    """A course's TMAs fall due one after another (0.07, 0.21, 0.34, … of the term): the
    profile learns each rank's due fraction by group name, and a generated course's work of
    one kind falls due in its list order, nearly always (drawn at random places in the
    course, runs of two or more were in order in 10 of 33 cases; by rank, 30 of 32)."""
    profile = converted[5]
    spec = profile["tables"]["learner_activity"]["positions"]
    assert spec["given"] == "learner_activity_group_id.name"
    tma = next(c["positions"] for c in spec["cells"] if c["when"] == "TMA")
    medians = [d["median"] for d in tma[:3]]
    assert medians == sorted(medians) and medians[0] < 0.1 < medians[1] < 0.3, medians
    runs, ordered = converted[3]["ranked"]
    assert runs > 5 and ordered >= 0.8 * runs, (runs, ordered)


def test_titles_are_numbered_within_their_course(converted):
    """The source titles a course's work by kind and place (TMA 0, TMA 1, …, one exam): a
    course's assignments of one group name take that name's titles spread over the course,
    in list order, as group names are. Drawn per assignment, titles repeated within a
    course (a quarter of the activities at 4,000 students had a title another of their
    course also had: five TMA 0 in one course) and came in any order."""
    activities, repeated, runs, ordered = converted[3]["titles"]
    assert repeated <= 0.2 * activities, (activities, repeated)
    assert runs > 5 and ordered >= 0.8 * runs, (runs, ordered)


def test_students_alone_get_no_staff(converted):
    """The source has no teachers: none generated, every table sized like the source's
    (sections without a capacity column), and no event of a person outside the course."""
    _, report, source, generated, _, _ = converted
    assert generated["roles"] == ["Student"]
    off = {t: (n, generated[t]) for t, n in source.items()
           if abs(generated[t] / n - 1) > ROWS_TOLERANCE}
    assert not off, f"rows (source, generated) off by more than 10 %: {off}"
    gate = _figure(report, "gate", "expanded", "events_inside_enrollment")
    assert gate["passed"], gate


def test_terms_follow_the_source(converted):
    """Each term has the source's offerings (5 in the spring presentations, 7 in the autumn
    ones: learned per term type, not 6 in every term) and its student enrollments within
    10 % (students of two terms spread over the source's span of terms, not always
    consecutive ones: the last term came out 20 % short)."""
    per_term = converted[3]["per_term"]
    assert [o for o, _ in per_term["generated"]] == [o for o, _ in per_term["source"]]
    off = [(want, got) for (_, want), (_, got) in zip(per_term["source"],
                                                      per_term["generated"], strict=True)
           if abs(got / want - 1) > ROWS_TOLERANCE]
    assert not off, per_term


def test_group_weights_follow_their_kind(converted):
    """Every exam weighs 100 and every CMA 0, as in the source, and the TMAs' mean is the
    source's: a group's weight is learned given its name, and a one-value kind keeps its
    value when a course's weights are made to add up to its total (drawn on their own,
    exams averaged 37.6 and CMAs 25.9)."""
    weights = converted[3]["weights"]
    for kind in ("Exam", "CMA"):
        assert weights["generated"][kind][:2] == weights["source"][kind][:2], weights
    assert abs(weights["generated"]["TMA"][2] - weights["source"]["TMA"][2]) < 3, weights


def test_courses_keep_their_modules_make_up(converted):
    """Only the two modules that set computer-marked assignments have CMA groups, and every
    course has one exam, as in the source: a course's number of groups and their names are
    learned given its module (institutional rows: no cell suppressed for being few) and
    its groups' names drawn stratified within the course. Drawn on their own, CMAs came in
    six modules of seven and some courses had two exams, others none."""
    makeup = converted[3]["makeup"]
    assert makeup["source"] == {"cma": ["CCC", "DDD"], "exams": [1]}, makeup
    assert makeup["generated"] == makeup["source"], makeup


def test_terms_keep_their_own_names(converted):
    """The presentations are named as the source names them ('2013B' … '2014J'), not by a
    season and year the generator made up (academic_term.name TVD 1.0)."""
    names = converted[3]["term_names"]
    assert names["generated"] == names["source"] == ["2013B", "2013J", "2014B", "2014J"]


def test_each_term_offers_the_sources_modules(converted):
    """A small catalog comes back course for course: the five modules of every presentation
    in the spring terms, all seven in the autumn ones, each once (by place among the term's
    offerings, the most frequent first; strata of 1/7 drew a module twice and another never:
    subject TVD 0.33 over 24 offerings)."""
    subjects = converted[3]["subjects"]
    assert subjects["generated"] == subjects["source"]


@pytest.mark.parametrize("column", ["term_begin_date", "term_end_date"])
def test_terms_begin_and_end_on_their_own_dates(converted, column):
    """Presentations of 240 and 268 days, not whole weeks: each term keeps its own dates
    (the profile lists them), where its type's average length left every end a few days
    off (term_end_date KS 0.25 over the four terms)."""
    figure = _figure(converted[1], "column", "academic_term", "ks", column=column)
    assert figure["value"] == 0, figure


@pytest.mark.parametrize("table, column", [("learner_activity", "due_date"),
                                           ("learner_activity_result", "response_date")])
def test_work_falls_due_on_the_sources_days(converted, table, column):
    """The source's deadlines are dates (midnight): learned as its time of day, each due
    moment on the day nearest its fraction of the term (at 23:59 of the fraction's day,
    every due date came a day late: due_date KS 0.066 with days holding eight assignments)."""
    figure = _figure(converted[1], "column", table, "ks", column=column)
    assert figure["value"] <= 0.045, figure


def test_activities_per_group_follow_the_source(converted):
    """One assessment per group: a course's activities follow its number of groups rank for
    rank (drawn apart, KS 0.18 at 4,000 students)."""
    figure = _figure(converted[1], "cardinality", "learner_activity", "children_per_parent_ks",
                     column="learner_activity_group_id")
    assert figure["value"] <= 0.05, figure


def test_results_per_person_follow_the_source(converted):
    figure = _figure(converted[1], "cardinality", "learner_activity_result",
                     "children_per_parent_ks", column="person_id")
    assert figure["value"] <= 0.05, figure


def test_notes_name_every_absent_column(converted):
    notes = converted[0]["notes"]
    for name in ABSENT_COLUMNS:
        table, column = name.split(".")
        assert any((name in n or f"/tables/{table}/columns/{column}:" in n)
                   and "not in the source" in n for n in notes), name


def test_responses_are_dates_like_the_sources(converted):
    """The source's response dates are days (midnight): the profile lists the column in
    its table's `dates`, and every generated response falls at midnight too (placed by its
    hours from the due date, they had times of day the source never had), with the run's
    own gates (events inside their term and enrollment, grading after the response) passing."""
    assert converted[5]["tables"]["learner_activity_result"]["dates"] == ["response_date"]
    timed, dated = converted[3]["timed_responses"]
    assert dated > 1000 and timed == 0, (timed, dated)
    gates = [f for f in converted[4]["figures"] if f["kind"] == "gate"]
    assert gates and all(f["passed"] is not False for f in gates), gates


def test_scores_are_whole_points_like_the_sources(converted):
    """The source marks in whole points (0-100); the run's scores were in cents (95.37), a
    giveaway of every synthetic row and a per-value TVD of 0.043 on a 28,000-student copy
    (0.009 after). The profile keeps the step and the generator rounds to it."""
    assert converted[5]["tables"]["learner_activity_result"]["score_step"] == 1.0
    fractional, scored = converted[3]["fractional_scores"]
    assert scored > 1000 and fractional == 0, (fractional, scored)
    assert _figure(converted[1], "column", "learner_activity_result", "ks",
                   column="published_score")["value"] <= 0.05
    # each value's share: the quantiles are of the scores spread over their step, so the
    # shares run as smoothly as the source's (0.957 on the 28,000-student copy before, the
    # inverse CDF swinging between quantiles that sat on whole points; 0.991 after)
    assert _figure(converted[1], "column", "learner_activity_result", "1-tvd",
                   column="published_score")["value"] >= 0.98


def test_run_passes_its_own_column_figures(converted):
    """run's evaluation against the learned profile: a course recurring in every term draws
    its credits and CIP family once, so 24 offerings of 6 courses are judged as 6 draws (the
    floor counted 24 and failed columns the source lacked: available_credits, cip_family)."""
    failed = [f for f in converted[4]["figures"] if f["kind"] == "column" and
              f["passed"] is False]
    assert not failed, failed


def test_every_grade_has_a_final_score(converted):
    """The source scores every enrollment that has results, the withdrawn included; one left
    with work in zero-weight groups only (a withdrawn student's quizzes) is scored on plain
    points, not null (1.3 % of grades were null at this size, 2.8 % at 8,000 students)."""
    assert converted[3]["unscored"] == 0


def test_evaluate_reads_the_real_source_as_profile_does(tmp_path):
    """A score column stored as text with '?' for a missing score (as public datasets ship
    it): `profile` reads numbers and '?' as missing, and so must `evaluate --real` — it
    compared the column as text categories (real null share 0.0006 against 0.2, no KS)."""
    tables = institution(shape_of("one_row", students=300, seed=9))
    results = tables["learner_activity_result"]
    scores = results["published_score"].map(lambda v: "" if pd.isna(v) else f"{v:g}")
    scores[results.index % 5 == 0] = "?"
    results["published_score"] = scores.astype(str)
    source = write_duckdb(tmp_path / "source.duckdb", tables)
    assert main(["profile", "--source", str(source), "--out", str(tmp_path / "p.json")]) == 0
    assert main(["run", "--profile", str(tmp_path / "p.json"), "--out", str(tmp_path / "w"),
                 "--no-marts", "--event-days", "1", "--no-evaluate"]) == 0
    main(["evaluate", "--synthetic", str(tmp_path / "w"), "--real", str(source),
          "--out", str(tmp_path / "e"), "--no-detection"])
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    figures = {f["metric"]: f for f in report["figures"] if f.get("column") == "published_score"
               and f["table"] == "learner_activity_result"}
    assert "ks" in figures, "published_score compared as text categories"
    assert figures["null_share_diff"]["extra"]["real"] >= 0.2
    assert figures["ks"]["passed"], figures["ks"]


def test_a_person_listed_once_per_enrollment_keeps_their_enrollments(tmp_path):
    """A conversion that writes the person table from per-enrollment rows lists a student of
    two modules twice, with credits that differ: one row of each is kept (the note counts
    the others), so the student keeps both enrollments and their results. Leaving every
    copy out lost 15 % of the students and, as orphans, their enrollments and results."""
    source = tmp_path / "source"
    build(source, 1000, fmt="parquet")
    people = pd.read_parquet(source / "person.parquet")
    enrollments = pd.read_parquet(source / "course_section_enrollment.parquet")
    listed = enrollments[["person_id"]].merge(people, on="person_id")
    listed["studied_credits"] = listed["studied_credits"].to_numpy()[::-1]
    listed.to_parquet(source / "person.parquet", index=False)
    repeated = len(listed) - len(people)
    assert repeated > 50
    notes = []
    for run in ("a", "b"):
        out = tmp_path / f"{run}.json"
        assert main(["profile", "--source", str(source), "--out", str(out)]) == 0
        notes.append(json.loads(out.with_name(f"{run}.privacy.json").read_text())["notes"])
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert any(f"source table person: left out {repeated:,} row(s)" in n for n in notes[0])
    assert not any("course_section_enrollment: left out" in n or
                   "learner_activity_result: left out" in n and "person_id" in n
                   for n in notes[0]), notes[0]


def test_keys_a_conversion_leaves_out_are_supplied(tmp_path, capsys):
    """A conversion of a source that has students alone may leave UDP's `role` out, though
    it is part of the enrollment's key, and a result keyed by activity and student (the Open
    University's studentAssessment) has no result id: each enrollment is read as a
    Student's and each result numbered, with a note each (the profile stopped: 'has no
    column role (part of its primary key)'); the run is students only, the profile the same
    every time."""
    source, out = tmp_path / "source", tmp_path / "run"
    build(source, 500, fmt="parquet")
    for table, column in (("course_section_enrollment", "role"),
                          ("learner_activity_result", "learner_activity_result_id")):
        path = source / f"{table}.parquet"
        pd.read_parquet(path).drop(columns=[column]).to_parquet(path, index=False)
    profiles = []
    for run in range(2):
        profiles.append(tmp_path / f"{run}.json")
        assert main(["profile", "--source", str(source), "--out", str(profiles[-1])]) == 0
    printed = capsys.readouterr().out
    assert "has no column role: every enrollment is read as a Student's" in printed
    assert "has no column learner_activity_result_id (its key, which no other table" in printed
    assert profiles[0].read_text() == profiles[1].read_text()
    assert main(["run", "--profile", str(profiles[0]), "--out", str(out), "--event-scale",
                 "0", "--no-marts", "--no-evaluate"]) == 0
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        roles = con.execute("SELECT DISTINCT role FROM "
                            "context_store_entity.course_section_enrollment").fetchall()
    assert roles == [("Student",)]


def test_a_status_written_for_the_withdrawn_alone_reads_as_nodata(tmp_path, capsys):
    """A conversion that writes role_status only where the student withdrew (null for the
    rest): the profile read the nulls as NoData, UDP's value for what the source does not
    know (the column is never null), but `evaluate --real` compared them as nulls (1-TVD
    0.31, the status's pairs failed). Read once, as NoData, with a note, both agree."""
    source, out = tmp_path / "source", tmp_path / "run"
    build(source, 1500, fmt="parquet")
    path = source / "course_section_enrollment.parquet"
    enrollments = pd.read_parquet(path)
    status = enrollments["role_status"]
    enrollments["role_status"] = status.where(status == "Withdrawn", None)
    enrollments.to_parquet(path, index=False)
    assert main(["profile", "--source", str(source), "--out", str(tmp_path / "p.json")]) == 0
    missing = int(enrollments["role_status"].isna().sum())
    assert (f"role_status is missing in {missing:,} of {len(enrollments):,} rows: read as "
            "NoData") in capsys.readouterr().out
    assert main(["run", "--profile", str(tmp_path / "p.json"), "--out", str(out),
                 "--event-scale", "0", "--no-marts", "--no-evaluate"]) == 0
    main(["evaluate", "--synthetic", str(out), "--real", str(source),
          "--out", str(tmp_path / "e"), "--no-detection"])
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    status_figures = [f for f in report["figures"] if f["table"] == "course_section_enrollment"
                      and "role_status" in [f.get("column"), *(f.get("columns") or [])]
                      and f["passed"] is not None]
    assert {f["metric"] for f in status_figures} >= {"1-tvd", "null_share_diff"}
    assert all(f["passed"] for f in status_figures), [f for f in status_figures
                                                      if not f["passed"]]


def test_scores_without_points_keep_their_scale(tmp_path, capsys):
    """The Open University's assessments are scored out of 100 and its conversion has no
    points_possible: the profile kept the default's scores (published_score KS 0.69,
    le_final_score 0.47). Each activity's points are read as its highest score rounded up
    to a round number (an exam scored out of 50 here, its best mark 47: 50), so the run's
    scores follow the source's."""
    source, out = tmp_path / "source", tmp_path / "run"
    build(source, 1500, fmt="parquet")
    activities = pd.read_parquet(source / "learner_activity.parquet")
    activities.drop(columns=["points_possible"]).to_parquet(
        source / "learner_activity.parquet", index=False)
    results = pd.read_parquet(source / "learner_activity_result.parquet")
    exams = results["learner_activity_id"].isin(
        activities.loc[activities["assessment_type"] == "Exam", "learner_activity_id"])
    results.loc[exams, "published_score"] = (results.loc[exams, "published_score"] * 0.47).round()
    results.to_parquet(source / "learner_activity_result.parquet", index=False)
    assert main(["profile", "--source", str(source), "--out", str(tmp_path / "p.json")]) == 0
    assert "has no column points_possible: each activity's points are read as its highest" \
        in capsys.readouterr().out
    points = json.loads((tmp_path / "p.json").read_text())["tables"]["learner_activity"][
        "columns"]["points_possible"]
    assert {v["value"] for v in points["values"]} == {50, 100}
    assert main(["run", "--profile", str(tmp_path / "p.json"), "--out", str(out),
                 "--event-scale", "0", "--no-marts", "--no-evaluate"]) == 0
    main(["evaluate", "--synthetic", str(out), "--real", str(source),
          "--out", str(tmp_path / "e"), "--no-detection"])
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    for table, column in (("learner_activity_result", "published_score"),
                          ("course_grade", "le_final_score")):
        figure = _figure(report, "column", table, "ks", column=column)
        assert figure["passed"], figure


def test_work_without_due_dates_stays_undated(tmp_path, capsys):
    """An activity table without due_date: the profile kept the default's due dates, so the
    run dated work the source never dated and drew submissions from those dates
    (response_date KS 0.067). Read as undated work, no activity is dated and submissions
    follow the source's own spread over the term."""
    source, out = tmp_path / "source", tmp_path / "run"
    build(source, 1500, fmt="parquet")
    path = source / "learner_activity.parquet"
    pd.read_parquet(path).drop(columns=["due_date"]).to_parquet(path, index=False)
    assert main(["profile", "--source", str(source), "--out", str(tmp_path / "p.json")]) == 0
    assert "has no column due_date: its work is read as undated" in capsys.readouterr().out
    assert main(["run", "--profile", str(tmp_path / "p.json"), "--out", str(out),
                 "--event-scale", "0", "--no-marts", "--no-evaluate"]) == 0
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        dated = con.execute("SELECT count(due_date) FROM "
                            "context_store_entity.learner_activity").fetchone()[0]
    assert dated == 0
    main(["evaluate", "--synthetic", str(out), "--real", str(source),
          "--out", str(tmp_path / "e"), "--no-detection"])
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    for metric in ("ks", "1-tvd"):
        figure = _figure(report, "column", "learner_activity_result", metric,
                         column="response_date")
        assert figure["passed"], figure


def test_the_same_source_gives_the_same_profile_every_time(tmp_path):
    """Profiled three times, the converted source gives one profile, byte for byte. Ranks
    compared means as the engine summed them (0.7 or 0.7000000000000001, depending on the
    order its threads finished), so the Spearman of mean score and withdrawal moved by 6e-5
    between runs and the calibrations searched from it with it (withdrawal_rho 0.6330-0.6332,
    a tie's mean -0.6947 to -0.695): four runs gave four profiles."""
    source = tmp_path / "source"
    build(source, 1000, fmt="parquet")
    profiles = set()
    for run in range(3):
        out = tmp_path / f"{run}.json"
        assert main(["profile", "--source", str(source), "--out", str(out)]) == 0
        profiles.add(out.read_text())
    assert len(profiles) == 1


@pytest.fixture(scope="module")
def clicks(tmp_path_factory) -> tuple:
    """(the profile, its event count, the profile's notes, the run folder, the evaluation
    report) of a converted source with a click stream that has columns of its
    own (converted_source.EVENT_EXTRAS), profiled, run without marts and evaluated."""
    tmp = tmp_path_factory.mktemp("clicks")
    source, profile, out = tmp / "source", tmp / "profile.json", tmp / "run"
    build(source, 1000, fmt="parquet")
    events = click_stream(source, extras=True)
    assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
    assert main(["run", "--profile", str(profile), "--out", str(out), "--no-marts",
                 "--no-evaluate"]) == 0
    assert main(["evaluate", "--real", str(source), "--synthetic", str(out), "--out",
                 str(tmp / "report"), "--no-detection"]) == 0
    notes = json.loads(profile.with_suffix(".privacy.json").read_text())
    return (profile, events, notes, out,
            json.loads((tmp / "report" / "report.json").read_text()))


def test_a_click_stream_comes_back_at_its_size_when_students_withdraw(clicks):
    """A third of the students withdraw and their clicks end when they leave, as the
    generator's do. The event rate and the day curve are learned over the days each
    student enrollment can have events (the withdrawn until the withdrawal the generator
    draws), so the run has the source's number of events and the source's curve. Learned
    over every day of the withdrawn, the events came back 14 % short and the week and day
    curves at 0.049 (the limit is 0.05)."""
    _, events, _, out, report = clicks
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        generated = con.execute("SELECT count(*) FROM event_store.expanded").fetchall()[0][0]
    assert abs(generated / events - 1) < 0.05, (generated, events)
    for metric in ("week_curve", "day_curve"):
        figure = _figure(report, "event", "expanded", metric, column="NavigationEvent")
        assert figure["value"] < 0.03, figure


def test_an_event_tables_own_columns_come_back_like_the_sources(clicks):
    """The click stream's own columns are profiled and generated for every event under their
    names and types (the clicks a row counts, the platform), and the three that identify
    people or cannot be drawn (an IP address, a near-unique fingerprint, a nested record)
    are left out, each with its reason in the notes. They were once read by nobody and
    named nowhere: evaluate --real found `sum_click` missing from the warehouse."""
    _, _, notes, out, report = clicks
    text = "\n".join(notes["notes"])
    for column, reason in EVENT_EXTRAS.items():
        if reason is None:
            assert f"/events/extras/{column}: the event table's own column profiled" in text
        else:
            assert f"columns/{column}: not profiled (" in text and reason in text, column
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as con:
        columns = dict(con.execute("SELECT column_name, data_type FROM information_schema."
                                   "columns WHERE table_name = 'expanded'").fetchall())
    assert (columns["sum_click"], columns["platform"]) == ("BIGINT", "VARCHAR")
    assert not {"client_ip", "fingerprint", "referrer"} & set(columns)
    assert _figure(report, "column", "expanded", "ks", column="sum_click")["value"] <= 0.05
    assert _figure(report, "column", "expanded", "1-tvd", column="platform")["value"] >= 0.97


def test_an_event_tables_own_columns_are_published_to_bigquery(clicks, bigquery_emulator,
                                                                 tmp_path):
    """The BigQuery load declares the event table's own columns (the run's manifest names
    them), so a published run's events keep them: the real client against the emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    endpoint, out = bigquery_emulator._connection.API_BASE_URL, tmp_path / "out"
    assert main(["generate", "--profile", str(clicks[0]), "--out", str(out), "--fte", "200",
                 "--terms", "1", "--event-days", "2"]) == 0
    assert main(["publish", "--project", "clicks", "--out", str(out), "--api-endpoint",
                 endpoint, "--run-id", "c1", "--dbt-select", "stg_event_store__expanded"]) == 0
    client = bigquery.Client(project="clicks", credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": endpoint})
    table = client.get_table("clicks.event_store.expanded")
    fields = {f.name: f.field_type for f in table.schema}
    assert (fields["sum_click"], fields["platform"]) == ("INT64", "STRING"), fields
    rows = client.query("SELECT COUNT(sum_click) AS n, COUNT(*) AS total, "
                        "COUNT(DISTINCT platform) AS platforms "
                        "FROM `clicks.event_store.expanded`").result()
    row = next(iter(rows))
    assert row.n == row.total > 0 and row.platforms >= 2, dict(row)


@pytest.mark.parametrize("dropped", [("term_end_date",), ("term_begin_date",),
                                     ("term_begin_date", "term_end_date")])
def test_terms_without_dates_take_them_from_their_work(tmp_path, capsys, dropped):
    """An academic_term table without term_end_date (or term_begin_date): no term had usable
    dates, so the profile kept the default's calendar (16-week terms beginning in late August;
    every date figure failed against a source whose terms run 34-38 weeks from February and
    October). Each term's missing date is read from its first or last work instead."""
    source = tmp_path / "source"
    build(source, 600, fmt="parquet")
    path = source / "academic_term.parquet"
    pd.read_parquet(path).drop(columns=list(dropped)).to_parquet(path, index=False)
    assert main(["profile", "--source", str(source), "--out", str(tmp_path / "p.json")]) == 0
    out = capsys.readouterr().out
    for column in dropped:
        assert f"has no column {column}: each term's" in out
    calendar = json.loads((tmp_path / "p.json").read_text())["calendar"]
    terms = calendar["terms"]
    assert [t["name"] for t in terms] == ["2013B", "2013J", "2014B", "2014J"]
    # the source's terms run 240-269 days from Feb 3-4 and Oct 6-7; its converter dates some
    # work up to ~70 days past the end, and the first work falls two to three weeks in; a
    # term without its own length runs its type's weeks
    lengths = [t.get("days") or 7 * (t.get("weeks") or
                                     calendar["term_types"][t["term_type"]]["weeks"])
               for t in terms]
    assert all(200 <= days <= 350 for days in lengths), lengths
    starts = [t["begins_on_or_after"] for t in terms if "begins_on_or_after" in t]
    assert starts and all(s[:2] in ("02", "10") for s in starts), starts
