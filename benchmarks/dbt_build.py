"""dbt build time and DuckDB file size: the marts on a 20,000-FTE warehouse with a full term of
events.

Generates the warehouse once without its marts (`campus-synth run --terms 1 --no-marts`,
timed but not the subject), then times `campus-synth build` (dbt build: staging views, the
intermediate and mart tables, every data and unit test) as a subprocess, sampling the
process tree's RSS every 0.2 s. Prints the build's wall time and peak memory, the DuckDB
file's size before and after the marts, the slowest dbt nodes (from run_results.json) and
the marts' row counts. No bare baseline: the figures stand alone.

    .venv/bin/python benchmarks/dbt_build.py [--fte 20000] [--terms 1] [--event-scale 1]
                                             [--keep DIR] [--tmp DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CLI, flush_print, machine, table, write_results  # noqa: E402
from _common import measure as measure_command  # noqa: E402

MARTS = ("mart_course_offering.status", "mart_taskforce.course_profile",
         "mart_general.lms_tool", "mart_general.lti_tool", "mart_general.tool_usage_metrics",
         "mart_taskforce.level1_aggregated", "mart_taskforce.level2_aggregated",
         "udp_distributions.context_store_distributions")


def measure(args: list[str], log: Path) -> tuple[float, float, str]:
    """(wall seconds, peak MB, last output line) of one CLI run (output in `log`)."""
    seconds, peak, _, last = measure_command([str(CLI), *args], log)
    return seconds, peak, last


def _mb(path: Path) -> float:
    return path.stat().st_size / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=float, default=20000)
    parser.add_argument("--terms", type=int, default=1, help="terms of events (1: a full term)")
    parser.add_argument("--event-scale", type=float, default=None,
                        help="event rate multiplier (default: the profile's rates)")
    parser.add_argument("--keep", default=None, help="use (or keep) this warehouse folder")
    parser.add_argument("--tmp", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument("--top", type=int, default=8, help="slowest dbt nodes to list")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="campus-synth-dbt-", dir=args.tmp))
    warehouse = Path(args.keep) if args.keep else scratch / "w"
    try:
        generation = None
        if not (warehouse / "warehouse.duckdb").exists():
            flush_print(f"generating {args.fte:g} FTE, {args.terms} term(s) of events, "
                        "no marts ...")
            run = ["run", "--fte", str(args.fte), "--terms", str(args.terms), "--no-marts",
                   "--out", str(warehouse)]
            if args.event_scale is not None:
                run += ["--event-scale", str(args.event_scale)]
            generation = measure(run, scratch / "run.log")[0]
        file = warehouse / "warehouse.duckdb"
        before = _mb(file)
        import duckdb

        with duckdb.connect(str(file), read_only=True) as con:
            events = con.execute("select count(*) from event_store.expanded").fetchone()[0]
            results = con.execute("select count(*) from "
                                  "context_store_entity.learner_activity_result").fetchone()[0]
        flush_print(f"dbt build on {file} ({before:,.0f} MB, {events:,} events) ...")
        start = time.perf_counter()
        seconds, peak_mb, last = measure(["build", "--out", str(warehouse)],
                                         scratch / "build.log")
        flush_print(last)
        after = _mb(file)
        run_results = json.loads((warehouse / "dbt" / "target" / "run_results.json").read_text())
        nodes = sorted(run_results["results"], key=lambda r: -r["execution_time"])
        with duckdb.connect(str(file), read_only=True) as con:
            rows = {m: con.execute(f"select count(*) from {m}").fetchone()[0] for m in MARTS}
        figures = {
            "fte": args.fte, "terms": args.terms, "event_scale": args.event_scale,
            "events": events, "learner_activity_results": results,
            "generation_s": generation, "dbt_build_s": seconds,
            "dbt_elapsed_s": run_results.get("elapsed_time"), "peak_mb": peak_mb,
            "duckdb_mb_before": before, "duckdb_mb_after": after,
            "nodes": len(nodes), "mart_rows": rows,
            "slowest": [{"node": n["unique_id"], "seconds": n["execution_time"]}
                        for n in nodes[:args.top]],
            "wall_s": time.perf_counter() - start,
        }
        flush_print("")
        flush_print(table(["figure", "value"], [
            ["events", events],
            ["generation (run --no-marts), s", generation],
            ["dbt build (campus-synth build), s", seconds],
            ["  dbt's own elapsed, s", run_results.get("elapsed_time")],
            ["  peak RSS of the build, MB", peak_mb],
            ["dbt nodes (models, tests, unit tests)", len(nodes)],
            ["DuckDB file before marts, MB", before],
            ["DuckDB file after marts, MB", after],
        ], title=f"dbt build at {args.fte:g} FTE, {args.terms} term(s) of events"))
        flush_print("")
        flush_print(table(["node", "seconds"],
                          [[n["unique_id"].split(".", 2)[-1], n["execution_time"]]
                           for n in nodes[:args.top]], title="slowest dbt nodes"))
        flush_print("")
        flush_print(table(["mart", "rows"], [[m, r] for m, r in rows.items()],
                          title="mart rows"))
        path = write_results("dbt_build", {"machine": machine(), "figures": figures})
        flush_print(f"\nwritten: {path}")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
