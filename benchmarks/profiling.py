"""Profiling time and peak memory: `campus-synth profile` over a generated warehouse.

Generates a warehouse once (not timed), then profiles it from the DuckDB file and from its
Parquet folder, each as a subprocess whose process tree's RSS is sampled every 0.2 s. The
estimators run as SQL in the source engine, so memory should follow the engine's buffers,
not the warehouse's size.

    .venv/bin/python benchmarks/profiling.py [--fte 20000] [--tmp DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import flush_print, machine, table, write_results  # noqa: E402
from end_to_end import CLI, tree_rss  # noqa: E402


def measure(args: list[str], interval: float = 0.2) -> tuple[float, float, str]:
    """(wall seconds, peak MB of the process tree, last output line) of one CLI run."""
    start = time.perf_counter()
    process = subprocess.Popen([str(CLI), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid)[0])
        time.sleep(interval)
    output = process.stdout.read()
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"campus-synth {' '.join(args)} failed:\n{output}")
    return seconds, peak / 2**20, output.strip().splitlines()[-1] if output.strip() else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=float, default=20000)
    parser.add_argument("--tmp", default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="campus-synth-profiling-", dir=args.tmp))
    try:
        warehouse = scratch / "w"
        flush_print(f"generating a {args.fte:g}-FTE warehouse (not timed) ...")
        subprocess.run([str(CLI), "run", "--fte", str(args.fte), "--out", str(warehouse)],
                       check=True, stdout=subprocess.DEVNULL)
        sources = {"duckdb file": str(warehouse / "warehouse.duckdb"),
                   "parquet folder": str(warehouse / "context_store_entity")}
        rows = []
        for label, source in sources.items():
            flush_print(f"profiling the {label} ...")
            out = scratch / f"profile-{label.split()[0]}.json"
            seconds, peak, _ = measure(["profile", "--source", source, "--out", str(out)])
            rows.append([label, seconds, peak, out.stat().st_size // 1024])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(table(["source", "wall s", "peak MB", "profile KB"], rows,
                f"\ncampus-synth profile at {args.fte:g} FTE (wall time includes ~5 s of imports)"))
    write_results("profiling", {"benchmark": "profiling", "machine": machine(), "fte": args.fte,
                                "runs": [dict(zip(["source", "seconds", "peak_mb", "profile_kb"],
                                                  r, strict=True)) for r in rows]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
