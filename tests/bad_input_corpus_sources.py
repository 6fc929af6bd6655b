"""The corpus's profiling sources: a small institution (tests/test_profile_inputs.py) with
an activity, results and one dirty trait each, as Parquet, CSV or a DuckDB file."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import duckdb
import pyarrow as pa
from bad_input_corpus import Case
from bad_input_corpus_damages import (
    RESULTS,
    _as_empty_folder,
    _duplicate_header,
    _extra_tables,
    _garbage,
    _gzipped,
    _header_only,
    _held_for_writing,
    _json_grades,
    _keep_rows,
    _latin1_names,
    _lonely_person,
    _loop_entry,
    _null_typed,
    _other_schema,
    _person_twice,
    _ragged,
    _rename,
    _semicolons,
    _set,
    _stray_files,
    _stray_view,
    _stray_view_named,
    _tab_separated,
    _text_keys,
    _two_levels,
    _upper_columns,
    _upper_file_names,
    _upper_table_name,
    _zero_bytes,
)
from test_profile_inputs import ID_BASE, small_tables, write_csv, write_parquet


def tables_with_results() -> dict[str, dict]:
    """small_tables() plus assignment groups, activities and results (scores, dates)."""
    tables = small_tables()
    offerings = tables["course_offering"]["course_offering_id"]
    groups = {"learner_activity_group_id": [ID_BASE + 700 + i for i in range(6)],
              "course_offering_id": offerings, "name": ["Homework"] * 6,
              "group_weight": [100.0] * 6, "status": ["available"] * 6}
    activities = {"learner_activity_id": [ID_BASE + 800 + i for i in range(12)],
                  "course_offering_id": [offerings[i // 2] for i in range(12)],
                  "learner_activity_group_id": [ID_BASE + 700 + i // 2 for i in range(12)],
                  "title": [f"Assignment {i}" for i in range(12)],
                  "due_date": ["2024-10-01 23:59:00" if i // 2 % 2 == 0 else
                               "2025-03-01 23:59:00" for i in range(12)],
                  "points_possible": [10.0] * 12, "status": ["published"] * 12}
    enrollments = tables["course_section_enrollment"]
    sections = dict(zip(tables["course_section"]["course_section_id"],
                        tables["course_section"]["course_offering_id"], strict=True))
    results = {"learner_activity_result_id": [], "learner_activity_id": [], "person_id": [],
               "response_date": [], "published_score": [], "grading_status": []}
    for section, person, role in zip(enrollments["course_section_id"], enrollments["person_id"],
                                     enrollments["role"], strict=True):
        if role != "Student":
            continue
        offering = offerings.index(sections[section])
        for activity in (2 * offering, 2 * offering + 1):
            results["learner_activity_result_id"].append(ID_BASE + 10_000 + len(
                results["person_id"]))
            results["learner_activity_id"].append(ID_BASE + 800 + activity)
            results["person_id"].append(person)
            results["response_date"].append(activities["due_date"][activity])
            results["published_score"].append(float(len(results["person_id"]) % 11))
            results["grading_status"].append("graded")
    return {**tables, "learner_activity_group": groups, "learner_activity": activities,
            "learner_activity_result": results}


def write_duckdb(path: Path, tables: dict[str, dict], schema: str = "main") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for name, columns in tables.items():
            frame = pa.table(columns)  # noqa: F841 (read by the SQL below)
            connection.execute(f'CREATE TABLE {schema}."{name}" AS SELECT * FROM frame')
    return path


WRITERS = {"parquet": lambda f, t: write_parquet(f / "src", t),
           "csv": lambda f, t: write_csv(f / "src", t),
           "duckdb": lambda f, t: write_duckdb(f / "src.duckdb", t)}


def _source_case(name, mutate, fmt="parquet", expect="ok", says=(), after=None,
                 generate=False):
    """`profile --source` on tables_with_results() changed by `mutate` (tables → None),
    written as `fmt`; `after(folder, source)` then damages the written files."""
    def build(folder: Path) -> list[str]:
        tables = tables_with_results()
        if mutate:
            mutate(tables)
        source = WRITERS[fmt](folder, tables)
        if after:
            after(folder, source)
        return ["profile", "--source", str(source), "--out", str(folder / "p.json")]
    return Case(f"source-{name}-{fmt}", "source", build, expect, list(says), generate)


def _out_case(name, out: str, setup, says):
    """`profile` of the small source (Parquet) into `--out folder/OUT`, after
    `setup(folder)` made what is in the way."""
    def build(folder: Path) -> list[str]:
        source = WRITERS["parquet"](folder, tables_with_results())
        setup(folder)
        return ["profile", "--source", str(source), "--out", str(folder / out)]
    return Case(f"source-out-{name}", "source", build, "refused", list(says))


def _sqlite_source(folder: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(folder / "src.duckdb")) as connection:
        connection.execute("CREATE TABLE person (person_id INTEGER)")
        connection.commit()
    return ["profile", "--source", str(folder / "src.duckdb"), "--out", str(folder / "p.json")]


SOURCE_CASES = [
    _source_case("as-built", None, generate=True),
    _source_case("as-built", None, "csv"),
    _source_case("as-built", None, "duckdb"),
    _source_case("zero-byte-person", None, "parquet", "refused", ["person"], _zero_bytes("person")),
    _source_case("corrupt-section", None, "parquet", "refused", ["course_section"],
                 _garbage("course_section")),
    _source_case("zero-byte-person", None, "csv", "refused", ["table person is empty",
                                                               "person.csv has 0 bytes"],
                 _zero_bytes("person")),
    _source_case("header-only-enrollment", None, "csv", "refused",
                 ["course_section_enrollment"], _header_only("course_section_enrollment")),
    _source_case("header-only-results", None, "csv", "ok", after=_header_only(RESULTS)),
    _source_case("header-only-person", None, "csv", "refused", ["table person is empty"],
                 _header_only("person")),
    _source_case("header-only-activities", None, "csv", "ok",
                 after=_header_only("learner_activity"), generate=True),
    _source_case("zero-byte-results", None, "csv", "ok", [
        "source file learner_activity_result.csv: empty (0 bytes)"], _zero_bytes(RESULTS)),
    _source_case("corrupt-results", None, "parquet", "clean", [RESULTS], _garbage(RESULTS)),
    _source_case("non-utf8", None, "csv", "ok", ["source file person.csv: read as Latin-1"],
                 _latin1_names),
    _source_case("mixed-types", _set("course_section", "max_enrollment",
                                     lambda n: ["30"] * (n - 1) + ["thirty"]), "csv", "ok",
                 ["(such as 'thirty') read as missing"]),
    _source_case("nulls-in-a-never-null-column", _set("course_section", "max_enrollment",
                                                      lambda n: [None, None] + [30] * (n - 2)),
                 generate=True),
    _source_case("scores-with-na", _set(RESULTS, "published_score", lambda n: [
        ("NA", "?", "-")[i % 3] if i % 4 == 0 else f"{i % 11}" for i in range(n)]), "csv",
                 says=["value(s) of published_score that are not numbers (such as '-') "
                       "read as missing"], generate=True),
    _source_case("dates-day-first", _set("learner_activity", "due_date", lambda n: [
        "13/10/2024 23:59" if i % 2 else "01/03/2025 09:00" for i in range(n)]), "csv",
                 says=["12 value(s) of due_date read as dates in the layout %d/%m/%Y %H:%M"]),
    _source_case("dates-in-many-layouts", _set(RESULTS, "response_date", lambda n: [
        ("2024-10-01 10:00:00", "10/02/2024", "Oct 03 2024", "04.10.2024")[i % 4]
        for i in range(n)]), "csv", says=["value(s) of response_date read as dates"]),
    _source_case("numbers-with-separators", _set("learner_activity", "points_possible",
                                                 ["1,000.0"] * 12), "csv",
                 says=["12 value(s) of points_possible read as numbers (thousands"]),
    _source_case("decimal-commas", _set(RESULTS, "published_score", lambda n: [
        f"{i % 11},5" for i in range(n)]), "csv", after=_semicolons,
                 says=["value(s) of published_score read as numbers (thousands separators "
                       "or decimal commas)"]),
    _source_case("numbers-as-strings", _set("course_offering", "available_credits",
                                            lambda n: [str(3)] * n), "parquet", "clean"),
    _source_case("scores-as-strings", _set(RESULTS, "published_score",
                                           lambda n: [f"{i % 11}" for i in range(n)]),
                 "parquet", "clean"),
    _source_case("all-null-sex", _set("person", "sex", lambda n: [None] * n)),
    _source_case("all-null-sex", _set("person", "sex", lambda n: [None] * n), "csv"),
    _source_case("all-null-scores", _set(RESULTS, "published_score", lambda n: [None] * n)),
    _source_case("duplicate-column", None, "csv", "clean", after=_duplicate_header),
    _source_case("upper-case-columns", _upper_columns, "parquet", "ok",
                 ["column names read in lower case"]),
    _source_case("upper-case-columns", _upper_columns, "csv", "ok",
                 ["column names read in lower case"]),
    _source_case("column-with-space", _rename("person", "first_name", "first name")),
    _source_case("names-padded-with-spaces", lambda t: (
        _rename("person", "person_id", " person_id")(t), _rename("person", "sex", "Sex ")(t)),
                 says=[
        "source table person: column names read in lower case (' person_id' as person_id, "
        "'Sex ' as sex)"]),
    _source_case("column-with-quote", _rename("person", "last_name", 'last "name"')),
    _source_case("tz-timestamps", _set("academic_term", "term_begin_date", lambda n: [
        "2024-08-26T00:00:00+05:00", "2025-01-13T00:00:00-08:00"]), "csv", "clean"),
    _source_case("tz-timestamps", None, "duckdb", "clean", after=lambda f, s: duckdb.connect(
        str(s)).execute("ALTER TABLE academic_term ALTER term_begin_date TYPE TIMESTAMPTZ "
                        "USING CAST(term_begin_date AS TIMESTAMPTZ)").close()),
    _source_case("dates-1900", _set("academic_term", "term_begin_date",
                                    ["1900-08-26", "1901-01-13"]), "parquet", "clean"),
    _source_case("dates-9999", _set("academic_term", "term_end_date",
                                    ["9999-12-20", "9999-12-31"]), "parquet", "clean"),
    _source_case("dates-garbage", _set("academic_term", "term_end_date",
                                       ["soon", "2025-05-09"]), "csv", "clean"),
    _source_case("dates-as-yyyymmdd", _set("academic_term", "term_begin_date", [
        20240826, 20250113]), "csv", says=["column term_begin_date read as dates from "
                                           "integers yyyymmdd"], generate=True),
    _source_case("dates-as-day-offsets", _set(RESULTS, "response_date", lambda n: [
        15 + i % 30 for i in range(n)]), "csv", says=[
        "column response_date holds BIGINT, not dates: read as not in the source"],
                 generate=True),
    _source_case("scores-as-booleans", _set(RESULTS, "published_score", lambda n: [
        i % 2 == 1 for i in range(n)]), says=[
        "column published_score holds BOOLEAN, not numbers"]),
    _source_case("dates-null", _set("academic_term", "term_begin_date", [None, None]),
                 "parquet", "clean"),
    _source_case("scores-negative", _set(RESULTS, "published_score",
                                         lambda n: [-5.0 if i % 3 else 4.0 for i in range(n)]),
                 says=["result(s) scored below 0"], generate=True),
    _source_case("scores-above-points", _set(RESULTS, "published_score",
                                             lambda n: [500.0] * n),
                 says=["result(s) scored above their activity's points_possible"]),
    _source_case("points-possible-zero", _set("learner_activity", "points_possible",
                                              [0.0] * 12),
                 says=["whose points_possible is 0, negative or NULL"], generate=True),
    _source_case("points-possible-negative", _set("learner_activity", "points_possible",
                                                  [-10.0] * 12),
                 says=["whose points_possible is 0, negative or NULL"]),
    _source_case("one-term-row", _keep_rows("academic_term", 1), "parquet", "ok"),
    _source_case("person-without-enrollments", _lonely_person),
    _source_case("sections-of-no-offering", _set("course_section", "course_offering_id",
                                                 lambda n: [None] * n), "parquet", "refused",
                 ["table course_section has no rows left", "course_offering_id is NULL"]),
    _source_case("some-sections-of-no-offering", _set(
        "course_section", "course_offering_id", lambda n: [None] + [ID_BASE + 500 + i // 2
                                                                    for i in range(1, n)]),
        says=["1 row(s) whose course_offering_id is NULL or names no course_offering row"]),
    _source_case("extra-tables", _extra_tables, "parquet"),
    _source_case("one-table-in-two-files", None, "parquet", after=_person_twice, says=[
        "source file person.parquet: not read (table person is read from another file",
        "source file PERSON_EMAIL.csv: not read (table person_email is read from another"]),
    _source_case("extra-schemas", None, "duckdb", after=_other_schema),
    _source_case("stray-unreadable-files", None, "parquet", after=_stray_files, says=[
        "source file backup_2023.parquet: not read (not a UDP table",
        "source file weather.parquet: not read (not a UDP table"]),
    _source_case("stray-broken-view", None, "duckdb", after=_stray_view,
                 says=["source table weather: not read (not a UDP table"]),
    _source_case("broken-view-of-results", None, "duckdb", "refused",
                 ["cannot read table learner_activity_result"],
                 _stray_view_named(RESULTS)),
    Case("source-sqlite-as-duckdb", "source", _sqlite_source, "refused",
         ["src.duckdb", "a SQLite database, not DuckDB"]),
    _out_case("is-a-folder", "d", lambda f: (f / "d").mkdir(), ["--out", "a folder"]),
    _out_case("manifest-is-a-folder", "p.json", lambda f: (f / "p.privacy.json").mkdir(),
              ["p.privacy.json", "privacy manifest"]),
    _out_case("under-a-file", "f/p.json", lambda f: (f / "f").write_text("x"),
              ["f is a file, not a folder"]),
    _source_case("results-as-empty-folder", None, "parquet", "clean", [RESULTS],
                 _as_empty_folder(RESULTS)),
    _source_case("person-as-empty-folder", None, "parquet", "refused", ["person"],
                 _as_empty_folder("person")),
    _source_case("results-partitioned-deeper", _set(RESULTS, "published_score", lambda n: [
        float("nan")] + [float(i % 11) for i in range(1, n)]), "parquet", after=_two_levels,
                 says=["1 value(s) of published_score are NaN"]),
    _source_case("grades-as-folder-of-json", None, "parquet", after=_json_grades, says=[
        "source folder course_grade: holds no .parquet or .csv file"]),
    _source_case("symlink-loop-entry", None, "parquet", "clean", after=_loop_entry),
    _source_case("held-for-writing", None, "duckdb", "clean", after=_held_for_writing),
    _source_case("float-keys", _set("person", "person_id", lambda n: [
        float(ID_BASE + i) for i in range(n)]), "parquet", "clean"),
    _source_case("fractional-keys", _set("person", "person_id", lambda n: [
        ID_BASE + i + 0.5 for i in range(n)]), "parquet", "refused", ["person_id"]),
    _source_case("keys-as-digit-text", _text_keys, "parquet", "ok",
                 ["column person_id read as integers (stored as VARCHAR)"], generate=True),
    _source_case("keys-as-codes", lambda t: _text_keys(t, "K-"), "parquet", "ok",
                 ["keys that are not digits as numbers drawn from their text"],
                 generate=True),
    _source_case("one-key-as-a-code", _set("course_section", "course_offering_id", lambda n: [
        "CS-101"] + [str(ID_BASE + 500 + i // 2) for i in range(1, n)]), "csv", "ok", [
        "1 row(s) whose course_offering_id is NULL or names no course_offering row"]),
    _source_case("zero-padded-keys", _set("person", "person_id", lambda n: [
        f"00{ID_BASE + i}" for i in range(n)]), "csv", "ok", ["read as integers"]),
    _source_case("null-typed-key", None, "parquet", "ok", after=_null_typed(
        RESULTS, "person_id")),
    _source_case("huge-keys", _set("person", "person_id", lambda n: [
        2**63 - 1 - i for i in range(n)]), "parquet", "clean"),
    _source_case("unknown-roles", _set("course_section_enrollment", "role", lambda n: [
        "Studnet"] * n), "parquet", "clean"),
    _source_case("nan-and-infinite-scores", _set(RESULTS, "published_score", lambda n: [
        float("nan") if i % 4 == 0 else float("inf") if i % 7 == 0 else float(i % 11)
        for i in range(n)]), says=["value(s) of published_score are NaN or infinite"],
                 generate=True),
    _source_case("a-score-of-1e300", _set(RESULTS, "published_score", lambda n: [
        1e300 if i == 3 else float(i % 11) for i in range(n)]),
                 says=["1 value(s) of published_score are NaN or infinite or beyond"]),
    _source_case("huge-numbers-in-extras", lambda t: t["person"].update(
        balance=[1e17 * (i % 5) for i in range(80)], big=[2**62 * (i % 2) for i in range(80)]),
                 says=["value(s) of big are NaN or infinite or beyond"], generate=True),
    _source_case("nan-scores", _set(RESULTS, "published_score", lambda n: [
        "NaN" if i % 3 == 0 else f"{i % 11}" for i in range(n)]), "csv",
                 says=["value(s) of published_score are NaN or infinite"]),
    _source_case("equal-scores", _set(RESULTS, "published_score", lambda n: [3.0] * n),
                 generate=True),
    _source_case("roles-in-lower-case", _set("course_section_enrollment", "role", lambda n: [
        "student" if i % 5 else "teaching_assistant" for i in range(n)]),
                 says=["value(s) of role read in their UDP spelling"], generate=True),
    _source_case("statuses-in-upper-case", _set("course_section_enrollment", "role_status",
                                                lambda n: ["ENROLLED"] * (n - 1) + ["Withdrawn"]),
                 "csv", says=["value(s) of role_status read in their UDP spelling"]),
    _source_case("no-student-role", _set("course_section_enrollment", "role", lambda n: [
        "Learner"] * n), "parquet", "refused", ["column role", "no enrollment is a Student",
                                                "'Learner'"]),
    _source_case("gzipped", None, "csv", "ok", after=_gzipped, generate=True),
    _source_case("tab-separated", None, "csv", "ok", after=_tab_separated),
    _source_case("ragged-rows", None, "csv", "ok", after=_ragged(RESULTS), says=[
        "source file learner_activity_result.csv: some rows hold more or fewer fields"],
                 generate=True),
    _source_case("upper-case-file-names", None, "parquet", "ok",
                 ["source table names read in lower case (ACADEMIC_TERM as academic_term"],
                 _upper_file_names),
    _source_case("mixed-case-table", None, "duckdb", "ok",
                 ["source table names read in lower case (Course_Section as course_section)"],
                 _upper_table_name),
    _source_case("everyone-withdrawn", _set("course_section_enrollment", "role_status",
                                            lambda n: ["Withdrawn"] * n)),
]
