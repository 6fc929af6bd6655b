"""Evaluation time and peak memory: `campus-synth evaluate` against a bare baseline, at
20,000 FTE with a full term of events by default (goals: ≤ 60 s and < 2 GB on 2 cores).

Uses two warehouses of the same size with different seeds (generated when absent, with
`run --terms 1 --no-marts --no-evaluate`, not timed), one standing in for the real source,
then measures, each as a subprocess whose process tree's RSS is sampled every 0.2 s
(`_common.measure`):

- baseline: one DuckDB scan of every table of both warehouses (count and a hash of every
  row), the least any comparison of the two must do;
- evaluate --real A --synthetic B (every family, detection included);
- evaluate --profile <default> --synthetic B (what `campus-synth run` does at its end).

Each evaluate's own time by family of figures comes from its report.json (`seconds`), and
the rest from its `timings` (opening the sides and counting their rows, the shared
digests and samples that the first family needing them pays for, the page and the JSON), so
the CLI's start-up and exit show apart as the wall time outside them. Beside the wall time,
each run's CPU seconds (user + sys of the process tree): on a machine other jobs share, the
wall time grows with their load, the CPU time much less.

The runs use Python's bytecode caches, as an installed campus-synth does: a
PYTHONDONTWRITEBYTECODE in the environment is cleared for them and the caches are written by
an untimed import first (without them each start compiles ~2,000 modules: ~10 s).

    .venv/bin/python benchmarks/evaluate.py [--fte 20000] [--event-days N] [--real DIR]
                                            [--synthetic DIR] [--tmp DIR] [--keep]
                                            [--runs baseline,real,profile]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CLI, ROOT, flush_print, machine, measure, table, write_results  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
SCAN = """
import sys, duckdb
con = duckdb.connect()
for i, path in enumerate(sys.argv[1:]):
    con.execute(f"ATTACH '{path}' AS w{i} (READ_ONLY)")
    tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                         f"WHERE table_catalog = 'w{i}'").fetchall()
    for schema, name in tables:
        con.execute(f'SELECT count(*), sum(hash(COLUMNS(*))) FROM w{i}."{schema}"."{name}"'
                    ).fetchall()
