"""Profiling the event-rate model from event_store.expanded (issue 4).

A generated 1,500-FTE warehouse with four weeks of events is profiled through the CLI; its
`events` section is compared with the default profile it came from, and drives a new run.
Small hand-made sources cover the privacy rule (a tool of fewer than k people), a real-UDP
table without campus-synth's `tool` column, a source without events, and bad input.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from handbuilt import rewrite_column
from test_profile_inputs import small_tables, write_parquet

from distributions import load_profile, validate_profile
from pipeline.cli import main
from pipeline.generate._events.rates import day_shape
from pipeline.generate._rules.calendar import academic_calendar

EVENT_DAYS = 28


def _profile(source, out: Path, *flags: str) -> int:
    return main(["profile", "--source", str(source), "--out", str(out), *flags])


@pytest.fixture(scope="module")
def profiled(tmp_path_factory) -> tuple[dict, dict, Path]:
    """(profile, privacy manifest, profile path) of a generated warehouse with events."""
    root = tmp_path_factory.mktemp("events")
    out = root / "w"
    assert main(["run", "--fte", "1500", "--event-days", str(EVENT_DAYS), "--no-marts",
                 "--no-evaluate", "--out", str(out)]) == 0
    path = root / "profile.json"
    assert _profile(out / "warehouse.duckdb", path) == 0
    return (json.loads(path.read_text()),
            json.loads(path.with_name("profile.privacy.json").read_text()), path)


def _tv(a: dict, b: dict) -> float:
    total_a, total_b = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a.get(x, 0) / total_a - b.get(x, 0) / total_b) for x in {*a, *b})


def _mix(items: list[dict]) -> dict:
    return {(i["type"], i["action"], i["object_type"]): i["p"] for i in items}


def test_estimates_match_the_generating_profile(profiled):
    events, default = profiled[0]["events"], load_profile()["events"]
    assert set(events["tools"]) == set(default["tools"])
    for name, tool in events["tools"].items():
        want = default["tools"][name]
        # the tool rate absorbs the mean course factor (~1.05 at the default's families and
        # levels): within 15 % of the default's over the 28 days covered
        assert tool["rate"] == pytest.approx(want["rate"], rel=0.15), name
        assert tool["adoption"] == pytest.approx(want["adoption"], abs=0.1), name
        assert _tv(_mix(tool["student"]), _mix(want["student"])) < 0.05, name
        if want["instructor_rate"] > 0:
            assert tool["instructor_rate"] == pytest.approx(want["instructor_rate"], rel=0.25)
            assert _tv(_mix(tool["instructor"]), _mix(want["instructor"])) < 0.05, name
        else:
            assert tool["instructor_rate"] == 0
        assert (tool["ed_app"], tool["object"]) == (want["ed_app"], want["object"])
    assert events["ed_apps"] == default["ed_apps"]
    hours = dict(enumerate(events["diurnal"]))
    assert _tv(hours, dict(enumerate(default["diurnal"]))) < 0.05
    assert events["engagement_sigma"] == pytest.approx(default["engagement_sigma"], abs=0.1)
    levels = sorted(default["course_level"])
    assert np.corrcoef([events["course_level"][v] for v in levels],
                       [default["course_level"][v] for v in levels])[0, 1] > 0.9
    assert events["roles"] == default["roles"] and events["weekday"] == default["weekday"]


def test_day_in_term_follows_the_calendar_shape(profiled):
    profile = profiled[0]
    shape = profile["events"]["day_in_term"]
    default = load_profile()
    fall = academic_calendar(default["calendar"], 1)[0]
    expected = day_shape(default["events"], fall, default["calendar"])
    assert len(shape) == len(expected)  # a whole term, the uncovered days filled weekly
    assert np.mean(shape) == pytest.approx(1.0, abs=1e-3)
    covered = np.corrcoef(shape[:EVENT_DAYS], expected[:EVENT_DAYS])[0, 1]
    assert covered > 0.9, covered


def test_the_profile_validates_and_drives_a_run(profiled, tmp_path):
    profile, manifest, path = profiled
    validate_profile(profile, str(path))
    assert manifest["tables"]["event_store.expanded"] > 100_000
    assert main(["run", "--profile", str(path), "--fte", "300", "--event-days", "7",
                 "--no-marts", "--out", str(tmp_path / "again")]) == 0


# ---- small hand-made sources ----------------------------------------------------------------
def _events(tables: dict, rare: int, membership: bool = True) -> pa.Table:
    """Canvas page views by every enrollment over 14 days, instructor edits, a media tool of
    30 students, a `Rare Tool` of `rare` students, gradebook events and a stray early event;
    UDP-shaped (no `tool` column)."""
    terms = dict(zip(tables["academic_term"]["academic_term_id"],
                     tables["academic_term"]["term_begin_date"], strict=True))
    offering_term = dict(zip(tables["course_offering"]["course_offering_id"],
                             tables["course_offering"]["academic_term_id"], strict=True))
    section_offering = dict(zip(tables["course_section"]["course_section_id"],
                                tables["course_section"]["course_offering_id"], strict=True))
    enrollment = tables["course_section_enrollment"]
    rows = []

    def add(person, offering, role, day, hour, app, kind, action, otype, name=None):
        begin = dt.datetime.fromisoformat(terms[offering_term[offering]]).replace(tzinfo=dt.UTC)
        rows.append({"type": kind, "action": action,
                     "event_time": begin + dt.timedelta(days=day, hours=hour),
                     "object": {"id": f"urn:object:{len(rows)}", "type": otype, "name": name},
                     "ed_app": app, "membership": {"roles": role},
                     "person": {"udp_id": person}, "course_offering": {"udp_id": offering}})

    canvas = {"id": "https://canvas.example.edu/", "name": "Canvas"}
    media = {"id": "https://media.example.com/", "name": "Media Hub"}
    rare_app = {"id": "https://rare.example.com/", "name": "Rare Tool"}
    students = []
    for section, person, role in zip(enrollment["course_section_id"], enrollment["person_id"],
                                     enrollment["role"], strict=True):
        offering = section_offering[section]
        caliper = "Learner" if role == "Student" else "Instructor"
        for day in range(14):
            add(person, offering, caliper, day, 9 + day % 8, canvas, "NavigationEvent",
                "NavigatedTo", "Page")
        if role != "Student":
            add(person, offering, caliper, 2, 10, canvas, "Event", "Modified", "Page")
        elif person not in {p for p, _ in students}:
            students.append((person, offering))  # one enrollment of each student
    for person, offering in students[:30]:
        add(person, offering, "Learner", 3, 20, media, "MediaEvent", "Started", "VideoObject")
    for person, offering in students[:rare]:
        add(person, offering, "Learner", 4, 21, rare_app, "ToolUseEvent", "Used",
            "SoftwareApplication")
    for person, offering in students[:12]:
        add(person, offering, "Learner", 5, 22, canvas, "AssignableEvent", "Submitted",
            "AssignableDigitalResource")
    add(students[0][0], students[0][1], "Learner", -3, 12, canvas, "NavigationEvent",
        "NavigatedTo", "Page")
    table = pa.Table.from_pylist(rows)
    return table.drop_columns(["membership"]) if not membership else table


def _small_source(tmp_path: Path, rare: int = 5, events: bool = True, **kw) -> Path:
    tables = small_tables()
    source = write_parquet(tmp_path / "src", tables)
    if events:
        pq.write_table(_events(tables, rare, **kw), source / "expanded.parquet")
    return source


def test_a_tool_of_fewer_than_k_people_is_suppressed(tmp_path, capsys):
    out = tmp_path / "profile.json"
    assert _profile(_small_source(tmp_path, rare=5), out, "--k", "10") == 0
    events = json.loads(out.read_text())["events"]
    assert "raretool" not in events["tools"] and "raretool" not in events["ed_apps"]
    assert "rare.example.com" not in out.read_text()
    # derived from ed_app and object type: Canvas pages, and the media tool by its name
    assert set(events["tools"]) == {"pages", "mediahub"}
    assert events["tools"]["mediahub"]["object"] == "media"
    assert events["ed_apps"]["mediahub"] == {"id": "https://media.example.com/",
                                             "name": "Media Hub"}
    assert events["tools"]["pages"]["student"] == [
        {"type": "NavigationEvent", "action": "NavigatedTo", "object_type": "Page", "p": 1.0}]
    # 8 instructors: fewer than k, so no instructor stream is published
    assert events["tools"]["pages"]["instructor_rate"] == 0
    actions = json.loads(out.with_name("profile.privacy.json").read_text())["actions"]
    assert {"path": "/events/tools/raretool", "action": "suppressed",
            "reason": "a tool used by fewer than k=10 people is not published",
            "rows_affected": 5} in actions
    assert any(a["path"] == "/events/tools/pages/instructor" for a in actions)
    printed = capsys.readouterr().out
    assert "no `tool` column" in printed and "before their term's begin date" in printed


def test_a_source_without_events_keeps_the_default(tmp_path, capsys):
    out = tmp_path / "profile.json"
    assert _profile(_small_source(tmp_path, events=False), out) == 0
    assert json.loads(out.read_text())["events"] == load_profile()["events"]
    assert "no event_store.expanded table" in capsys.readouterr().out


def test_an_event_table_without_membership_takes_roles_from_enrollments(tmp_path, capsys):
    """membership is optional (issue 11): the actor's role comes from their enrollment in the
    event's course, with a note, and the same tools are estimated."""
    out = tmp_path / "profile.json"
    assert _profile(_small_source(tmp_path, membership=False), out, "--k", "10") == 0
    assert "has no membership.roles" in capsys.readouterr().out
    events = json.loads(out.read_text())["events"]
    assert set(events["tools"]) == {"pages", "mediahub"}
    assert events["tools"]["pages"]["student"][0]["action"] == "NavigatedTo"


