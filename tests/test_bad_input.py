"""Bad input is refused through the CLI with exit code 2 and one `campus-synth: error:`
message, no traceback, and nothing left behind in the output's parent folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import MANIFEST, manifest, run_subprocess

from distributions import default_profile_path
from pipeline import main

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
    ("terms-zero", ["--terms", "0"], "--terms must be between 1 and 40"),
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
    out = tmp_path / "w"
    assert main(["run", "--fte", "300", "--seed", "1", "--event-days", "3", "--out", str(out)]) == 0
    (out / "stale.txt").write_text("from the first run")
    first = manifest(out)
    assert main(["run", "--fte", "400", "--seed", "2", "--event-days", "3", "--out", str(out)]) == 0
    second = manifest(out)
    assert first["settings"]["seed"] == 1 and second["settings"]["seed"] == 2
    assert second["settings"]["fte"] == 400
    assert second["tables"] != first["tables"]
    assert not (out / "stale.txt").exists(), "the old output was not replaced"
    assert (out / "warehouse.duckdb").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "w"]
    assert leftovers == [], f"left beside the output: {leftovers}"
