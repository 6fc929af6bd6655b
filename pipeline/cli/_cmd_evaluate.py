"""`campus-synth evaluate`: distributions/_evaluate's command, handed the registry's keys; and
`run`'s last stage, the same evaluation of the warehouse it made."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from distributions._evaluate import Keys, evaluate_run, run_evaluate_command
from pipeline.udp._registry import REGISTRY


def evaluate(args: argparse.Namespace, console: Console) -> int:
    """Compare a warehouse with the real source or a profile; write and summarise the report."""
    return run_evaluate_command(args, console, Keys.from_tables(REGISTRY))


def evaluate_new_run(out: Path, source: str, console: Console) -> None:
    """`run`'s evaluation: the warehouse in `out` against its profile or source (`source`);
    the report goes to OUT/evaluation."""
    evaluate_run(out, source, Keys.from_tables(REGISTRY), console)
