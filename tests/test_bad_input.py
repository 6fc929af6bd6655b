"""Bad input is refused through the CLI with exit code 2 and one `campus-synth: error:`
message, no traceback, and nothing left behind in the output's parent folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import MANIFEST, event_files, manifest, run_subprocess

from distributions import default_profile_path
from pipeline.cli import main

PREFIX = "campus-synth: error:"


# ---- profile mutations --------------------------------------------------------------------
def _default() -> dict:
    return json.loads(default_profile_path().read_text())


def _drop_sex(p):
    del p["tables"]["person"]["columns"]["sex"]


def _p_not_a_number(p):
    p["tables"]["person"]["columns"]["sex"]["values"][0]["p"] = "x"


def _roles_sum_to_half(p):
    roles = p["tables"]["course_section_enrollment"]["columns"]["role"]["values"]
    roles[0]["p"] = round(roles[0]["p"] - 0.5, 6)
    assert abs(sum(r["p"] for r in roles) - 0.5) < 1e-9


def _write_profile(tmp: Path, kind: str) -> Path:
    path = tmp / f"profile-{kind}.json"
    if kind == "missing":
        return tmp / "does-not-exist.json"
    if kind == "not-json":
        path.write_text("this is { not json\n")
        return path
    document = _default()
    {"no-sex": _drop_sex, "p-is-x": _p_not_a_number, "roles-half": _roles_sum_to_half}[kind](
        document)
    path.write_text(json.dumps(document))
    return path


# (id, extra CLI args, text the message must contain)
FLAG_CASES = [
    ("fte-zero", ["--fte", "0"], "--fte must be a positive"),
    ("fte-negative", ["--fte", "-5"], "--fte must be a positive"),
    ("fte-not-a-number", ["--fte", "abc"], "invalid float value: 'abc'"),
    ("fte-too-large", ["--fte", "1e9"], "larger than campus-synth supports"),
    ("fte-nan", ["--fte", "nan"], "--fte must be a positive"),
    ("terms-zero", ["--terms", "0"], "--terms must be between 1 and 400"),
    ("seed-negative", ["--seed", "-1"], "--seed must be zero or positive"),
    ("block-rows-tiny", ["--block-rows", "10"], "--block-rows must be between"),
    ("unknown-option", ["--bogus"], "unknown option --bogus"),
]
# (id, profile kind, text the message must contain besides the file name)
PROFILE_CASES = [
    ("profile-missing", "missing", "cannot read the file"),
    ("profile-not-json", "not-json", "not valid JSON"),
    ("profile-no-sex", "no-sex", "/tables/person/columns/sex"),
    ("profile-p-is-x", "p-is-x", "/tables/person/columns/sex/values/0/p"),
    ("profile-roles-half", "roles-half",
     "/tables/course_section_enrollment/columns/role/values"),
]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _run(tmp_path: Path, capsys, args: list[str]) -> tuple[int, str, str]:
    code = main(["run", "--fte", "300", "--event-days", "3", "--out", str(tmp_path / "w"), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_nothing_left(tmp_path: Path):
    assert not (tmp_path / "w").exists(), "an output folder was created"
    staged = [p.name for p in tmp_path.iterdir() if p.name.startswith(".w.")]
    assert staged == [], f"staging folders left behind: {staged}"


def _case_args(tmp_path, case):
    kind, args, expected = case
    if kind == "profile":
        path = _write_profile(tmp_path, args)
        return ["--profile", str(path)], [str(path), expected]
    return args, [expected]


CASES = ([pytest.param(("flag", args, text), id=name) for name, args, text in FLAG_CASES]
         + [pytest.param(("profile", kind, text), id=name) for name, kind, text in PROFILE_CASES])


@pytest.mark.parametrize("case", CASES)
def test_refused_with_exit_code_2(tmp_path, capsys, case):
    args, expected = _case_args(tmp_path, case)
    code, out, err = _run(tmp_path, capsys, args)
    assert code == 2
    assert "Traceback" not in out + err
    assert err.startswith(PREFIX), err
    for text in expected:
        assert _squash(text) in _squash(err), f"{text!r} not in {err!r}"
    _assert_nothing_left(tmp_path)


@pytest.mark.parametrize("case", CASES)
def test_error_message_layout(tmp_path, capsys, monkeypatch, case):
    """A flag error is exactly one line; a profile error's first line names the file whole
    (further lines may list more problems). stderr is not a terminal here (as in CI logs or
    `2> file`), so nothing should be wrapped to a console width."""
    monkeypatch.delenv("COLUMNS", raising=False)
    args, expected = _case_args(tmp_path, case)
    code, _, err = _run(tmp_path, capsys, args)
    assert code == 2
    lines = err.rstrip("\n").split("\n")
    assert lines[0].startswith(PREFIX)
    assert lines[0].strip() != PREFIX, f"the first line holds only the prefix: {lines}"
    if case[0] == "flag":
        assert len(lines) == 1, f"the error spans {len(lines)} lines: {lines}"
    else:
        assert expected[0] in lines[0], f"the first line does not name the file: {lines}"
        if len(lines) == 1:
            assert expected[1] in lines[0]


def test_profile_error_lists_every_problem(tmp_path, capsys):
    document = _default()
    _p_not_a_number(document)
    document["tables"]["person_email"]["rows"]["per_parent"]["values"][0]["p"] = "x"
    path = tmp_path / "two.json"
    path.write_text(json.dumps(document))
    code, out, err = _run(tmp_path, capsys, ["--profile", str(path)])
    assert code == 2
    assert "Traceback" not in out + err
    assert err.startswith(PREFIX)
    assert "2 problems" in err
    for pointer in ("/tables/person/columns/sex/values/0/p",
                    "/tables/person_email/rows/per_parent/values/0/p"):
        assert _squash(pointer) in _squash(err), pointer
    _assert_nothing_left(tmp_path)


@pytest.mark.parametrize("args", [["--fte", "abc"], ["--bogus"], ["--terms", "0"]],
                         ids=["fte-abc", "bogus", "terms-0"])
def test_refused_as_a_process(tmp_path, args):
    result = run_subprocess("run", "--fte", "300", "--event-days", "3", "--out", "w", *args,
                            cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith(PREFIX)
    _assert_nothing_left(tmp_path)


def test_not_json_profile_as_a_process(tmp_path):
    path = _write_profile(tmp_path, "not-json")
    result = run_subprocess("generate", "--fte", "300", "--event-days", "3", "--out", "w",
                            "--profile", path.name,
                            cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith(PREFIX) and path.name in result.stderr
    _assert_nothing_left(tmp_path)


# ---- the output folder --------------------------------------------------------------------
def test_foreign_folder_is_not_replaced(tmp_path, capsys):
    out = tmp_path / "w"
    out.mkdir()
    (out / "thesis.txt").write_text("do not delete")
    (out / "sub").mkdir()
    (out / "sub" / "data.csv").write_text("a,b\n1,2\n")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    code = main(["run", "--fte", "300", "--event-days", "3", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(PREFIX) and "did not write" in err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert (out / "thesis.txt").read_text() == "do not delete"
    assert (out / "sub" / "data.csv").read_text() == "a,b\n1,2\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".w.")] == []


def test_out_is_a_file(tmp_path, capsys):
    out = tmp_path / "w"
    out.write_text("a file")
    code = main(["generate", "--fte", "300", "--event-days", "3", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(PREFIX)
    assert out.read_text() == "a file"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".w.")] == []


def test_empty_existing_folder_is_used(tmp_path, capsys):
    out = tmp_path / "w"
    out.mkdir()
    assert main(["generate", "--fte", "300", "--event-days", "3", "--out", str(out)]) == 0
    assert (out / MANIFEST).exists()


def test_rerun_replaces_own_output(tmp_path, capsys):
    """A second run into a run's own output replaces it whole (marts and evaluation skipped:
    what is replaced is the folder, whatever the stages wrote into it)."""
    out = tmp_path / "w"
    quick = ["--event-days", "3", "--no-marts", "--no-evaluate"]
    assert main(["run", "--fte", "300", "--seed", "1", *quick, "--out", str(out)]) == 0
    (out / "stale.txt").write_text("from the first run")
    first = manifest(out)
    assert main(["run", "--fte", "400", "--seed", "2", *quick, "--out", str(out)]) == 0
    second = manifest(out)
    assert first["settings"]["seed"] == 1 and second["settings"]["seed"] == 2
    assert second["settings"]["fte"] == 400
    assert second["tables"] != first["tables"]
    assert not (out / "stale.txt").exists(), "the old output was not replaced"
    assert (out / "warehouse.duckdb").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "w"]
    assert leftovers == [], f"left beside the output: {leftovers}"


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


# ---- flags, one line each -------------------------------------------------------------------
MORE_FLAG_CASES = [
    ("fte-infinite", ["--fte", "inf"], "--fte must be a positive"),
    ("fte-overflow", ["--fte", "1e400"], "--fte must be a positive"),
    ("event-scale-negative", ["--event-scale", "-1"], "--event-scale must be between 0 and 100"),
    ("event-scale-nan", ["--event-scale", "nan"], "--event-scale must be between 0 and 100"),
    ("event-days-zero", ["--event-days", "0"], "--event-days must be between 1 and 400"),
    ("terms-401", ["--terms", "401"], "--terms must be between 1 and 400"),
    ("runner-unknown", ["--runner=Bogus"], "known runners: "),
    ("runner-missing-value", ["--runner"], "invalid runner option"),
    ("beam-option-bad-int", ["--direct_num_workers=abc"], "invalid int value: 'abc'"),
    ("beam-option-bad-choice", ["--direct_running_mode=fast"], "invalid choice: 'fast'"),
    # DaskRunner's own options are known once the runner is named
    ("dask-option-bad-int", ["--runner", "DaskRunner", "--dask_npartitions=x"],
     "invalid int value: 'x'"),
    ("out-empty", ["--out", ""], "--out is empty"),
    ("out-blank", ["--out", "  "], "--out is empty"),
    ("out-root", ["--out", "/"], "the root folder"),
]


@pytest.mark.parametrize("args, expected", [(a, e) for _, a, e in MORE_FLAG_CASES],
                         ids=[c[0] for c in MORE_FLAG_CASES])
def test_flag_refused_in_one_line(tmp_path, capsys, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _run(tmp_path, capsys, args)
    assert code == 2, err
    assert "Traceback" not in out + err and "usage:" not in err
    assert err.startswith(PREFIX) and len(err.rstrip("\n").split("\n")) == 1, err
    assert expected in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("out", [".", ".."])
def test_out_is_the_current_folder(tmp_path, capsys, monkeypatch, out):
    """`--out .` (or a folder holding the current one) would replace the folder the user is
    in; it is refused, and nothing in it changes."""
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)
    code = main(["generate", "--fte", "300", "--event-days", "2", "--out", out])
    err = capsys.readouterr().err
    assert code == 2 and "is the current folder or holds it" in err
    assert list(work.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["project"]


# ---- tiny and eventless runs generate (no clean message needed: they work) -----------------
@pytest.mark.parametrize("args", [["--fte", "1"], ["--fte", "10", "--event-scale", "0"]],
                         ids=["fte-1", "event-scale-0"])
def test_tiny_runs_generate(tmp_path, capsys, args):
    out = tmp_path / "w"
    assert main(["generate", *args, "--event-days", "2", "--out", str(out)]) == 0
    tables = manifest(out)["tables"]
    assert tables["context_store_entity.person"] > 0
    if "--event-scale" in args:  # no rate-driven events; the gradebook's own still follow
        files = event_files(out)  # the submissions and grades of the context store
        types = {t for f in files for t in pq.read_table(f, columns=["type"])
                 .column("type").to_pylist()}
        assert types <= {"AssignableEvent", "GradeEvent"}, types


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
    """Duplicated and NULL keys and orphans are left out by the stated rule and named in the
    notes (printed, and kept in the privacy manifest beside the profile)."""
    def dirty(tables):
        people, enrollments = tables["person"], tables["course_section_enrollment"]
        for column in people:  # person 0 twice: both copies go
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
    for text in ("source table person: left out 2 row(s) with a NULL or repeated person_id",
                 "source table course_section_enrollment: left out",
                 "with a NULL or repeated (course_section_id, person_id, role)",
                 "whose person_id names no person row"):
        assert any(text in note for note in notes), (text, notes)
        assert _squash(text) in _squash(printed)
