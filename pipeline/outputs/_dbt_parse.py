"""dbt's parse of the project in a process of its own, while `run` generates.

A `run` that builds the marts spends its first minutes in the generate child, with a core to
spare (generate keeps ~1.5 of 2 busy); the build after it would start by parsing the project
(~3.6 s when the parse cache is empty: a first run, a new version). `start` parses beside the
generate instead, into the run's artefact folder, and `finish` waits for it before the build,
which then reads the parse back (pipeline/outputs/_dbt.py `parse`). A process, not a thread:
what the parse holds is gone before the build's peak, and dbt never shares this process with
another invocation. A parse that fails costs nothing: the build parses again and reports.

    python -m pipeline.outputs._dbt_parse OUT VARIABLES_JSON
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.outputs._dbt import parse

MODULE = "pipeline.outputs._dbt_parse"


def start(out: Path, variables: dict) -> subprocess.Popen:
    """The parse for a build of `out` with `variables`, started; its output is dbt's log."""
    return subprocess.Popen([sys.executable, "-m", MODULE, str(Path(out).absolute()),
                             json.dumps(variables)], cwd=out, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def finish(process: subprocess.Popen | None, stop: bool = False) -> None:
    """Wait for the parse to end; `stop` ends it first (the run failed or was interrupted,
    and its folder is about to go)."""
    if process is None:
        return
    if stop and process.poll() is None:
        process.kill()
    process.wait()


if __name__ == "__main__":
    sys.exit(0 if parse(Path(sys.argv[1]), json.loads(sys.argv[2])) else 1)
