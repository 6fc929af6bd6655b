"""End to end: `campus-synth run` and `campus-synth generate` as subprocesses, wall time and
peak memory of the whole process tree, per FTE.

    .venv/bin/python benchmarks/end_to_end.py [--fte 20000 100000] [--modes generate run]
                                              [--workers 1] [--interval 0.2] [--tmp DIR]

Memory: every `--interval` seconds the RSS of the CLI process and all its descendants (Beam
worker processes with `--workers 2`) is summed (psutil when installed, else /proc). The CLI's
stage lines ("Planning row counts", "Generating tables (Beam)", "Loading DuckDB") are read
from its stdout as they come, so each sample is attributed to a stage and the stage holding
the peak is reported. A sum of RSS counts pages shared between processes once per process, so
with several Beam workers it overstates a little; with one process it is exact RSS.

Outputs go to a temporary folder that is deleted after each run. Figures go to stdout and to
benchmarks/results/end_to_end.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, flush_print, machine, table, tree_rss, write_results  # noqa: E402

CLI = ROOT / ".venv" / "bin" / "campus-synth"
STAGES = {"Planning row counts": "plan", "Generating tables (Beam)": "generate",
          "Loading DuckDB": "load"}
DONE = re.compile(r"done in ([0-9.]+) s")
BYTES_PER_ROW_GUESS = 120  # Parquet + DuckDB, generous; refined after the first run


# ---- one run ----------------------------------------------------------------------------------
def run_once(mode: str, fte: float, out: Path, beam_args: list[str], interval: float) -> dict:
    command = [str(CLI), mode, "--fte", f"{fte:g}", "--out", str(out), *beam_args]
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="120", TERM="dumb",
               DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    lines: list[tuple[float, str]] = []
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, cwd=ROOT)

    def read():
        for line in process.stdout:
            lines.append((time.perf_counter() - start, line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    samples: list[tuple[float, int, int, int]] = []
    while process.poll() is None:
        total, main, count = tree_rss(process.pid)
        if count:
            samples.append((time.perf_counter() - start, total, main, count))
        time.sleep(interval)
    wall = time.perf_counter() - start
    reader.join(timeout=5)
    if process.returncode != 0:
        tail = "\n".join(text for _, text in lines[-30:])
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}:\n{tail}")

    # stage boundaries from the CLI's own lines
    marks = [(0.0, "startup")]
    stage_seconds = {}
    current = None
    for at, text in lines:
        for prefix, stage in STAGES.items():
            if text.startswith(prefix):
                marks.append((at, stage))
                current = stage
        found = DONE.search(text)
        if found and current:
            stage_seconds[current] = float(found.group(1))
            marks.append((at, "finish"))
            current = None
    if len(marks) > 1:
        stage_seconds["startup"] = marks[1][0]  # imports and settings, before planning
    peaks: dict[str, dict] = {}
    for at, total, main, count in samples:
        stage = [name for when, name in marks if when <= at][-1]
        peak = peaks.setdefault(stage, {"mb": 0.0, "main_mb": 0.0, "processes": 0})
        peak["mb"] = max(peak["mb"], total / 2**20)
        peak["main_mb"] = max(peak["main_mb"], main / 2**20)
        peak["processes"] = max(peak["processes"], count)
    peak_total = max(samples, key=lambda s: s[1]) if samples else (0.0, 0, 0, 0)
    peak_stage = [name for when, name in marks if when <= peak_total[0]][-1]

    manifest = json.loads((out / "campus-synth.json").read_text())
    rows = sum(manifest["tables"].values())
    parquet = sum(f.stat().st_size for f in out.glob("*/*/part-*.parquet"))
    duck = out / "warehouse.duckdb"
    return {
        "mode": mode, "fte": fte, "command": command[1:], "rows": rows,
        "wall_s": wall, "rows_per_s": rows / wall, "stage_s": stage_seconds,
        "peak_mb": peak_total[1] / 2**20, "peak_at_s": peak_total[0], "peak_stage": peak_stage,
        "peak_by_stage": peaks, "samples": len(samples),
        "parquet_mb": parquet / 2**20,
        "duckdb_mb": duck.stat().st_size / 2**20 if duck.exists() else 0.0,
        "memory_timeline": [(round(t, 2), round(total / 2**20, 1)) for t, total, *_ in
                            samples[::max(1, len(samples) // 200)]],
    }


# ---- main -------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=float, nargs="+", default=[20000, 100000])
    parser.add_argument("--modes", nargs="+", default=["generate", "run"],
                        choices=["generate", "run"])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.2, help="memory poll, seconds")
    parser.add_argument("--tmp", default=None, help="scratch folder (default: system temp)")
    args = parser.parse_args(argv)
    if not CLI.exists():
        raise SystemExit(f"{CLI} not found: install the project into .venv first")
    beam_args = []
    if args.workers > 1:
        beam_args = ["--direct_running_mode=multi_processing",
                     f"--direct_num_workers={args.workers}"]

    sys.path.insert(0, str(ROOT))
    from distributions import load_profile
    from pipeline.cli import planned_rows
    from pipeline.generate import Settings
    profile = load_profile()
    planned = {fte: sum(planned_rows(profile, Settings(fte=fte)).values()) for fte in args.fte}

    scratch = Path(tempfile.mkdtemp(prefix="campus-synth-e2e-", dir=args.tmp))
    bytes_per_row = BYTES_PER_ROW_GUESS
    results = []
    loads = [os.getloadavg()[0]]
    try:
        for fte in args.fte:
            for mode in args.modes:
                need = planned[fte] * bytes_per_row * 1.5
                free = shutil.disk_usage(scratch).free
                if free < need:
                    raise SystemExit(f"{scratch}: {free / 2**30:.1f} GB free, a {fte:g} FTE "
                                     f"{mode} needs about {need / 2**30:.1f} GB")
                out = scratch / f"{mode}-{fte:g}"
                flush_print(f"campus-synth {mode} --fte {fte:g} ({planned[fte]:,} rows) ...")
                result = run_once(mode, fte, out, beam_args, args.interval)
                loads.append(os.getloadavg()[0])
                shutil.rmtree(out, ignore_errors=True)
                size = (result["parquet_mb"] + result["duckdb_mb"]) * 2**20
                bytes_per_row = max(bytes_per_row, size / result["rows"])
                results.append(result)
                flush_print(f"  {result['wall_s']:.1f} s, peak {result['peak_mb']:,.0f} MB "
                            f"in {result['peak_stage']}, stages "
                            + ", ".join(f"{k} {v:.1f} s" for k, v in result["stage_s"].items()))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    rows = []
    for r in results:
        by_stage = r["peak_by_stage"]
        rows.append([f"{r['mode']} {r['fte']:g}", r["rows"], r["wall_s"], r["rows_per_s"],
                     r["stage_s"].get("startup"), r["stage_s"].get("generate"), r["stage_s"].get("load"),
                     r["peak_mb"], r["peak_stage"],
                     by_stage.get("generate", {}).get("mb"), by_stage.get("load", {}).get("mb"),
                     r["parquet_mb"], r["duckdb_mb"] or None])
    text = [table(["run", "rows", "wall s", "rows/s", "startup s", "gen s", "load s", "peak MB",
                   "peak in", "gen peak MB", "load peak MB", "parquet MB", "duckdb MB"], rows,
                  f"\nEnd to end ({args.workers} Beam worker(s); peak = max summed RSS of the "
                  f"process tree, polled every {args.interval:g} s)")]
    ratios = {}
    if len(args.fte) >= 2:
        small, large = min(args.fte), max(args.fte)
        ratio_rows = []
        for mode in args.modes:
            a = next((r for r in results if r["mode"] == mode and r["fte"] == small), None)
            b = next((r for r in results if r["mode"] == mode and r["fte"] == large), None)
            if not (a and b):
                continue
            entry = {"rows": b["rows"] / a["rows"], "peak": b["peak_mb"] / a["peak_mb"]}
            for stage in ("generate", "load"):
                pa_, pb = (a["peak_by_stage"].get(stage, {}).get("mb"),
                           b["peak_by_stage"].get(stage, {}).get("mb"))
                entry[f"{stage}_peak"] = pb / pa_ if pa_ and pb else None
            ratios[mode] = entry
            ratio_rows.append([mode, entry["rows"], entry["peak"], entry["generate_peak"],
                               entry["load_peak"]])
        text.append(table(["mode", "rows ratio", "peak ratio", "gen-stage peak ratio",
                           "load-stage peak ratio"], ratio_rows,
                          f"\nGrowth {large:g} FTE / {small:g} FTE"))
    print("\n".join(text))
    payload = {"benchmark": "end_to_end", "machine": machine(), "args": vars(args),
               "load_average_1min": loads, "memory_probe": "psutil" if psutil else "/proc",
               "runs": results, "ratios_large_over_small": ratios}
    path = write_results("end_to_end" + (f"-workers{args.workers}" if args.workers > 1 else ""),
                         payload)
    print(f"\n(figures written to {path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
