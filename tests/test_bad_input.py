"""Bad input is refused through the CLI with exit code 2 and one `campus-synth: error:`
message, no traceback, and nothing left behind in the output's parent folder."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from bad_input_cli import PREFIX, _assert_nothing_left, _default, _run, _squash
from conftest import MANIFEST, event_files, manifest, run_subprocess

from pipeline.cli import main


# ---- profile mutations --------------------------------------------------------------------
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
