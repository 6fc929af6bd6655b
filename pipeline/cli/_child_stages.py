"""`run`'s child process: the stages of one job that need Apache Beam (plan, generate, check
the row counts, load DuckDB), then exit, so that the parent, which builds the marts next,
never holds Beam's imports or a generate's heap (pipeline/cli/_job_child.py starts it).

    python -m pipeline.cli._child_stages JOB RESULT FD

JOB is the pickled (Job, staging folder) the parent wrote. The stages' reports go to file
descriptor FD, one JSON list per line (a Reporter method's name and arguments), and the
parent replays them on its own Reporter. RESULT gets, as JSON, the rows per table and the
seconds per stage, or the user error that stopped the job (its message and exit code). An
internal error ends this process with its traceback on stderr and exit code 1; a signal
with 128 + its number, quietly (the parent reports it).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pickle
import signal
import sys
import threading
from pathlib import Path

from pipeline.cli._faults import guarded
from pipeline.cli._job import generate_stages
from pipeline.cli._settings import check_beam_args
from pipeline.cli._stages import Reporter
from pipeline.errors import CampusSynthError, Interrupted

PR_SET_PDEATHSIG = 1  # prctl(2)


def main(argv: list[str]) -> int:
    """Run the job's Beam stages as argv says (see the module's docstring); the exit code."""
    job_file, result_file, channel_fd = argv
    _end_with_parent()
    job, root = pickle.loads(Path(job_file).read_bytes())
    seconds: dict[str, float] = {}
    channel = os.fdopen(int(channel_fd), "w", buffering=1)
    try:
        with guarded(job.out):  # a signal or a full disk: one error, as in one process
            # the options `run` left unchecked, to keep Beam out of its process
            job.resolved.beam_args = check_beam_args(job.resolved.beam_args, "run")
            counts = generate_stages(job, Path(root), _ChannelReporter(channel), seconds)
    except Interrupted as error:
        return error.exit_code
    except CampusSynthError as error:
        _write(result_file, {"error": str(error), "exit_code": error.exit_code})
        return error.exit_code
    finally:
        with contextlib.suppress(OSError):  # a closed channel: the parent is stopping us
            channel.close()
    _write(result_file, {"counts": counts, "seconds": seconds})
    return 0


class _ChannelReporter(Reporter):
    """Each report as one JSON line on the channel to the parent; the generate stage's
    progress comes from a watcher thread, so a lock keeps the lines whole. Once the parent
    closed the channel (it is stopping this process, after a signal) reports are dropped."""

    def __init__(self, channel):
        self.channel, self.lock, self.closed = channel, threading.Lock(), False

    def _send(self, *message) -> None:
        with self.lock:
            if self.closed:
                return
            try:
                self.channel.write(json.dumps(message) + "\n")
            except BrokenPipeError:
                self.closed = True

    def stage(self, name: str) -> None:
        self._send("stage", name)

    def progress(self, done: int, total: int) -> None:
        self._send("progress", done, total)

    def stage_done(self, name: str, seconds: float) -> None:
        self._send("stage_done", name, seconds)

    def note(self, text: str) -> None:
        self._send("note", text)


def _end_with_parent() -> None:
    """Have Linux send SIGTERM here when the parent dies (a `run` killed with SIGKILL): left
    alone, this process would go on writing into a staging folder nobody commits."""
    # not Linux (no prctl): the next run into the folder removes the staging folder
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _write(path: str, result: dict) -> None:
    Path(path).write_text(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
