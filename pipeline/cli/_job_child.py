"""`run`'s jobs: plan, generate and load in a child process that exits before the dbt build.

DuckDB holds ~1.4 GiB at its memory limit in the build; a process that had imported Apache
Beam (~90 MiB) and kept a generate's freed heap would add ~200 MiB to that peak
(benchmarks/README.md, "The default run's peak, taken apart"). So `run`'s own process never
imports Beam nor the generation package: it holds the lock and the staging folder, handles
signals, builds the marts and commits, and runs `python -m pipeline.cli._child_stages` for
the stages before the build (the same code `generate` runs in its own process, so the output
is byte for byte the same). The child's stage lines and progress are replayed on this
process's Reporter; its user error ends the run with the same message and exit code.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline.cli._settings import Resolved
from pipeline.cli._stages import Job, Reporter, RunReport, staged_job
from pipeline.errors import Interrupted, RelayedError, StageFailure

CHILD = "pipeline.cli._child_stages"
STOP_SECONDS = 60  # for the child to end after a signal, before it is killed
_REPORTS = ("stage", "progress", "stage_done", "note")  # the Reporter methods replayed


def run_job_in_child(profile: dict, profile_source: str, resolved: Resolved, out: str,
                     load: bool = True, reporter: Reporter | None = None,
                     marts: bool = True, scenario: dict | None = None) -> RunReport:
    """pipeline/cli/_job.py `run_job`, with plan, generate and load in a child process."""
    job = Job(profile, profile_source, resolved, out, load, marts, scenario)
    return staged_job(job, reporter or Reporter(), _child_stages)


def _child_stages(job: Job, root: Path, reporter: Reporter, seconds: dict) -> dict[str, int]:
    """The Beam stages of `job` into `root`, run by the child; the rows per table."""
    with tempfile.TemporaryDirectory(prefix="campus-synth-job-") as folder:
        job_file, result_file = Path(folder) / "job.pickle", Path(folder) / "result.json"
        job_file.write_bytes(pickle.dumps((job, str(root))))
        child, channel = _start(job_file, result_file)
        try:
            _replay(channel, reporter)
            child.wait()
        except BaseException as error:  # a signal, or the reporter failed: stop the child
            _stop(child, error)
            raise
        result = _result(child.returncode, result_file)
    seconds.update(result["seconds"])
    return result["counts"]


def _start(job_file: Path, result_file: Path):
    """The child, and the reading end of the channel its reports come by."""
    read, write = os.pipe()
    try:
        child = subprocess.Popen([sys.executable, "-m", CHILD, str(job_file),
                                  str(result_file), str(write)], pass_fds=(write,))
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)  # the child holds it now: the channel ends when the child does
    return child, os.fdopen(read, encoding="utf-8")


def _replay(channel, reporter: Reporter) -> None:
    with channel:
        for line in channel:
            name, *arguments = json.loads(line)
            if name in _REPORTS:
                getattr(reporter, name)(*arguments)


def _stop(child: subprocess.Popen, error: BaseException) -> None:
    """Pass the signal that stopped this process on to the child (SIGTERM after any other
    error) and wait for it, so nothing writes into the staging folder once it is removed."""
    if child.poll() is not None:
        return
    signum = error.exit_code - 128 if isinstance(error, Interrupted) else signal.SIGTERM
    child.send_signal(signum)
    try:
        child.wait(timeout=STOP_SECONDS)
    except (subprocess.TimeoutExpired, Interrupted):  # it hangs, or a second Ctrl-C: now
        child.kill()
        child.wait()


def _result(code: int, result_file: Path) -> dict:
    """What the child wrote, or its user error raised again here; a child that ended
    without a word (an internal error, whose traceback it printed, or a kill) is a failed
    stage, and one stopped by SIGINT or SIGTERM alone is an interrupted run."""
    if result_file.exists():
        result = json.loads(result_file.read_text())
        if "error" in result:
            raise RelayedError(result["error"], result["exit_code"])
        return result
    if code - 128 in (signal.SIGINT, signal.SIGTERM):
        raise Interrupted(code - 128)
    how = (f"was killed by {signal.Signals(-code).name}" if code < 0
           else f"failed with exit code {code} (its error is above)")
    raise StageFailure(f"generating the warehouse failed: its process {how}")
