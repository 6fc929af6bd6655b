"""End to end: the default `campus-synth run` (and `generate`) as a subprocess: the stage
times (generate, load, build, evaluate), disk used and peak memory against issue 16's goals,
each beside a bare baseline measured in the same run where one applies.

    .venv/bin/python benchmarks/end_to_end.py [--fte 20000 [100000 200000]]
        [--modes run generate] [--workers 1] [--interval 0.2] [--tmp DIR] [--no-baselines]
        [-- extra campus-synth flags, e.g. --event-days 14]

Memory: every `--interval` seconds the RSS of the CLI process and all its descendants (Beam
worker processes with `--workers 2`) is summed (psutil when installed, else /proc). The CLI's
stage lines are read from its stdout as they come, so each sample is attributed to a stage and
the stage holding the peak is reported. A sum of RSS counts pages shared between processes
once per process, so with several Beam workers it overstates a little.

Baselines, measured on the run's own output before it is deleted:
* generate — every Parquet file the run wrote, rewritten with the same rows, schema and writer
  options from numpy random values (per table: the distinct share, string length and null
  share of each leaf column, measured on one of its files), one process, with files written
  on one background thread as the job's event writer does (the same overlap).
* load — like the load: the context store's Parquet copied into a fresh DuckDB file with one
  bare `CREATE TABLE AS SELECT * FROM read_parquet(...)` per table, with the load's memory
  limit, and the events not copied: one bare `CREATE VIEW ... AS SELECT * FROM
  read_parquet(...)` over the same files, as the load describes them in place.
* disk — the Parquet alone.  * peak — the CLI's imports alone (the `startup` stage).
Build (dbt) and evaluate have no bare baseline.

Each run starts with an empty dbt parse cache, as a new user's first run does. Outputs go to a
temporary folder that is deleted after each run. Figures go to stdout and to
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
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bare_data import column_stats, random_array  # noqa: E402
from _common import ROOT, flush_print, machine, table, tree_rss, write_results  # noqa: E402

from pipeline.generate._beam import EVENT_PARQUET, parquet_options  # noqa: E402
from pipeline.outputs._duckdb import MEMORY_LIMIT  # noqa: E402
from pipeline.udp._event_schema import QUALIFIED_NAME as EVENTS  # noqa: E402

try:
    import psutil
except ImportError:  # pragma: no cover - the /proc fallback
    psutil = None

CLI = ROOT / ".venv" / "bin" / "campus-synth"
DONE = re.compile(r"done in ([0-9.]+) s")
EVENTS_DIR = "event_store/expanded"


# ---- process-tree CPU (memory: _common.tree_rss) ------------------------------------------
def tree_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of pid, its live descendants and its reaped children;
    None without psutil."""
    if psutil is None:
        return None
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
        times = root.cpu_times()
        total = times.children_user + times.children_system
    except psutil.NoSuchProcess:
        return None
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


# ---- one run ----------------------------------------------------------------------------------
STAGE_LINES = {"Planning row counts": "plan", "Generating tables (Beam)": "generate",
               "Loading DuckDB": "load", "Building the marts (dbt)": "build",
               "Evaluating against the profile": "evaluate"}


def run_once(mode: str, fte: float, out: Path, extra: list[str], interval: float) -> dict:
    """Run the CLI; wall time, stage times and memory samples (each with its stage)."""
    command = [str(CLI), mode, "--fte", f"{fte:g}", "--out", str(out), *extra]
    # an empty dbt parse cache, as on a new machine (a kept parse would spare the run's parse)
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="120", TERM="dumb",
               DBT_SEND_ANONYMOUS_USAGE_STATS="false",
               CAMPUS_SYNTH_DBT_CACHE=str(out.with_name(f"{out.name}-dbt-cache")))
    lines: list[tuple[float, str]] = []
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=env, cwd=ROOT)
    reader = threading.Thread(target=lambda: lines.extend(
        (time.perf_counter() - start, line.rstrip("\n")) for line in process.stdout),
        daemon=True)
    reader.start()
    samples: list[tuple[float, int, float | None]] = []
    while process.poll() is None:
        total, _, count = tree_rss(process.pid)
        if count:
            samples.append((time.perf_counter() - start, total, tree_cpu(process.pid)))
        time.sleep(interval)
    wall = time.perf_counter() - start
    reader.join(timeout=5)
    marks, stage_s = stage_marks(lines, wall)
    result = {"mode": mode, "fte": fte, "command": command[1:], "wall_s": wall,
              "stage_s": stage_s, "cpu_s": cpu_by_stage(samples, marks),
              **memory(samples, marks)}
    if process.returncode != 0:  # kept, with the stage it failed in: the next sizes still run
        tail = "\n".join(text for _, text in lines[-30:])
        flush_print(f"  {' '.join(command)} exited with {process.returncode}:\n{tail}")
        result["failed"] = {"exit_code": process.returncode, "stage": marks[-1][1],
                            "tail": tail}
    return result


