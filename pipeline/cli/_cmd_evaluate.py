"""`campus-synth evaluate`: distributions/_evaluate's command, handed the registry's keys."""

from __future__ import annotations

import argparse

from rich.console import Console

from distributions._evaluate import Keys, run_evaluate_command
from pipeline.udp._registry import REGISTRY


def evaluate(args: argparse.Namespace, console: Console) -> int:
    """Compare a warehouse with the real source or a profile; write and summarise the report."""
    return run_evaluate_command(args, console, Keys.from_tables(REGISTRY))
