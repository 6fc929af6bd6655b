"""Profiling time and peak memory: `campus-synth profile` over a generated warehouse with events.

Generates a warehouse once (not timed; `run --event-days 28 --no-marts` keeps the event store
to each term's first four weeks), then profiles it from the DuckDB file and from a Parquet
folder (the context-store tables and the partitioned `expanded` folder), each as a subprocess
whose process tree's RSS is sampled every 0.2 s. A third, traced run shows where the event-rate
model is computed: every query the profiler sends DuckDB is logged with its time and the rows
it returns, so the event queries' result sizes can be compared with the event count.

    .venv/bin/python benchmarks/profiling.py [--fte 20000] [--event-days 28] [--tmp DIR]
                                             [--warehouse DIR (reuse a generated one)]
"""

from __future__ import annotations

import argparse
import importlib.util
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
# not from end_to_end: it imports Beam and the pipeline, which the traced profile's own
# process would then count as already imported
from _common import CLI, ROOT, flush_print, machine, table, tree_rss, write_results  # noqa: E402
from _real_like import measure_real_like  # noqa: E402


def measure(args: list[str], interval: float = 0.2) -> tuple[float, float, float]:
    """(wall seconds, peak MB of the process tree, CPU seconds of the process tree: user +
    system, from the children's rusage) of one CLI run."""
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen([str(CLI), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid)[0])
        time.sleep(interval)
    output = process.stdout.read()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"campus-synth {' '.join(args)} failed:\n{output}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, peak / 2**20, cpu


def trace(source: str) -> dict:
    """Profile `source` in this process, logging each query: the event-rate part's queries
    (those reading event_store.expanded), their seconds and the rows each returned."""
    sys.path.insert(0, str(ROOT))
    start = time.perf_counter()
    import distributions._profiler as profiler
    from distributions._sources import DuckDBSource, open_source
    import_s = time.perf_counter() - start

    log: list[dict] = []
    query = DuckDBSource.query

    def logged(self, sql: str):
        start = time.perf_counter()
        result = query(self, sql)
        log.append({"events": "expanded" in sql, "seconds": time.perf_counter() - start,
                    "rows": result.num_rows})
        return result

    part = profiler.event_part
    timing = {}

    def timed(p, document):
        start = time.perf_counter()
        part(p, document)
        timing["event_part_s"] = time.perf_counter() - start

    DuckDBSource.query, profiler.event_part = logged, timed
    start, cpu = time.perf_counter(), time.process_time()
    opened = open_source(source)
    result = profiler.profile_source(opened)
    events = [q for q in log if q["events"]]
    return {"profile_s": time.perf_counter() - start, **timing, "import_s": import_s,
            "profile_cpu_s": time.process_time() - cpu,
            "query_s": sum(q["seconds"] for q in log),
            "events": result.manifest["tables"].get("event_store.expanded", 0),
            "engine": opened.dialect,
            "queries": len(log), "event_queries": len(events),
            "event_query_s": sum(q["seconds"] for q in events),
            "event_rows_returned": sum(q["rows"] for q in events),
            "largest_event_result": max((q["rows"] for q in events), default=0),
            "tools": len(result.profile["events"]["tools"])}