def stage_marks(lines: list[tuple[float, str]], wall: float) -> tuple[list, dict]:
    """[(start, stage)] from the CLI's stage lines, and seconds per stage ("done in" when the
    CLI prints it, else up to the next stage or the end: evaluate prints none)."""
    marks = [(0.0, "startup")]
    for at, text in lines:
        stage = next((s for prefix, s in STAGE_LINES.items() if text.startswith(prefix)), None)
        if stage:
            marks.append((at, stage))
    ends = [at for at, _ in marks[1:]] + [wall]
    stage_s = {stage: end - at for (at, stage), end in zip(marks, ends, strict=True)}
    current = None
    for at, text in lines:
        current = next((s for when, s in marks if when == at), current)
        found = DONE.search(text)
        if found and current in stage_s:
            stage_s[current] = float(found.group(1))
    return marks, stage_s


def cpu_by_stage(samples: list, marks: list) -> dict[str, float]:
    """CPU seconds used in each stage (between its last sample and the previous stage's)."""
    last: dict[str, float] = {}
    for at, _, cpu in samples:
        if cpu is not None:
            last[[name for when, name in marks if when <= at][-1]] = cpu
    used, before = {}, 0.0
    for _, stage in marks:
        if stage in last:
            used[stage], before = last[stage] - before, last[stage]
    return used


def memory(samples: list, marks: list) -> dict:
    """Peak summed RSS, the stage it fell in, and the peak per stage (MiB)."""
    by_stage: dict[str, float] = {}
    for at, total, _ in samples:
        stage = [name for when, name in marks if when <= at][-1]
        by_stage[stage] = max(by_stage.get(stage, 0.0), total / 2**20)
    at, total, _ = max(samples, key=lambda s: s[1]) if samples else (0.0, 0, None)
    return {"peak_mb": total / 2**20, "peak_stage": [n for w, n in marks if w <= at][-1],
            "peak_by_stage_mb": by_stage, "samples": len(samples)}


def disk(out: Path) -> dict:
    """Bytes on disk (allocated blocks) under `out`: Parquet, the DuckDB file, the rest."""
    sizes = {"parquet": 0, "duckdb": 0, "other": 0}
    for path in out.rglob("*"):
        if path.is_file():
            kind = "parquet" if path.suffix == ".parquet" else \
                "duckdb" if path.name.startswith("warehouse.duckdb") else "other"
            sizes[kind] += path.stat().st_blocks * 512
    return {f"{k}_mb": v / 2**20 for k, v in sizes.items()} | \
        {"disk_mb": sum(sizes.values()) / 2**20}


def counts(out: Path) -> dict:
    tables = json.loads((out / "campus-synth.json").read_text())["tables"]
    return {"rows": sum(tables.values()), "events": tables.get(EVENTS, 0)}


# ---- bare baselines ---------------------------------------------------------------------------
def bare_generate(out: Path, scratch: Path) -> dict:
    """The run's Parquet rewritten from random values of the same shape (see the docstring)."""
    files = sorted(out.rglob("part-*.parquet"))
    folders: dict[Path, list[Path]] = {}
    for path in files:
        folders.setdefault(path.parent.parent if path.parent.name.startswith("term_week=")
                           else path.parent, []).append(path)
    jobs = []  # (target, rows, schema, stats, options), measured before the clock starts
    for folder, members in folders.items():
        sample = max(members, key=lambda p: p.stat().st_size)
        schema, stats = pq.read_schema(sample), column_stats(sample)
        events = folder.relative_to(out).as_posix() == EVENTS_DIR
        for path in members:
            jobs.append((scratch / path.relative_to(out), pq.ParquetFile(path).metadata.num_rows,
                         schema, stats, EVENT_PARQUET if events else None))
    rng, pending = np.random.default_rng(0), deque()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as writer:  # the job's own write-behind
        for target, rows, schema, stats, options in jobs:
            batch = pa.RecordBatch.from_arrays(
                [random_array(f, rows, stats, rng) for f in schema], schema=schema)
            target.parent.mkdir(parents=True, exist_ok=True)
            while len(pending) >= 8:
                pending.popleft().result()
            pending.append(writer.submit(pq.write_table, pa.Table.from_batches([batch]),
                                         target, **(options or parquet_options(batch))))
        for future in pending:
            future.result()
    return {"seconds": time.perf_counter() - start, "files": len(jobs),
            "rows": sum(job[1] for job in jobs)}


