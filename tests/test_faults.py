"""Faults through the CLI: a run killed with SIGKILL leaves a staging folder that the next run
(or `campus-synth clean`) removes; a second run into the same --out fails at once; Ctrl-C
(SIGINT) prints one line and exits 130 with nothing left, during Beam and during dbt; a full
disk and an unusable --out are one line each."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MANIFEST

from pipeline.cli import main

PREFIX = "campus-synth: error:"
CLI = [sys.executable, "-m", "pipeline"]


def _start(*args: str, cwd: Path) -> subprocess.Popen:
    """The CLI as a user's terminal starts it: Ctrl-C delivered, even when the suite itself
    runs as a background job of a script (which ignores SIGINT, and the CLI keeps a signal
    its caller ignores ignored)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([*CLI, *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _staging(parent: Path, name: str = "w") -> list[Path]:
    return sorted(parent.glob(f".{name}.partial-*"))


def _wait_for(condition, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the run ended first: {process.communicate()}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _leftovers(parent: Path, name: str = "w") -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def _interrupt_and_check(run: subprocess.Popen, parent: Path) -> None:
    """Ctrl-C the run: it ends with 130 and one line, no traceback, and nothing left of `w`."""
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert err == "campus-synth: interrupted\n", err
    assert "Traceback" not in out
    assert _leftovers(parent) == [] and not (parent / "w").exists()


# ---- SIGKILL, the lock, SIGINT during Beam --------------------------------------------------
def test_killed_run_is_cleaned_by_clean_and_by_the_next_run(tmp_path, capsys):
    run = _start("generate", "--fte", "300", "--event-days", "3", "--out", "w", cwd=tmp_path)
    _wait_for(lambda: any((p / ".campus-synth-staging").exists() for p in _staging(tmp_path)),
              run)
    run.kill()  # SIGKILL: no handler runs
    run.wait()
    [left] = _staging(tmp_path)
    owner = json.loads((left / ".campus-synth-staging").read_text())
    assert owner["pid"] == run.pid and owner["tool"] == "campus-synth"
    spare = tmp_path / "spare"
    shutil.copytree(left, spare)

    assert main(["clean", "--out", str(tmp_path / "w")]) == 0
    assert str(left) in capsys.readouterr().out
    assert _leftovers(tmp_path) == [] and not (tmp_path / "w").exists()

    spare.rename(left)  # the same leftover again, now for the next run to find
    assert main(["generate", "--fte", "300", "--event-days", "2", "--out",
                 str(tmp_path / "w")]) == 0
    assert f"removed {left}" in capsys.readouterr().out.replace("\n", "")
    assert _leftovers(tmp_path) == [] and (tmp_path / "w" / MANIFEST).exists()


def test_second_run_fails_at_once_and_ctrl_c_exits_130(tmp_path, capsys):
    run = _start("generate", "--fte", "2000", "--event-days", "30", "--out", "w", cwd=tmp_path)
    _wait_for(lambda: bool(_staging(tmp_path)), run)
    start = time.monotonic()
    code = main(["generate", "--fte", "300", "--event-days", "2", "--out",
                 str(tmp_path / "w")])
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - start < 10
    assert err.startswith(PREFIX) and f"pid {run.pid}" in err and "another" in err
    assert len(_staging(tmp_path)) == 1, "the refused run left a staging folder"

    time.sleep(1.0)  # the first run is inside the Beam job now
    _interrupt_and_check(run, tmp_path)


def _read_until(run: subprocess.Popen, text: str) -> None:
    """Read the run's stdout up to the stage line holding `text`."""
    seen = []
    while not any(text in line for line in seen):
        line = run.stdout.readline()
        assert line, f"the run ended before {text!r}: {''.join(seen)} {run.stderr.read()}"
        seen.append(line)


def test_ctrl_c_during_dbt(tmp_path):
    run = _start("run", "--fte", "300", "--event-days", "2", "--no-evaluate", "--out", "w",
                 cwd=tmp_path)
    _read_until(run, "Building the marts")
    time.sleep(2.0)
    _interrupt_and_check(run, tmp_path)


def test_ctrl_c_during_runs_generate_stops_its_child(tmp_path):
    """`run` generates in a child process (pipeline/cli/_job_child.py): Ctrl-C to the run
    stops the child too, and nothing is left."""
    run = _start("run", "--fte", "2000", "--event-days", "30", "--no-evaluate", "--out", "w",
                 cwd=tmp_path)
    _read_until(run, "Generating tables")
    children = Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split()
    assert children, "the Beam job runs in no child process"
    time.sleep(1.0)
    _interrupt_and_check(run, tmp_path)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


# ---- a full disk, a read-only parent, a mount point as --out --------------------------------
def _mount(where: Path, options: str) -> None:
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@pytest.fixture
def mounts(tmp_path):
    made = []

    def mount(name: str, options: str) -> Path:
        where = tmp_path / name
        _mount(where, options)
        made.append(where)
        return where

    yield mount
    for where in made:
        subprocess.run(["umount", str(where)], check=False)


def test_disk_full_is_one_line(mounts, capsys):
    small = mounts("small", "size=2m")
    code = main(["generate", "--fte", "300", "--event-days", "2", "--out", str(small / "w")])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.out + captured.err
    assert captured.err.startswith(PREFIX) and "disk is full" in captured.err
    assert len(captured.err.rstrip("\n").split("\n")) == 1, captured.err
    assert list(small.iterdir()) == []


def test_unusable_out_is_refused_before_work(mounts, capsys):
    read_only = mounts("ro", "ro,size=1m")
    empty_mount = mounts("mnt", "size=1m")
    for out, expected in ((read_only / "w", "cannot write beside"),
                          (empty_mount, "is a mount point")):
        start = time.monotonic()
        code = main(["generate", "--fte", "300", "--event-days", "2", "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(PREFIX) and expected in err, err
        assert time.monotonic() - start < 10, "the job ran before --out was checked"
    assert list(empty_mount.iterdir()) == []
