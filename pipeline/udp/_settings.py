"""The settings of a run: what a profile's `settings` block and the command line set.

Kept on the floor, beside the profile contract, so that the `run` command can layer and
check them without importing generation (and Apache Beam with it): `run` plans and generates
in a child process (pipeline/cli/_job_child.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """What a run generates: size, seed, number of terms, rows per block, and how much of the
    event store (a scale on the event rates; the first `event_days` days of each term)."""

    fte: float = 20000
    seed: int = 0
    terms: int = 2
    block_rows: int = 100_000
    event_scale: float = 1.0
    event_days: int | None = None