def parquet_folder(warehouse: Path, folder: Path) -> Path:
    """A folder source: a link per context-store table, and `expanded` (partitioned)."""
    folder.mkdir()
    for table_dir in sorted((warehouse / "context_store_entity").iterdir()):
        (folder / table_dir.name).symlink_to(table_dir.resolve())
    (folder / "expanded").symlink_to((warehouse / "event_store" / "expanded").resolve())
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=float, default=20000)
    parser.add_argument("--event-days", type=int, default=28)
    parser.add_argument("--tmp", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--warehouse", default=None,
                        help="a warehouse generated before (`campus-synth run` output folder)")
    parser.add_argument("--real-like", action="store_true",
                        help="profile + generate on a hand-built ~30,000-enrollment source "
                        "shaped like issue 11's real data (benchmarks/_real_like.py)")
    parser.add_argument("--trace", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trace:  # the traced run, in a child process of its own
        print(json.dumps(trace(args.trace)))
        return 0
    if args.real_like:
        return real_like(args)
    scratch = Path(tempfile.mkdtemp(prefix="campus-synth-profiling-", dir=args.tmp))
    try:
        warehouse = Path(args.warehouse) if args.warehouse else scratch / "w"
        if not args.warehouse:
            flush_print(f"generating a {args.fte:g}-FTE warehouse with {args.event_days} days "
                        "of events per term (not timed) ...")
            subprocess.run([str(CLI), "run", "--fte", str(args.fte), "--event-days",
                            str(args.event_days), "--no-marts", "--out", str(warehouse)],
                           check=True, stdout=subprocess.DEVNULL)
        sources = {"duckdb file": str(warehouse / "warehouse.duckdb"),
                   "parquet folder": str(parquet_folder(warehouse, scratch / "parquet"))}
        rows = []
        for label, source in sources.items():
            flush_print(f"profiling the {label} ...")
            out = scratch / f"profile-{label.split()[0]}.json"
            seconds, peak, _cpu = measure(["profile", "--source", source, "--out", str(out)])
            rows.append([label, seconds, peak, out.stat().st_size // 1024])
        flush_print("profiling the duckdb file again, tracing its queries ...")
        traced = traced_profile(sources["duckdb file"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(table(["source", "wall s", "peak MB", "profile KB"], rows,
                f"\ncampus-synth profile at {args.fte:g} FTE, {traced['events']:,} events "
                f"({args.event_days} days per term; wall time includes ~5 s of imports)"))
    print(f"\nevent-rate model: {traced['event_part_s']:.1f} s of {traced['profile_s']:.1f} s, "
          f"{traced['event_queries']} aggregate queries run as SQL in {traced['engine']} "
          f"({traced['event_query_s']:.1f} s); they returned {traced['event_rows_returned']:,} "
          f"rows in all (largest {traced['largest_event_result']:,}) for "
          f"{traced['events']:,} events; {traced['tools']} tools published")
    write_results("profiling", {"benchmark": "profiling", "machine": machine(), "fte": args.fte,
                                "event_days": args.event_days, "events": traced["events"],
                                "traced": traced,
                                "runs": [dict(zip(["source", "seconds", "peak_mb", "profile_kb"],
                                                  r, strict=True)) for r in rows]})
    return 0


def real_like(args) -> int:
    """Profile then generate on the real-like source; figures against the bare scan."""
    scratch = Path(tempfile.mkdtemp(prefix="campus-synth-real-like-", dir=args.tmp))
    try:
        flush_print("building the real-like source by hand (not timed) ...")
        figures = measure_real_like(scratch, measure, traced_profile)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows, traced, cached = figures["source_rows"], figures["traced"], bytecode_cached()
    total = figures["profile_s"] + figures["generate_s"]
    total_cpu = figures["profile_cpu_s"] + figures["generate_cpu_s"]
    scan = figures["baseline_scan_s"]
    print(table(["step", "wall s", "CPU s", "peak MB", "× baseline"], [
        ["bare scan of every source table (DuckDB → Arrow)", scan, "", "", 1],
        ["CLI start-up alone (campus-synth --version)", figures["startup_s"],
         figures["startup_cpu_s"], figures["startup_peak_mb"], figures["startup_s"] / scan],
        ["campus-synth profile", figures["profile_s"], figures["profile_cpu_s"],
         figures["profile_peak_mb"], figures["profile_s"] / scan],
        ["  traced: profile_source in-process (imports apart)", traced["profile_s"],
         traced["profile_cpu_s"], "", traced["profile_s"] / scan],
        ["  traced: its queries in DuckDB", traced["query_s"], "", "",
         traced["query_s"] / scan],
        ["campus-synth generate (profile's FTE, --event-scale 0)", figures["generate_s"],
         figures["generate_cpu_s"], figures["generate_peak_mb"], figures["generate_s"] / scan]],
        f"\nreal-like source: {rows['course_section_enrollment']:,} enrollments, "
        f"{rows['learner_activity_result']:,} results; profile + generate {total:.1f} s wall, "
        f"{total_cpu:.1f} CPU s (goal ≤ 30 s; each figure includes its process's CLI "
        f"start-up); traced profile: {traced['queries']} queries, imports "
        f"{traced['import_s']:.1f} s; 1-minute load average at the end "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; bytecode cached: "
        f"{'yes' if cached else 'no'}"))
    write_results("profiling_real_like", {"benchmark": "profiling --real-like",
                                          "machine": machine(), "bytecode_cached": cached,
                                          **figures})
    return 0


def bytecode_cached() -> bool:
    """Whether the CLI's stack starts from cached bytecode: a pip install writes it; uv and
    PYTHONDONTWRITEBYTECODE=1 do not, and each process then compiles its ~2,800 modules
    (~5 CPU s for generate). Looked up for Beam, without importing it."""
    origin = importlib.util.find_spec("apache_beam").origin
    return os.path.exists(importlib.util.cache_from_source(origin))


def traced_profile(source: str) -> dict:
    """`trace(source)` in a child process (its imports timed from a fresh interpreter)."""
    return json.loads(subprocess.run(
        [sys.executable, __file__, "--trace", source], check=True, capture_output=True,
        text=True).stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
