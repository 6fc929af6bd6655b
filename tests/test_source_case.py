"""Column names in a source are case-insensitive, as in DuckDB and BigQuery: `Person_ID` is read
as `person_id` (a note says so), and only two columns that differ in case alone are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bad_input_corpus_sources import write_duckdb
from test_profile_inputs import profile, small_tables, write_csv, write_parquet

# the spellings a warehouse export might use: keys, a join key, a categorical, a date
UPPER = {"person": {"person_id": "Person_ID", "sex": "SEX"},
         "course_section_enrollment": {"person_id": "PERSON_ID", "role": "Role",
                                       "course_section_id": "Course_Section_ID"},
         "academic_term": {"term_begin_date": "Term_Begin_Date"}}
WRITERS = {"parquet": lambda folder, tables: write_parquet(folder / "src", tables),
           "duckdb": lambda folder, tables: write_duckdb(folder / "src.duckdb", tables)}


def _spelled(tables: dict[str, dict]) -> dict[str, dict]:
    return {name: {UPPER.get(name, {}).get(c, c): v for c, v in columns.items()}
            for name, columns in tables.items()}


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_upper_case_columns_give_the_lower_case_sources_profile(tmp_path, fmt):
    lower = WRITERS[fmt](tmp_path / "lower", small_tables())
    upper = WRITERS[fmt](tmp_path / "upper", _spelled(small_tables()))
    assert profile(lower, tmp_path / "lower.json") == 0
    assert profile(upper, tmp_path / "upper.json") == 0
    # the same source under other spellings: the same profile, byte for byte
    assert (tmp_path / "upper.json").read_bytes() == (tmp_path / "lower.json").read_bytes()
    assert_folded_notes(tmp_path)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_two_columns_differing_only_in_case_are_refused(tmp_path, capsys, fmt):
    tables = small_tables()
    source = (write_parquet if fmt == "parquet" else write_csv)(tmp_path / "src", tables)
    person = source / f"person.{fmt}"
    if fmt == "parquet":
        pq.write_table(pa.table({**tables["person"], "Sex": tables["person"]["sex"]}), person)
    else:
        text = person.read_text().splitlines()
        person.write_text("\n".join([text[0] + ",Sex"] + [r + ",x" for r in text[1:]]) + "\n")
    out = tmp_path / "profile.json"
    assert profile(source, out) == 2
    message = capsys.readouterr().err
    assert message.count("campus-synth: error:") == 1 and "Traceback" not in message
    assert str(person) in message and "'sex'" in message and "'Sex'" in message
    assert not out.exists() and not Path(str(out).replace(".json", ".privacy.json")).exists()


def assert_folded_notes(tmp_path) -> None:
    """upper.privacy.json's notes: one folding note per upper-case table, then exactly the
    notes of lower.privacy.json (nothing else differs)."""
    notes = json.loads((tmp_path / "upper.privacy.json").read_text())["notes"]
    folded = [n for n in notes if "column names read in lower case" in n]
    assert len(folded) == len(UPPER)
    assert any("course_section_enrollment" in n and "PERSON_ID as person_id" in n
               and "Course_Section_ID as course_section_id" in n for n in folded)
    lower_notes = json.loads((tmp_path / "lower.privacy.json").read_text())["notes"]
    assert notes[len(folded):] == lower_notes