def test_an_event_table_without_ed_app_is_one_applications(tmp_path, capsys):
    """A converted click stream names no application (no ed_app at all): its events are one
    application's, `lms`, with a note, and their rate and mix are learned (the table was set
    aside as lacking ed_app.id, and the events part was the default's)."""
    source = _small_source(tmp_path)
    table = pq.read_table(source / "expanded.parquet")
    pq.write_table(table.drop_columns(["ed_app"]), source / "expanded.parquet")
    out = tmp_path / "profile.json"
    assert _profile(source, out, "--k", "10") == 0
    assert "has no ed_app.id: nor an app's name: every event is counted as one " \
           "application's, 'lms'" in capsys.readouterr().out.replace("\n", " ")
    profile = json.loads(out.read_text())
    assert set(profile["events"]["tools"]) == {"lms"}
    actions = {(m["type"], m["action"]) for m in profile["events"]["tools"]["lms"]["student"]}
    assert ("NavigationEvent", "NavigatedTo") in actions and ("MediaEvent", "Started") in actions
    validate_profile(profile)
    assert main(["run", "--profile", str(out), "--fte", "300", "--event-days", "7",
                 "--no-marts", "--no-evaluate", "--out", str(tmp_path / "run")]) == 0
    with duckdb.connect(str(tmp_path / "run" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM event_store.expanded WHERE tool = 'lms'"
                           ).fetchall()[0][0] > 1000


def test_an_event_table_without_a_needed_column_is_set_aside(tmp_path, capsys):
    """A missing column is never a failure (issue 11): without `type` the event-rate model
    cannot be estimated, so the events part is the default's, with a note."""
    source = _small_source(tmp_path)
    table = pq.read_table(source / "expanded.parquet")
    pq.write_table(table.drop_columns(["type"]), source / "expanded.parquet")
    out = tmp_path / "profile.json"
    assert _profile(source, out) == 0
    assert "lacks type (needed for the event-rate model)" in capsys.readouterr().out
    assert json.loads(out.read_text())["events"] == load_profile()["events"]


def test_actions_outside_caliper_are_left_out(tmp_path, capsys):
    """An institution's own (type, action) pairs cannot be generated as Caliper events: they
    are left out of the tool's mix with a note, and the profile validates."""
    source = _small_source(tmp_path)
    table = pq.read_table(source / "expanded.parquet")
    action = pa.array(["Poked" if a == "Started" else a
                       for a in table.column("action").to_pylist()])
    pq.write_table(table.set_column(table.schema.get_field_index("action"), "action", action),
                   source / "expanded.parquet")
    out = tmp_path / "profile.json"
    assert _profile(source, out) == 0
    assert "not Caliper 1.1 events: MediaEvent Poked VideoObject" in capsys.readouterr().out
    validate_profile(json.loads(out.read_text()))


def test_an_apps_own_object_types_count_as_the_generic_caliper_type(tmp_path, capsys):
    """A source converted from another platform names its objects in its own words (a VLE's
    `oucontent`, `forumng`): the events keep their tool, rate and action, counted under the
    generic object type Caliper 1.1 gives the action, with a note, where they were left out
    and the whole tool with them."""
    source = _small_source(tmp_path)
    table = pq.read_table(source / "expanded.parquet")
    objects = table.column("object").to_pylist()
    for n, item in enumerate(objects):
        if item["type"] == "VideoObject":
            item["type"] = ("lecture_capture", "podcast")[n % 2]
    pq.write_table(table.set_column(table.schema.get_field_index("object"), "object",
                                    pa.array(objects)), source / "expanded.parquet")
    out = tmp_path / "profile.json"
    assert _profile(source, out, "--k", "10") == 0
    printed = capsys.readouterr().out
    assert "2 object type(s) that Caliper 1.1 does not give their event's action counted as " \
           "its generic type" in printed and "lecture_capture, podcast" in printed
    profile = json.loads(out.read_text())
    assert profile["events"]["tools"]["mediahub"]["student"] == [
        {"type": "MediaEvent", "action": "Started", "object_type": "MediaObject", "p": 1.0}]
    validate_profile(profile)


@pytest.mark.parametrize("sep", [".", "_"], ids=["dotted", "underscored"])
def test_a_flat_event_table_reads_as_the_nested_one(tmp_path, capsys, sep):
    """A CSV cannot hold the event store's records: an export writes them flat, as
    `object.type`, `ed_app.id`, `person.udp_id` … (or joined by underscores: `object_type`,
    `course_offering_udp_id`). Read back as the nested fields, the events part is the same
    as from the nested Parquet (it was set aside for the default)."""
    source = _small_source(tmp_path)
    nested = tmp_path / "nested.json"
    assert _profile(source, nested, "--k", "10") == 0
    events = source / "expanded.parquet"
    flat = ", ".join(f'{record}.{field} AS "{record}{sep}{field}"' for record, field in (
        ("object", "id"), ("object", "type"), ("object", "name"), ("ed_app", "id"),
        ("ed_app", "name"), ("membership", "roles"), ("person", "udp_id"),
        ("course_offering", "udp_id")))
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT type, action, event_time, {flat} FROM '{events}') "
                    f"TO '{source / 'expanded.csv'}' (HEADER)")
    events.unlink()
    capsys.readouterr()
    out = tmp_path / "flat.json"
    assert _profile(source, out, "--k", "10") == 0
    assert f"flat column(s) read as nested fields (object{sep}id, object{sep}type" in \
        capsys.readouterr().out
    assert json.loads(out.read_text())["events"] == json.loads(nested.read_text())["events"]


