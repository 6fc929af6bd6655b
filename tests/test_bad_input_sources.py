"""Profiling bad sources: fatal key and date problems are refused with exit code 2 and one
`campus-synth: error:` line, nothing written; survivable dirt is left out and noted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bad_input_cli import PREFIX, _squash

from pipeline.cli import main


# ---- profiling sources: fatal key and date problems, survivable dirt -----------------------
def _source(tmp_path: Path, mutate, fmt: str = "parquet") -> Path:
    from test_profile_inputs import small_tables, write_csv, write_parquet

    tables = small_tables()
    mutate(tables)
    return (write_csv if fmt == "csv" else write_parquet)(tmp_path / "src", tables)


def _drop(table: str, column: str):
    return lambda tables: tables[table].pop(column)


def _replace(table: str, column: str, index: int, value):
    def mutate(tables):
        tables[table][column] = list(tables[table][column])
        tables[table][column][index] = value
    return mutate


def _add(table: str, columns: dict):
    return lambda tables: tables.__setitem__(table, columns)


# (id, mutation, CSV or Parquet, texts the one-line message must contain)
SOURCE_CASES = [
    ("person-key-absent", _drop("person", "person_id"), "parquet",
     ["table person has no column person_id"]),
    ("term-key-absent", _drop("academic_term", "academic_term_id"), "parquet",
     ["table academic_term has no column academic_term_id"]),
    ("section-join-key-absent", _drop("course_section", "course_offering_id"), "parquet",
     ["table course_section has no column course_offering_id"]),
    ("enrollment-person-absent", _drop("course_section_enrollment", "person_id"), "csv",
     ["table course_section_enrollment has no column person_id"]),
    ("activity-join-key-absent", _add("learner_activity", {"learner_activity_id": [1, 2],
                                                           "title": ["a", "b"]}), "parquet",
     ["table learner_activity has no column course_offering_id"]),
    ("discussion-join-key-absent", _add("discussion", {"discussion_id": [1, 2, 3],
                                                       "title": ["a", "b", "c"]}), "parquet",
     ["table discussion has no column course_offering_id"]),
    ("term-ends-before-it-begins", _replace("academic_term", "term_end_date", 0, "2024-08-01"),
     "parquet", ["table academic_term, column term_end_date", "end before they begin"]),
]


@pytest.mark.parametrize("mutate, fmt, expected", [c[1:] for c in SOURCE_CASES],
                         ids=[c[0] for c in SOURCE_CASES])
def test_unusable_source_is_one_message(tmp_path, capsys, mutate, fmt, expected):
    source = _source(tmp_path, mutate, fmt)
    out = tmp_path / "profile.json"
    code = main(["profile", "--source", str(source), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "Binder Error" not in captured.err and "Conversion Error" not in captured.err
    assert captured.err.startswith(PREFIX) and len(captured.err.strip().split("\n")) == 1
    for text in expected:
        assert text in captured.err, captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"], "something was written"


def test_dirty_source_is_counted_and_noted(tmp_path, capsys):
    """NULL keys and orphans are left out, and of rows sharing a key one is kept, by the
    stated rule, each named in the notes (printed, and kept in the privacy manifest beside
    the profile). Leaving every copy of a repeated person out lost their enrollments too."""
    def dirty(tables):
        people, enrollments = tables["person"], tables["course_section_enrollment"]
        for column in people:  # person 0 twice: one copy goes
            people[column] = [*people[column], people[column][0]]
        for column in enrollments:  # one enrollment twice, and two pointing at nobody
            enrollments[column] = [*enrollments[column], enrollments[column][5]]
        enrollments["person_id"][10:12] = [1, 2]
        tables["person_email"]["person_id"][3] = None

    source = _source(tmp_path, dirty)
    out = tmp_path / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.replace("\n", " ")
    notes = json.loads(out.with_name("profile.privacy.json").read_text())["notes"]
    for text in ("source table person: left out 1 row(s) with a NULL or repeated person_id",
                 "source table course_section_enrollment: left out",
                 "with a NULL or repeated (course_section_id, person_id, role)",
                 "whose person_id is NULL or names no person row"):
        assert any(text in note for note in notes), (text, notes)
        assert _squash(text) in _squash(printed)
