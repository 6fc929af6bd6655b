"""Profile + generate on a source shaped like the public learning-analytics data of issue 11.

The source is built by hand (tests/handbuilt.py, duckdb/pandas only, never campus-synth): four
36-week terms, ~1,500 enrollments per offering, students in 1.1 terms on average, extra
demographic and outcome columns, ~30,000 enrollments and ~170,000 results. The timed steps are
`campus-synth profile` and `campus-synth generate` at the profile's own FTE (`--event-scale 0`:
the gradebook's events only, the source has no event table), each as a subprocess, beside the
CLI's start-up alone (`campus-synth --version`: the imports every command pays) and a traced
profile in a process of its own (its imports, its own seconds, the seconds of its queries); the
baseline, measured in the same run, reads every source table into Arrow with DuckDB — the
least any profiler of these tables has to do.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from handbuilt import institution, shape_of, write_duckdb  # noqa: E402

SHAPE = shape_of("one_term", students=27_000, offerings_per_term=5, extra_columns=True,
                 groups_per_offering=(2, 4), activities_per_group=(1, 3))


def build_source(folder: Path) -> tuple[Path, dict[str, int]]:
    """The hand-built source and its row count per table."""
    tables = institution(SHAPE)
    path = write_duckdb(folder / "real-like.duckdb", tables)
    return path, {name: len(frame) for name, frame in tables.items()}


def scan_baseline(path: Path) -> float:
    """Seconds to read every source table into Arrow (best of three)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with duckdb.connect(str(path), read_only=True) as con:
            names = [r[0] for r in con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE schema_name = 'context_store_entity'").fetchall()]
            for name in names:
                con.sql(f"SELECT * FROM context_store_entity.{name}").to_arrow_table()
        best = min(best, time.perf_counter() - start)
    return best


def measure_real_like(scratch: Path, measure, trace) -> dict:
    """Build the source, then time the CLI's start-up, profile and generate (`measure` runs
    one CLI command) and trace one profile in a process of its own (`trace(source)`)."""
    source, rows = build_source(scratch)
    profile = scratch / "real-like-profile.json"
    baseline = scan_baseline(source)
    startup_s, startup_mb, startup_cpu = measure(["--version"])
    profile_s, profile_mb, profile_cpu = measure(["profile", "--source", str(source),
                                                  "--out", str(profile)])
    generate_s, generate_mb, generate_cpu = measure([
        "generate", "--profile", str(profile), "--out", str(scratch / "rl"),
        "--event-scale", "0"])
    return {"source_rows": rows, "baseline_scan_s": baseline,
            "startup_s": startup_s, "startup_peak_mb": startup_mb, "startup_cpu_s": startup_cpu,
            "profile_s": profile_s, "profile_peak_mb": profile_mb, "profile_cpu_s": profile_cpu,
            "generate_s": generate_s, "generate_peak_mb": generate_mb,
            "generate_cpu_s": generate_cpu, "traced": trace(str(source))}