def test_an_unreadable_event_time_is_one_missing_event(tmp_path, capsys):
    """A CSV export whose event_time holds one value that is no time ('not recorded') and a
    blank: those two events are not counted, with a note, and the rest make the events
    part. One such value among all the events stopped the whole profile (exit 2)."""
    source = _small_source(tmp_path)
    nested = tmp_path / "nested.json"
    assert _profile(source, nested, "--k", "10") == 0
    rewrite_column(source / "expanded.parquet", "event_time", "CASE row_number() OVER () "
                   "WHEN 3 THEN 'not recorded' WHEN 5 THEN '' ELSE CAST(event_time AS VARCHAR) "
                   "END")
    capsys.readouterr()
    out = tmp_path / "messy.json"
    assert _profile(source, out, "--k", "10") == 0
    assert "1 value(s) of event_time that are not dates (such as 'not recorded') read as " \
        "missing" in capsys.readouterr().out
    rates = [json.loads(path.read_text())["events"]["tools"] for path in (nested, out)]
    assert rates[0].keys() == rates[1].keys()
    for tool, spec in rates[0].items():
        assert spec["rate"] == pytest.approx(rates[1][tool]["rate"], rel=0.02), tool


# ---- BigQuery -------------------------------------------------------------------------------
@pytest.mark.parametrize("membership", [True, False], ids=["membership", "no-membership"])
def test_bigquery_source_estimates_the_same_events(tmp_path, bigquery_emulator, membership):
    """The event SQL in BigQuery's dialect, through the real client against the emulator on
    loopback: the same `events` section as DuckDB over the same tables (without membership:
    roles joined from the enrollments)."""
    import io

    from google.cloud import bigquery

    from distributions._bigquery import BigQuerySource
    from distributions._profiler import profile_source

    source = _small_source(tmp_path, membership=membership)
    client, dataset = bigquery_emulator, f"udp_events_{int(membership)}"
    client.create_dataset(f"{BQ_PROJECT}.{dataset}", exists_ok=True)
    for path in sorted(source.glob("*.parquet")):
        table = pq.read_table(path)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET,
                                        schema=[_bq_field(f) for f in table.schema])
        client.load_table_from_file(buffer, f"{BQ_PROJECT}.{dataset}.{path.stem}",
                                    job_config=config).result(timeout=60)
    in_bigquery = profile_source(BigQuerySource(BQ_PROJECT, dataset, client=client))
    in_duckdb = profile_source(str(source))
    assert in_bigquery.profile["events"] == in_duckdb.profile["events"]
    assert [a for a in in_bigquery.manifest["actions"] if a["path"].startswith("/events")] == \
        [a for a in in_duckdb.manifest["actions"] if a["path"].startswith("/events")]


BQ_PROJECT = "test-project"


def _bq_field(field: pa.Field):
    from google.cloud import bigquery

    if pa.types.is_struct(field.type):
        return bigquery.SchemaField(field.name, "RECORD",
                                    fields=[_bq_field(f) for f in field.type])
    kind = ("INT64" if pa.types.is_integer(field.type) else
            "TIMESTAMP" if pa.types.is_timestamp(field.type) else "STRING")
    return bigquery.SchemaField(field.name, kind)
