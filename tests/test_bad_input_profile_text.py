"""Profiles as users send them, as text: every value a profile can carry, malformed (NaN,
Infinity, shares that do not add up, unknown cells, documents nested 100,000 deep, huge,
binary or too large to read), is refused through the CLI with exit code 2 and a short
`campus-synth: error:` message naming where, and nothing left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bad_input_cli import PREFIX, _assert_nothing_left, _default, _run, _squash

from pipeline.cli import main


# ---- the hidden-corpus classes: every value a profile can carry -----------------------------
# Profiles are written as text, so values Python's json accepts but JSON does not (NaN,
# Infinity) and documents no dict can hold (nested 100,000 deep) are tested as users send them.
def _text_with(mutate) -> str:
    document = _default()
    marker = mutate(document)
    text = json.dumps(document)
    return text.replace('"@@"', marker) if marker else text


def _set(path: str, value):
    def mutate(document):
        *parents, last = path.strip("/").split("/")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = "@@" if isinstance(
            value, str) and value.startswith("RAW:") else value
        return value[4:] if isinstance(value, str) and value.startswith("RAW:") else None
    return mutate


SEX_P = "/tables/person/columns/sex/values/0/p"
SCORE = "/tables/learner_activity_result/columns/published_score"
ROLE_STATUS = "/tables/course_section_enrollment/columns/role_status"
LEVEL = "/tables/academic_program/columns/educational_level"
# (id, text of the profile, texts the message must contain)
TEXT_CASES = [
    ("share-nan", _text_with(_set(SEX_P, "RAW:NaN")), [SEX_P, "NaN is not a finite number"]),
    ("sd-infinity", _text_with(_set(f"{SCORE}/sd", "RAW:Infinity")), [f"{SCORE}/sd", "finite"]),
    ("min-minus-infinity", _text_with(_set(f"{SCORE}/min", "RAW:-Infinity")),
     [f"{SCORE}/min", "-Infinity is not a finite number"]),
    ("mean-1e999", _text_with(_set(f"{SCORE}/mean", "RAW:1e999")), [f"{SCORE}/mean", "finite"]),
    ("settings-fte-nan", _text_with(_set("/settings/fte", "RAW:NaN")), ["/settings/fte"]),
    ("share-negative", _text_with(_set(SEX_P, -0.2)), [SEX_P]),
    ("shares-sum-2", _text_with(_set(SEX_P, 1.0)), ["/tables/person/columns/sex/values",
                                                    "sum to"]),
    ("sd-negative", _text_with(_set(f"{SCORE}/sd", -1)), [f"{SCORE}/sd"]),
    ("min-above-max", _text_with(_set(f"{SCORE}/min", 5)), [f"{SCORE}/min", "above max"]),
    ("mean-outside", _text_with(_set(f"{SCORE}/mean", 7)), [f"{SCORE}/mean", "outside"]),
    ("cell-parent-value-missing", _text_with(_set(f"{ROLE_STATUS}/cells/0/when/role",
                                                  "Studnet")),
     [f"{ROLE_STATUS}/cells/0/when/role", '"Studnet" is not a value of role']),
    ("cell-parent-fk-value-missing", _text_with(_set(
        f"{LEVEL}/cells/0/when/academic_career_id.code", "UGRDX")),
     [f"{LEVEL}/cells/0/when/academic_career_id.code", "not a value"]),
    ("cell-when-duplicated", _text_with(_set(f"{ROLE_STATUS}/cells/1/when/role", "Student")),
     [f"{ROLE_STATUS}/cells/1/when", "the same as cells/0/when"]),
    ("cell-given-unknown", _text_with(_set(f"{ROLE_STATUS}/given", ["rol"])),
     [f"{ROLE_STATUS}"]),
    ("not-an-object", "[1, 2, 3]", ["invalid profile at /", "not of type 'object'"]),
    ("empty-file", "", ["not valid JSON"]),
    ("huge-integer", _text_with(_set(f"{SCORE}/mean", "RAW:" + "9" * 5000)), ["not valid JSON"]),
    ("nested-100000", "[" * 100_000 + "]" * 100_000, ["nested deeper than"]),
    ("nested-500", _text_with(_set("/description", "RAW:" + "[" * 500 + "]" * 500)),
     ["nested deeper than"]),
]


def _write_text(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    return path


def _assert_refused_cleanly(tmp_path, code, out, err, expected):
    assert code == 2, err
    assert "Traceback" not in out + err
    assert err.startswith(PREFIX), err[:500]
    lines = err.rstrip("\n").split("\n")
    assert len(lines) <= 24 and all(len(line) <= 400 for line in lines), \
        f"{len(lines)} lines, the longest {max(map(len, lines))} characters"
    for text in expected:
        assert _squash(text) in _squash(err), f"{text!r} not in {err[:600]!r}"
    _assert_nothing_left(tmp_path)


@pytest.mark.parametrize("name, text, expected", TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_malformed_profile_text(tmp_path, capsys, name, text, expected):
    path = _write_text(tmp_path, name, text)
    code, out, err = _run(tmp_path, capsys, ["--profile", str(path)])
    _assert_refused_cleanly(tmp_path, code, out, err, [str(path), *expected])


def test_a_huge_value_gives_a_short_message(tmp_path, capsys):
    """A 2 MB string where a probability belongs, and 400 bad probabilities: the message
    stays a few lines of a few hundred characters ("… and N more problems")."""
    document = _default()
    document["tables"]["person"]["columns"]["sex"]["values"][0]["p"] = "x" * 2_000_000
    document["tables"]["person"]["columns"]["sex"]["values"] += [
        {"value": f"v{i}", "p": "bad"} for i in range(400)]
    path = _write_text(tmp_path, "huge", json.dumps(document))
    code, out, err = _run(tmp_path, capsys, ["--profile", str(path)])
    _assert_refused_cleanly(tmp_path, code, out, err, ["more problems"])
    assert len(err) < 6000


def test_a_profile_too_large_to_read(tmp_path, capsys):
    path = tmp_path / "big.json"
    with open(path, "wb") as file:  # sparse: 70 MB on paper, nothing on disk
        file.truncate(70 * 2**20)
    code, out, err = _run(tmp_path, capsys, ["--profile", str(path)])
    _assert_refused_cleanly(tmp_path, code, out, err, [str(path), "at most"])


def test_a_folder_as_profile(tmp_path, capsys):
    code, out, err = _run(tmp_path, capsys, ["--profile", str(tmp_path)])
    _assert_refused_cleanly(tmp_path, code, out, err, ["cannot read the file"])


def test_binary_profile(tmp_path, capsys):
    path = tmp_path / "binary.json"
    path.write_bytes(bytes(range(256)) * 4)
    code, out, err = _run(tmp_path, capsys, ["--profile", str(path)])
    _assert_refused_cleanly(tmp_path, code, out, err, ["cannot read the file"])


def test_fte_from_the_profile_is_named_as_such(tmp_path, capsys):
    document = _default()
    document["settings"]["fte"] = 5e9
    path = _write_text(tmp_path, "fte", json.dumps(document))
    code, _, err = main(["generate", "--profile", str(path), "--out", str(tmp_path / "w")]), \
        None, capsys.readouterr().err
    assert code == 2
    assert "the profile's settings.fte" in err and "--fte" not in err
