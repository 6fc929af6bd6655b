"""`campus-synth generate`: the Beam job alone (Parquet and the manifest), every job in this
process (pipeline/cli/_job.py). What it shows and reads is pipeline/cli/_console.py's, shared
with `run`; kept apart from `run` (pipeline/cli/_cmd_run.py) so that `generate` imports only
what it uses: not the evaluation (scikit-learn, pandas, scipy.stats) nor the publish step.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from pipeline.cli._console import read_inputs, run_jobs
from pipeline.cli._job import run_job


def generate(args: argparse.Namespace, console: Console, beam_args: list[str]) -> int:
    """`campus-synth generate`: one Beam job per scenario (or the baseline alone)."""
    run_jobs(args, console, read_inputs(args, beam_args), run_job)
    return 0
