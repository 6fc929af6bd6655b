"""Evaluation time and peak memory: `campus-synth evaluate` against a bare baseline.

Generates two warehouses of the same size with different seeds (not timed; `--no-marts
--no-evaluate`), one standing in for the real source, then measures, each as a subprocess
whose process tree's RSS is sampled every 0.2 s:

- baseline: one DuckDB scan of every table of both warehouses (count and a hash of every
  row), the least any comparison of the two must do;
- evaluate --real A --synthetic B (every family, detection included);
- evaluate --profile <default> --synthetic B (what `campus-synth run` does at its end).

    .venv/bin/python benchmarks/evaluate.py [--fte 2000] [--event-days 14] [--tmp DIR]
                                            [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, flush_print, machine, table, write_results  # noqa: E402
from end_to_end import CLI, tree_rss  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
SCAN = """
import sys, duckdb
con = duckdb.connect()
for i, path in enumerate(sys.argv[1:]):
    con.execute(f"ATTACH '{path}' AS w{i} (READ_ONLY)")
    tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                         f"WHERE table_catalog = 'w{i}'").fetchall()
    for schema, name in tables:
        con.execute(f'SELECT count(*), sum(hash(t.*)) FROM w{i}."{schema}"."{name}" t').fetchall()
"""


def measure(command: list[str], interval: float = 0.2) -> tuple[float, float, int]:
    """(wall seconds, peak MB of the process tree, exit code) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid)[0])
        time.sleep(interval)
    seconds = time.perf_counter() - start
    if process.returncode not in (0, 1):  # 1: the report was written and found differences
        raise SystemExit(f"{command[:3]} failed:\n{process.stderr.read()}")
    return seconds, peak / 2**20, process.returncode


def generate(folder: Path, fte: int, seed: int, event_days: int) -> None:
    flush_print(f"generating {folder.name} ({fte:,} FTE, seed {seed}) …")
    subprocess.run([str(CLI), "run", "--fte", str(fte), "--seed", str(seed), "--event-days",
                    str(event_days), "--no-marts", "--no-evaluate", "--out", str(folder)],
                   check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=int, default=2000)
    parser.add_argument("--event-days", type=int, default=14)
    parser.add_argument("--tmp", help="scratch folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    scratch = Path(args.tmp or tempfile.mkdtemp(prefix="cs-evaluate-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        real, synthetic = scratch / "real", scratch / "synthetic"
        generate(real, args.fte, 0, args.event_days)
        generate(synthetic, args.fte, 1, args.event_days)
        runs = {
            "baseline: one DuckDB scan of both": [str(PYTHON), "-c", SCAN,
                                                  str(real / "warehouse.duckdb"),
                                                  str(synthetic / "warehouse.duckdb")],
            "evaluate --real": [str(CLI), "evaluate", "--real", str(real / "warehouse.duckdb"),
                                "--synthetic", str(synthetic), "--out", str(scratch / "r1")],
            "evaluate --profile": [str(CLI), "evaluate", "--profile",
                                   str(ROOT / "distributions" / "default_profile.json"),
                                   "--synthetic", str(synthetic), "--out", str(scratch / "r2")],
        }
        rows, results = [], {}
        for name, command in runs.items():
            flush_print(f"measuring {name} …")
            seconds, peak, code = measure(command)
            rows.append([name, f"{seconds:.1f}", f"{peak:.0f}"])
            results[name] = {"seconds": round(seconds, 2), "peak_mb": round(peak), "exit": code}
        report = json.loads((scratch / "r1" / "report.json").read_text())
        results["families_seconds"] = report["seconds"]
        results["figures"] = len(report["figures"])
        print(table(["run", "seconds", "peak MB"], rows,
                    title=f"evaluate at {args.fte:,} FTE, {args.event_days} event days"))
        print("evaluate --real by family (s):", report["seconds"])
        path = write_results(f"evaluate_{args.fte}", {"machine": machine(), "fte": args.fte,
                                                      "event_days": args.event_days,
                                                      "results": results})
        print(f"results: {path}")
    finally:
        if not args.keep and not args.tmp:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
