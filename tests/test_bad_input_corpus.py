"""An adversarial corpus through the CLI (`pipeline.cli.main`, the console script's entry):
malformed profiles, flags, profiling sources, scenario files and `profile merge` inputs,
built by tests/bad_input_corpus*.py. Each case holds the CLI's promise (see
bad_input_corpus.py): a refusal is exit 2, one bounded `campus-synth: error:` message naming
what is wrong, no traceback and nothing written; survivable input is exit 0, and every
profile `profile` writes passes the generator's contract (a few also generate, 300 FTE).

`python tests/test_bad_input_corpus.py [FILTER]` runs the cases outside pytest and prints
one line per case (the survey).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import traceback
from pathlib import Path

import pytest
from bad_input_corpus import EDITED_CASES, PROFILE_CASES, Case
from bad_input_corpus_edges import EDGE_CASES
from bad_input_corpus_flags import FLAG_CASES, SCENARIO_CASES
from bad_input_corpus_sources import SOURCE_CASES
from bad_input_corpus_types import TYPE_CASES

from distributions import load_profile
from pipeline.cli import main
from pipeline.udp._contract import check_profile
from pipeline.udp._registry import REGISTRY

PREFIX = "campus-synth: error:"
CASES = [*PROFILE_CASES, *EDITED_CASES, *FLAG_CASES, *SCENARIO_CASES, *SOURCE_CASES,
         *TYPE_CASES, *EDGE_CASES]


def _snapshot(folder: Path) -> list[tuple[str, int]]:
    found = []
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            size = path.lstat().st_size if not path.is_dir() else 0
            found.append((str(path.relative_to(folder)), size))
    return sorted(found)


def _invoke(argv: list[str], folder: Path) -> tuple[object, str, str]:
    """main(argv) run in `folder`: (exit code or the escaped exception's traceback, stdout,
    stderr)."""
    out, err, cwd = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit_:
                code = f"SystemExit({exit_.code}) escaped main"
            except BaseException:  # noqa: BLE001 — what a user would see as a traceback
                code = "traceback:\n" + traceback.format_exc()[-1500:]
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def _refusal_problems(case: Case, code, out: str, err: str, before, after) -> list[str]:
    problems = []
    if code != 2:
        problems.append(f"exit {code}, expected 2")
    if "Traceback" in out + err:
        problems.append("a traceback was printed")
    if not err.startswith(PREFIX):
        problems.append(f"stderr does not start with {PREFIX!r}")
    lines = err.rstrip("\n").split("\n")
    if len(lines) > 24 or max(map(len, lines)) > 400 or len(err) > 6000:
        problems.append(f"message too long ({len(lines)} lines, {len(err)} characters)")
    problems += [f"message lacks {text!r}" for text in case.says if text not in err]
    if before != after:
        changed = sorted(set(after) ^ set(before))[:5]
        problems.append(f"the folder changed: {changed}")
    return problems


def _profile_written_problems(case: Case, folder: Path, out: str) -> list[str]:
    path = folder / "p.json"
    try:
        check_profile(load_profile(path), REGISTRY, str(path))
    except Exception as error:  # noqa: BLE001
        return [f"the written profile does not load: {str(error)[:300]}"]
    problems = [f"notes lack {text!r}" for text in case.says if text not in out]
    if case.generate:
        code, _, err = _invoke(["generate", "--fte", "100", "--event-days", "1", "--profile",
                                str(path), "--out", str(folder / "gen")], folder)
        if code != 0:
            problems.append(f"run on the written profile: exit {code}: {err[:400]}")
    return problems


def check_case(case: Case, folder: Path) -> tuple[str, list[str]]:
    """Run one case in `folder`; (what happened, the promises it broke)."""
    argv = case.build(folder)
    before = _snapshot(folder)
    try:
        code, out, err = _invoke(argv, folder)
    finally:
        _stop_holder(folder)
    outcome = f"exit {code}" if isinstance(code, int) else str(code).split("\n")[0]
    if isinstance(code, str):
        return outcome, [code]
    if code == 2 and case.expect in ("refused", "clean"):
        return outcome, _refusal_problems(case, code, out, err, before, _snapshot(folder))
    if code == 0 and case.expect in ("ok", "clean"):
        if case.kind == "source":
            return outcome, _profile_written_problems(case, folder, out)
        return outcome, []  # (a profile case's `run` has generated already)
    return outcome, [f"exit {code}, expected {case.expect}: {(err or out)[-400:]}"]


def _stop_holder(folder: Path) -> None:
    pid_file = folder.parent / f".holder-{folder.name}.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        pid_file.unlink()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus_case(tmp_path, case):
    folder = tmp_path / "case"
    folder.mkdir()
    try:
        outcome, problems = check_case(case, folder)
    finally:
        for path in folder.rglob("*"):  # a read-only folder a case made
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
    assert not problems, f"{case.id} ({outcome}): " + "; ".join(problems)


def _survey(pattern: str = "", start: str = "") -> None:
    import resource
    import tempfile

    # a case that slips through validation may plan an institution of 10^15 rows: bound it
    resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))
    failed, run, started = 0, 0, not start
    for case in CASES:
        started = started or case.id == start
        if pattern not in case.id or not started:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "case"
            folder.mkdir()
            try:
                outcome, problems = check_case(case, folder)
            except Exception as error:  # noqa: BLE001 — a case that cannot be built
                outcome, problems = "build failed", [repr(error)]
            for path in folder.rglob("*"):
                if path.is_dir() and not path.is_symlink():
                    path.chmod(0o755)
        failed, run = failed + bool(problems), run + 1
        mark = "FAIL" if problems else "ok  "
        detail = ("; ".join(problems)).replace("\n", " | ")[:600]
        print(f"{mark} {case.kind:8} {case.id:45} {outcome:12} {detail}", flush=True)
    print(f"{failed} of {run} case(s) failed ({len(CASES)} in the corpus)")


if __name__ == "__main__":
    _survey(*sys.argv[1:])
