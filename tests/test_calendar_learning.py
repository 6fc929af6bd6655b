"""The calendar is learned from term dates alone: a source whose academic_term has no
term_type (a converted dataset keeps names and dates, not UDP's type vocabulary) still gives
its own term lengths and starts, not the default 17-week Fall and Spring.

The source is hand-built (tests/handbuilt.py): four 36-week terms beginning in February and
October that overlap, as the presentations of a distance-learning university do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from handbuilt import institution, shape_of, write_duckdb

from pipeline.cli import main


@pytest.fixture(scope="module")
def learned(tmp_path_factory) -> tuple[dict, str]:
    """(the profile's calendar, the profile command's output) for a source without term_type."""
    folder = tmp_path_factory.mktemp("untyped-terms")
    tables = institution(shape_of("one_term", students=400))
    tables["academic_term"] = tables["academic_term"].drop(columns=["term_type"])
    source = write_duckdb(folder / "source.duckdb", tables)
    out = folder / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(out)]) == 0
    return json.loads(out.read_text())["calendar"], str(out)


def test_terms_without_a_type_keep_their_length_and_start(learned):
    calendar, _ = learned
    types = calendar["term_types"]
    assert set(types) == {"Spring", "Fall"}  # February and October starts
    assert {spec["weeks"] for spec in types.values()} == {36}
    assert types["Spring"]["begins_on_or_after"].startswith("02-")
    assert types["Fall"]["begins_on_or_after"].startswith("10-")
    assert types["Spring"]["next"] == "Fall" and types["Fall"]["next"] == "Spring"


def test_exams_sit_at_the_end_and_date_bound_breaks_are_not_moved(learned):
    """Finals fall in the last week of a 36-week term; Labor Day and Thanksgiving belong to
    a late-August Fall, not one beginning in October."""
    calendar, _ = learned
    fall = calendar["term_types"]["Fall"]
    finals = [e["week"] for e in fall["exams"] if e["name"] == "Finals"]
    assert finals == [36]
    assert fall["breaks"] == []


def test_the_untyped_terms_are_named_in_the_notes(learned):
    """The privacy manifest's notes say which terms were named and by what rule."""
    _, path = learned
    notes = json.loads(Path(path.replace(".json", ".privacy.json")).read_text())["notes"]
    assert any("4 of 4 term(s) have no term_type" in note and "month it begins in" in note
               for note in notes), notes
