"""The `campus-synth` command line (`main`): the parser, each command in a module of its own
(imported when it is dispatched, so the package itself is light), and the jobs they drive
(`_stages`: the staged frame; `_job`: `run_job`, `planned_rows`, the Beam stages; `_job_child`:
`run`'s Beam stages in a child process); settings, signals and a full disk (`_faults`),
scenario runs; a thin layer over generation and outputs.
"""

from pipeline.cli._main import main

__all__ = ["main"]