"""


GOAL_SECONDS, GOAL_MB = 60, 2048
RUNS = ("baseline", "real", "profile")


def generate(folder: Path, fte: int, seed: int, event_days: int | None) -> None:
    """A warehouse of `fte` with one term of events (all of it unless `event_days`)."""
    if (folder / "warehouse.duckdb").exists():
        return
    flush_print(f"generating {folder.name} ({fte:,} FTE, seed {seed}) …")
    days = ["--event-days", str(event_days)] if event_days else []
    subprocess.run([str(CLI), "run", "--fte", str(fte), "--seed", str(seed), "--terms", "1",
                    *days, "--no-marts", "--no-evaluate", "--out", str(folder)],
                   check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=int, default=20000)
    parser.add_argument("--event-days", type=int, default=None,
                        help="events for the first N days of the term (default: all of it)")
    parser.add_argument("--real", help="use (or keep) this warehouse as the real source")
    parser.add_argument("--synthetic", help="use (or keep) this warehouse as the synthetic one")
    parser.add_argument("--tmp", help="scratch folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--runs", default=",".join(RUNS),
                        help=f"which runs to measure, of {','.join(RUNS)} (default: all)")
    args = parser.parse_args()
    scratch = Path(args.tmp or tempfile.mkdtemp(prefix="cs-evaluate-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        real = Path(args.real) if args.real else scratch / "real"
        synthetic = Path(args.synthetic) if args.synthetic else scratch / "synthetic"
        generate(real, args.fte, 0, args.event_days)
        generate(synthetic, args.fte, 1, args.event_days)
        _measure_all(args, scratch, real, synthetic)
    finally:
        if not args.keep and not args.tmp:
            shutil.rmtree(scratch, ignore_errors=True)


def _warm_imports() -> float:
    """Write the bytecode caches of what `evaluate` imports (untimed), then return the
    seconds a warm import of it takes: the CLI's start-up."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [str(PYTHON), "-c", "import pipeline.cli._cmd_evaluate"]
    subprocess.run(command, check=True)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def _measure_all(args, scratch: Path, real: Path, synthetic: Path) -> None:
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
    wanted = set(args.runs.split(","))
    runs = {name: command for (name, command), run in zip(runs.items(), RUNS, strict=True)
            if run in wanted}
    startup = _warm_imports()
    rows, results = [], {"startup_import_seconds": round(startup, 2)}
    for name, command in runs.items():
        flush_print(f"measuring {name} …")
        # exit 1: the report was written and found differences
        accept = (0,) if "baseline" in name else (0, 1)
        before = _children_cpu()
        seconds, peak, code, _ = measure(command, scratch / "measure.log", accept=accept)
        cpu = _children_cpu() - before
        results[name] = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                         "peak_mb": round(peak), "exit": code}
        if "evaluate" in name:
            _read_report(results, name, scratch / ("r1" if "real" in name else "r2"), seconds)
        rows.append(_row(name, results, runs))
    days = args.event_days or "all"
    print(table(["run", "wall s", "CPU s", "evaluate's own s", "peak MB", "× baseline wall",
                 "× baseline CPU", "within goal"], rows,
                title=f"evaluate at {args.fte:,} FTE, one term, {days} event days "
                      f"(goal ≤ {GOAL_SECONDS} s, < {GOAL_MB} MB)"))
    print(f"start-up (a warm import of the evaluate command): {startup:.1f} s")
    for name in (n for n in ("evaluate --real", "evaluate --profile") if n in runs):
        print(f"{name} by family (s):", results[name + " families_seconds"])
        print(f"{name} timings (s):", results[name + " timings"])
        print(f"{name} failed figures:", results[name + " failed"] or "none")
    path = write_results(f"evaluate_{args.fte}", {"machine": machine(), "fte": args.fte,
                                                  "event_days": args.event_days,
                                                  "results": results})
    print(f"results: {path}")


def _read_report(results: dict, name: str, folder: Path, wall: float) -> None:
    """An evaluate run's own figures from its report.json: seconds by family, the timings
    outside them, and the wall time outside evaluate and the report's writing (start-up,
    exit)."""
    report = json.loads((folder / "report.json").read_text())
    timings = report.get("timings", {})
    inside = sum(timings.get(k, 0.0) for k in ("evaluate", "html", "json"))
    results[name]["evaluate_own_seconds"] = timings.get("evaluate")
    results[name + " families_seconds"] = report["seconds"]
    results[name + " timings"] = {**timings, "outside (start-up, exit)": round(wall - inside, 2)}
    results[name + " failed"] = [f"{f['kind']} {f['table']} {f['metric']} "
                                 f"{f.get('column') or f.get('columns')}"
                                 for f in report["figures"] if f["passed"] is False]


def _row(name: str, results: dict, runs: dict) -> list[str]:
    """A line of the table: wall, CPU, evaluate's own, peak, ratios to the baseline."""
    mine = results[name]
    base = next((results[n] for n in runs if "baseline" in n and n in results), None)
    own = mine.get("evaluate_own_seconds")
    goal = "-" if "baseline" in name else (
        "yes" if mine["seconds"] <= GOAL_SECONDS and mine["peak_mb"] < GOAL_MB else "no")
    ratios = ["-", "-"] if base is None or base is mine else [
        f"{mine[k] / base[k]:.2f}" for k in ("seconds", "cpu_seconds")]
    return [name, f"{mine['seconds']:.1f}", f"{mine['cpu_seconds']:.1f}",
            "-" if own is None else f"{own:.1f}", f"{mine['peak_mb']:.0f}", *ratios, goal]


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