def bare_load(out: Path, scratch: Path) -> dict:
    """The load's work done bare into a fresh DuckDB file: every context-store table's
    Parquet copied, one CREATE TABLE AS each; the events, which the load leaves in place
    as a view, one CREATE VIEW over the same files (it binds them: lists and reads the
    footers), so both sides copy the same rows."""
    scratch.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with duckdb.connect(str(scratch / "bare.duckdb")) as connection:
        connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        connection.execute("SET preserve_insertion_order = true")
        for folder in sorted({p.parent for p in out.glob("*/*/part-*.parquet")}):
            connection.execute(f'CREATE TABLE "{folder.parent.name}__{folder.name}" AS SELECT '
                               f"* FROM read_parquet('{folder}/part-*.parquet')")
        if (out / EVENTS_DIR).is_dir():
            connection.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet("
                               f"'{out / EVENTS_DIR}/*/part-*.parquet', hive_partitioning = false)")
    size = (scratch / "bare.duckdb").stat().st_size
    return {"seconds": time.perf_counter() - start, "duckdb_mb": size / 2**20}


# ---- report -----------------------------------------------------------------------------------
def measure(mode: str, fte: float, args, scratch: Path) -> dict:
    """One CLI run, its disk and counts, and the baselines on its output (then deleted)."""
    out = scratch / f"{mode}-{fte:g}"
    free = shutil.disk_usage(scratch).free / 2**30
    flush_print(f"campus-synth {mode} --fte {fte:g} {' '.join(args.extra)} ... "
                f"({free:.1f} GB free under {scratch})")
    result = run_once(mode, fte, out, args.extra, args.interval) | {"free_gb_before": free}
    if "failed" in result:  # the CLI removed its staging folder: nothing to measure
        shutil.rmtree(out, ignore_errors=True)
        return result | {"rows": None, "events": None}
    result |= disk(out) | counts(out)
    if args.baselines:
        flush_print("  bare baselines on its output ...")
        result["bare_generate"] = bare_generate(out, scratch / "bare-generate")
        shutil.rmtree(scratch / "bare-generate", ignore_errors=True)
        if mode == "run":
            result["bare_load"] = bare_load(out, scratch / "bare-load")
            shutil.rmtree(scratch / "bare-load", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    flush_print(f"  {result['wall_s']:.1f} s, peak {result['peak_mb']:,.0f} MiB in "
                f"{result['peak_stage']}, " + ", ".join(
                    f"{k} {v:.1f} s" for k, v in result["stage_s"].items()))
    return result


def goal_rows(r: dict) -> list[list]:
    """[figure, measured, bare baseline, measured against it, goal, met] for one run."""
    stage, gen, load = r["stage_s"], r.get("bare_generate"), r.get("bare_load")
    rows = [["wall s", r["wall_s"], None, None, "≤ 240 s", r["wall_s"] <= 240]]
    if "generate" in stage:
        ratio = gen["seconds"] / stage["generate"] if gen else None
        rows.append(["generate s", stage["generate"], gen and gen["seconds"],
                     ratio and f"{ratio:.2f}× bare speed", "≥ 0.9× bare",
                     ratio and ratio >= 0.9])
    if "load" in stage:
        rate = r["events"] / stage["load"]
        bare = load and r["events"] / load["seconds"]
        rows.append(["load s", stage["load"], load and load["seconds"],
                     f"{rate / 1e6:.2f} M ev/s" + (f" (bare {bare / 1e6:.2f})" if bare else ""),
                     "≥ 1 M events/s", rate >= 1e6])
    if "build" in stage:
        rows.append(["build (dbt) s", stage["build"], None, None, "≤ 60 s", stage["build"] <= 60])
    if "evaluate" in stage:
        rows.append(["evaluate s", stage["evaluate"], None, None, "-", None])
    # the goals are in decimal GB (10^9 bytes); the *_mb figures are MiB (2^20 bytes)
    rows.append(["disk GB", _gb(r["disk_mb"]), _gb(r["parquet_mb"]), "baseline: Parquet",
                 "≤ 5 GB", _gb(r["disk_mb"]) <= 5])
    floor = r["peak_by_stage_mb"].get("startup")
    rows.append([f"peak GB (in {r['peak_stage']})", _gb(r["peak_mb"]), floor and _gb(floor),
                 "baseline: imports", "≤ 2 GB", _gb(r["peak_mb"]) <= 2])
    return rows


def _gb(mib: float) -> float:
    """MiB as decimal GB, the unit of issue 16's goals."""
    return mib * 2**20 / 1e9


def throughput_rows(r: dict) -> list[list]:
    """Per stage: seconds, CPU seconds, cores busy, and rows (events) per CPU second."""
    rows = []
    for stage, seconds in r["stage_s"].items():
        cpu = r["cpu_s"].get(stage)
        counted = stage in ("generate", "load") and cpu
        rows.append([stage, seconds, cpu, cpu / seconds if cpu and seconds else None,
                     r["rows"] / cpu if counted else None,
                     r["events"] / cpu if counted else None])
    return rows


STAGES = ("startup", "plan", "generate", "load", "build", "evaluate")


def peak_rows(results: list[dict]) -> list[list]:
    """Per run: rows, events, the peak MiB of each stage and of the whole run."""
    return [[r["mode"], f"{r['fte']:g}", r["rows"], r["events"],
             *(r["peak_by_stage_mb"].get(stage) for stage in STAGES), r["peak_mb"],
             f"failed in {r['failed']['stage']}" if "failed" in r else "ok"] for r in results]


def growth_rows(results: list[dict]) -> list[list]:
    """Per mode and stage (and the whole run): the largest peak over the smallest across
    the sizes (goal ≤ 1.2: within 20 % of each other), and the rows' growth beside it."""
    rows = []
    for mode in dict.fromkeys(r["mode"] for r in results):
        runs = sorted((r for r in results if r["mode"] == mode), key=lambda r: r["fte"])
        if len(runs) < 2:
            continue
        counted = [r["rows"] for r in runs if r["rows"]]
        grown = max(counted) / min(counted) if len(counted) >= 2 else None
        sizes = " / ".join(f"{r['fte']:g}" for r in runs)
        for stage in (*STAGES, "whole run"):
            peaks = [r["peak_mb"] if stage == "whole run" else r["peak_by_stage_mb"].get(stage)
                     for r in runs]
            if None in peaks or stage == "startup":
                continue
            ratio = max(peaks) / min(peaks)
            rows.append([mode, stage, sizes, grown, min(peaks), max(peaks), ratio,
                         ratio <= 1.2])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=float, nargs="+", default=[20000])
    parser.add_argument("--modes", nargs="+", default=["run"], choices=["run", "generate"])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.2, help="memory poll, seconds")
    parser.add_argument("--tmp", default=None, help="scratch folder (default: system temp)")
    parser.add_argument("--no-baselines", dest="baselines", action="store_false")
    parser.add_argument("extra", nargs="*", help="after --: more campus-synth flags")
    args = parser.parse_args(argv)
    if not CLI.exists():
        raise SystemExit(f"{CLI} not found: install the project into .venv first")
    if args.workers > 1:
        args.extra += ["--direct_running_mode=multi_processing",
                       f"--direct_num_workers={args.workers}"]
    scratch = Path(tempfile.mkdtemp(prefix="campus-synth-e2e-", dir=args.tmp))
    loads = [os.getloadavg()[0]]
    try:
        results = []
        for fte in args.fte:
            for mode in args.modes:
                results.append(measure(mode, fte, args, scratch))
                loads.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for r in results:
        if "failed" in r:
            print(f"\n{r['mode']} --fte {r['fte']:g}: failed in {r['failed']['stage']} (exit "
                  f"{r['failed']['exit_code']}) after {r['wall_s']:.1f} s")
            continue
        print(table(["figure", "measured", "bare baseline", "against it", "goal", "met"],
                    goal_rows(r), f"\n{r['mode']} --fte {r['fte']:g} {' '.join(args.extra)}: "
                    f"{r['rows']:,} rows ({r['events']:,} events); 1-min load average "
                    f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores"))
        print(table(["stage", "s", "CPU s", "cores busy", "rows / CPU s", "events / CPU s"],
                    throughput_rows(r), "\nWhere the time and the cores go"))
    print(table(["mode", "FTE", "rows", "events", *(f"{s} MiB" for s in STAGES), "peak MiB",
                 "result"], peak_rows(results), "\nPeak RSS by stage"))
    if growth := growth_rows(results):
        print(table(["mode", "stage", "FTE", "rows ×", "min MiB", "max MiB", "peak ×", "≤ 1.2"],
                    growth, "\nMemory flat in FTE (largest peak over smallest)"))
    payload = {"benchmark": "end_to_end", "machine": machine(), "args": vars(args),
               "load_average_1min": loads, "memory_probe": "psutil" if psutil else "/proc",
               "runs": results}
    print(f"\n(figures written to {write_results('end_to_end', payload)})")
    return 1 if any("failed" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
