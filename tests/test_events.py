"""The Caliper event store, checked against the context store it was generated with.

Reads the shared 800-FTE warehouse of `campus-synth run` (two full terms of events) and the
20,000-FTE Parquet generation (its first three weeks of events at half rate)."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, connect, event_files
from scipy import stats

from pipeline.cli import main
from pipeline.errors import OutputError
from pipeline.outputs import read_events
from pipeline.outputs._caliper_json import envelope
from pipeline.udp import is_valid_combination
from pipeline.udp._caliper import validation_errors

E = "context_store_entity"


@pytest.fixture(scope="module")
def db(small_warehouse):
    connection = connect(small_warehouse)
    yield connection
    connection.close()


def _one(db, sql: str):
    return db.execute(sql).fetchone()


def test_every_term_has_a_full_term_of_events(db):
    days = db.execute(f"""
        SELECT t.name, count(DISTINCT e.event_date), datediff('day', any_value(t.term_begin_date),
               any_value(t.term_end_date)) + 1
        FROM event_store.expanded e
        JOIN {E}.course_offering o ON o.course_offering_id = e.course_offering.udp_id
        JOIN {E}.academic_term t USING (academic_term_id) GROUP BY 1""").fetchall()
    assert len(days) == 2
    for name, with_events, term_days in days:
        assert with_events == term_days, name


def test_events_fall_inside_their_term(db):
    outside = _one(db, f"""
        SELECT count(*) FROM event_store.expanded e
        JOIN {E}.course_offering o ON o.course_offering_id = e.course_offering.udp_id
        JOIN {E}.academic_term t USING (academic_term_id)
        WHERE e.event_time < t.term_begin_date
           OR e.event_time >= t.term_end_date + INTERVAL 1 DAY""")[0]
    assert outside == 0


def test_every_actor_is_enrolled_in_the_course_of_the_event(db):
    strangers = _one(db, f"""
        WITH pairs AS (SELECT DISTINCT person.udp_id AS person_id,
                              course_offering.udp_id AS course_offering_id,
                              membership.roles = 'Learner' AS learner
                       FROM event_store.expanded),
        enrolled AS (SELECT DISTINCT en.person_id, s.course_offering_id,
                            en.role = 'Student' AS learner
                     FROM {E}.course_section_enrollment en
                     JOIN {E}.course_section s USING (course_section_id))
        SELECT count(*) FROM pairs ANTI JOIN enrolled
            USING (person_id, course_offering_id, learner)""")[0]
    assert strangers == 0


def test_withdrawn_students_stop_before_seventy_percent_of_the_term(db):
    """Withdrawal falls in [10%, 70%] of the term; nothing of theirs comes after it."""
    rows = db.execute(f"""
        SELECT max(epoch(e.event_time) - epoch(t.term_begin_date))
               / (epoch(t.term_end_date) - epoch(t.term_begin_date) + 86400) AS last_share
        FROM event_store.expanded e
        JOIN {E}.course_section s ON s.course_offering_id = e.course_offering.udp_id
        JOIN {E}.course_section_enrollment en
             ON en.course_section_id = s.course_section_id AND en.person_id = e.person.udp_id
        JOIN {E}.course_offering o ON o.course_offering_id = s.course_offering_id
        JOIN {E}.academic_term t ON t.academic_term_id = o.academic_term_id
        WHERE en.role_status IN ('Withdrawn', 'Dropped') AND e.membership.roles = 'Learner'
        GROUP BY en.course_section_id, en.person_id, t.term_begin_date, t.term_end_date
    """).fetchall()
    assert len(rows) >= 20, "too few withdrawn enrollments with events to check"
    assert max(share for (share,) in rows) <= 0.7 + 1e-9


_ENTITY_KEYS = ["learner_activity", "learner_activity_result", "wiki_page", "module_item",
                "file", "discussion", "quiz", "course_offering"]


@pytest.mark.parametrize("entity", _ENTITY_KEYS)
def test_every_object_is_a_row_of_the_context_store(db, entity):
    missing, seen = _one(db, f"""
        SELECT count(*) FILTER (WHERE x.{entity}_id IS NULL), count(*)
        FROM event_store.expanded e
        LEFT JOIN {E}.{entity} x ON x.{entity}_id = e.object.udp_id
        WHERE e.object.entity = '{entity}'""")
    assert seen > 0, f"no events on {entity}"
    assert missing == 0


@pytest.mark.parametrize("entity, course", [
    ("file", "x.course_offering_id"), ("quiz", "x.course_offering_id"),
    ("discussion", "x.course_offering_id"), ("learner_activity", "x.course_offering_id"),
    ("module_item", "x.course_offering_id"),
    ("wiki_page", "(SELECT w.course_offering_id FROM context_store_entity.wiki w "
                  "WHERE w.wiki_id = x.wiki_id)"),
])
def test_objects_belong_to_the_course_of_the_event(db, entity, course):
    elsewhere = _one(db, f"""
        SELECT count(*) FROM event_store.expanded e
        JOIN {E}.{entity} x ON x.{entity}_id = e.object.udp_id AND e.object.entity = '{entity}'
        WHERE {course} <> e.course_offering.udp_id""")[0]
    assert elsewhere == 0


def test_people_courses_and_generated_results_resolve(db):
    assert _one(db, f"""SELECT count(*) FROM event_store.expanded e
                        ANTI JOIN {E}.person p ON p.person_id = e.person.udp_id""")[0] == 0
    assert _one(db, """SELECT count(*) FROM event_store.expanded
                       WHERE ucdm_course_offering_id <> course_offering.udp_id""")[0] == 0
    assert _one(db, f"""SELECT count(*) FROM event_store.expanded e
                        WHERE e.generated IS NOT NULL AND e.generated.udp_id NOT IN
                        (SELECT learner_activity_result_id
                         FROM {E}.learner_activity_result)""")[0] == 0
    assert _one(db, "SELECT count(*) - count(DISTINCT id) FROM event_store.expanded")[0] == 0


def test_every_submission_has_its_event_at_the_response_date(db):
    results, events, matched = _one(db, f"""
        SELECT (SELECT count(*) FROM {E}.learner_activity_result
                WHERE response_date IS NOT NULL),
               (SELECT count(*) FROM event_store.expanded
                WHERE type = 'AssignableEvent' AND action = 'Submitted'),
               (SELECT count(*) FROM event_store.expanded e
                JOIN {E}.learner_activity_result r
                  ON r.learner_activity_result_id = e.generated.udp_id
                WHERE e.action = 'Submitted' AND e.event_time = r.response_date
                  AND e.object.udp_id = r.learner_activity_id
                  AND e.person.udp_id = r.person_id)""")
    assert results > 1000
    assert results == events == matched


def test_grades_are_given_by_an_instructor_of_the_course(db):
    graded, by_staff = _one(db, f"""
        SELECT count(*), count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM {E}.course_section_enrollment en
            JOIN {E}.course_section s USING (course_section_id)
            WHERE en.person_id = e.person.udp_id AND en.role = 'Teacher'
              AND s.course_offering_id = e.course_offering.udp_id))
        FROM event_store.expanded e WHERE e.type = 'GradeEvent'""")
    assert graded > 1000 and graded == by_staff


# the rate-drawn streams (the gradebook's submissions and gradings follow due dates instead)
DRAWN = "type NOT IN ('AssignableEvent', 'GradeEvent')"


def test_daily_volume_follows_the_calendar(db):
    """Fall 2025 starts Monday 2025-08-25: Labor Day is day 7, midterms are week 8 (day 49),
    Thanksgiving week is week 14 (days 91-95)."""
    daily = dict(db.execute(f"""
        SELECT datediff('day', DATE '2025-08-25', event_date), count(*)
        FROM event_store.expanded WHERE event_date < DATE '2025-12-31' AND {DRAWN}
        GROUP BY 1""").fetchall())
    weekday = np.mean([daily[d] for d in range(70, 75)])       # an ordinary week 11
    thanksgiving = np.mean([daily[d] for d in range(91, 96)])  # the break
    assert thanksgiving < 0.4 * weekday
    assert daily[7] < 0.4 * daily[14]                          # Labor Day vs the next Monday
    before_midterms = sum(daily[d] for d in range(45, 49))     # Thu-Sun before week 8
    same_days_before = sum(daily[d] for d in range(38, 42))    # Thu-Sun of week 6
    assert before_midterms > 1.3 * same_days_before
    assert daily[19] < 0.7 * daily[15]                         # Saturday vs Tuesday


def test_spring_break_dips(db):
    weekly = dict(db.execute(f"""
        SELECT datediff('day', DATE '2026-01-12', event_date) // 7, count(*)
        FROM event_store.expanded WHERE event_date >= DATE '2026-01-12' AND {DRAWN}
        GROUP BY 1""").fetchall())
    assert weekly[8] < 0.4 * np.mean([weekly[5], weekly[9]])  # week 9: Spring Break


def test_combinations_are_caliper_1_1(db):
    combos = db.execute("SELECT DISTINCT type, action, object.type FROM event_store.expanded")
    for event_type, action, object_type in combos.fetchall():
        assert is_valid_combination(event_type, action, object_type), \
            (event_type, action, object_type)


def test_rendered_events_validate_against_the_caliper_1_1_schema(db):
    rows = db.sql("""
        (SELECT * FROM event_store.expanded USING SAMPLE 400 ROWS (reservoir, 11))
        UNION ALL (SELECT * FROM event_store.expanded
                   QUALIFY row_number() OVER (PARTITION BY type, action, tool ORDER BY id) <= 3)
    """).to_arrow_table().to_pylist()
    document = envelope(rows)
    assert validation_errors(document) == []  # the envelope's schema, then each event's type's
    types = {event["type"] for event in document["data"]}
    assert {"NavigationEvent", "AssignableEvent", "GradeEvent", "MediaEvent",
            "ToolUseEvent"} <= types


def test_caliper_command_prints_a_valid_envelope(db, small_warehouse, capsys):
    ids = [row[0] for row in db.execute("""
        SELECT any_value(id) FROM event_store.expanded GROUP BY type ORDER BY 1""").fetchall()]
    assert main(["caliper", "--out", str(small_warehouse), "--id", *ids, "--validate"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert sorted(event["id"] for event in document["data"]) == sorted(ids)
    assert validation_errors(document) == []


def test_the_validator_finds_what_breaks_caliper_1_1(db):
    document = envelope(db.sql("SELECT * FROM event_store.expanded WHERE type = 'ViewEvent' "
                               "ORDER BY id LIMIT 2").to_arrow_table().to_pylist())
    document["dataVersion"] = "http://purl.imsglobal.org/ctx/caliper/v1p2"
    document["data"][0]["action"] = "Glanced"  # no Caliper action
    del document["data"][1]["actor"]
    problems = validation_errors(document)
    assert any(p.startswith("envelope: ") and "v1p2" in p for p in problems), problems
    assert any(p.startswith("data/0 (urn:uuid:") and "action" in p for p in problems), problems
    assert any(p.startswith("data/1 ") and "'actor' is a required property" in p
               for p in problems), problems


def test_caliper_validate_prints_nothing_for_invalid_events(db, tmp_path, capsys):
    """`caliper --validate` on events that break the schema: exit 2, the problems named,
    nothing on stdout (a run folder holding only the event Parquet)."""
    row = db.sql("SELECT * FROM event_store.expanded WHERE type = 'ViewEvent' ORDER BY id "
                 "LIMIT 1").to_arrow_table()
    row = row.set_column(row.schema.get_field_index("action"), "action",
                         pa.array(["Glanced"]))
    folder = tmp_path / "event_store" / "expanded" / "event_date=2025-08-25"
    folder.mkdir(parents=True)
    pq.write_table(row, folder / "part-00000.parquet")
    assert main(["caliper", "--out", str(tmp_path), "--limit", "1", "--validate"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"campus-synth: error: {tmp_path}: the events are not "
                                   "valid Caliper 1.1 (")
    assert "data/0 (urn:uuid:" in captured.err and "action" in captured.err


def test_caliper_command_names_an_unknown_id(small_warehouse, capsys):
    assert main(["caliper", "--out", str(small_warehouse), "--id", "urn:uuid:nope"]) == 2
    assert capsys.readouterr().err.strip() == \
        f"campus-synth: error: {small_warehouse}: no event with id urn:uuid:nope"


def _damaged_event_file(out):
    week = out / "event_store" / "expanded" / "term_week=01"
    week.mkdir(parents=True)
    (week / "part-00000.parquet").write_bytes(b"PAR1 cut short")


def _not_a_duckdb_file(out):
    (out / "warehouse.duckdb").write_text("not a DuckDB file\n")


@pytest.mark.parametrize("damage", [_damaged_event_file, _not_a_duckdb_file])
def test_read_events_raises_the_project_error(tmp_path, damage):
    """`pipeline.outputs.read_events` is public: a caller other than the CLI gets the
    project's OutputError naming the folder for events it cannot read, not DuckDB's own
    error (the CLI alone used to translate it)."""
    damage(tmp_path)
    with pytest.raises(OutputError, match=f"^{tmp_path}: cannot read the events: "):
        read_events(tmp_path)


def test_parquet_is_cut_by_week_of_term_and_ordered_by_date(small_warehouse):
    """One file per block and week of term (term_week=W: days 7(W-1) .. 7W-1 of each event's
    term), its rows in date order."""
    files = event_files(small_warehouse)
    assert len(files) >= 17  # two 17-week terms, one event block: a file per week
    for path in files:
        dates = pq.read_table(path, columns=["event_date"]).column(0).to_numpy()
        assert (dates[1:] >= dates[:-1]).all(), path
    with duckdb.connect(str(small_warehouse / "warehouse.duckdb"), read_only=True) as connection:
        weeks = connection.execute(f"""
            SELECT DISTINCT regexp_extract(e.filename, 'term_week=(\\d+)', 1)::INT,
                   datediff('day', CAST(t.term_begin_date AS DATE), e.event_date) // 7 + 1
            FROM read_parquet('{small_warehouse}/event_store/expanded/*/*.parquet',
                              hive_partitioning = false, filename = true) AS e
            JOIN context_store_entity.course_offering AS o
              ON o.course_offering_id = e.course_offering.udp_id
            JOIN context_store_entity.academic_term AS t USING (academic_term_id)""").fetchall()
    assert len(weeks) > 10 and all(folder == week for folder, week in weeks), weeks
    with duckdb.connect() as connection:
        wrong = connection.execute(f"""
            SELECT count(*) FROM read_parquet('{small_warehouse}/event_store/expanded/*/*.parquet',
                                              hive_partitioning = false)
            WHERE CAST(timezone('UTC', event_time) AS DATE) <> event_date""").fetchone()[0]
    assert wrong == 0


def test_overlapping_terms_lose_no_events(tmp_path, capsys):
    """Terms that overlap (a 24-week Fall runs past Spring's start): one block's weeks of
    Fall and of Spring hold events of the same dates, and every one of them is written (a
    file per block and date was once written twice, the second copy replacing the first)."""
    profile = json.loads((ROOT / "distributions" / "default_profile.json").read_text())
    profile["calendar"]["term_types"]["Fall"]["weeks"] = 24
    (tmp_path / "overlap.json").write_text(json.dumps(profile))
    out = tmp_path / "w"
    assert main(["generate", "--profile", str(tmp_path / "overlap.json"), "--fte", "300",
                 "--terms", "2", "--event-scale", "0", "--out", str(out)]) == 0, \
        capsys.readouterr().err
    counted = json.loads((out / "campus-synth.json").read_text())["tables"]
    with duckdb.connect() as connection:
        rows, dates, shared = connection.execute(f"""
            WITH e AS (SELECT event_date, filename FROM read_parquet(
                '{out}/event_store/expanded/*/*.parquet', hive_partitioning = false,
                filename = true))
            SELECT count(*), count(DISTINCT event_date), (SELECT count(*) FROM (
                SELECT event_date FROM e GROUP BY 1 HAVING count(DISTINCT filename) > 1))
            FROM e""").fetchone()
    assert shared > 0  # dates in two weeks of term: Spring's first and Fall's last
    assert rows == counted["event_store.expanded"] and dates > 200


@pytest.mark.slow
def test_activity_correlates_with_course_score_at_full_size(big):
    """The latent engagement behind scores also drives event counts (20,000 FTE)."""
    counts, scores = np.array(big.execute("""
        WITH activity AS (SELECT person.udp_id AS person_id,
                                 course_offering.udp_id AS course_offering_id,
                                 count(*) AS events
                          FROM event_store.expanded WHERE membership.roles = 'Learner'
                            AND type <> 'AssignableEvent' GROUP BY ALL)
        SELECT coalesce(a.events, 0), g.le_final_score
        FROM context_store_entity.course_grade g
        JOIN context_store_entity.course_section s USING (course_section_id)
        LEFT JOIN activity a ON a.person_id = g.person_id
                            AND a.course_offering_id = s.course_offering_id
        WHERE g.le_final_score IS NOT NULL""").fetchall()).T
    assert len(counts) > 50_000
    rho, p_value = stats.spearmanr(counts, scores)
    assert rho > 0.2 and p_value < 1e-12, (rho, p_value)
