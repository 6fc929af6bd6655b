"""Generation throughput: the campus-synth Beam job against a bare numpy+pyarrow baseline.

    .venv/bin/python benchmarks/throughput.py [--fte 20000] [--workers 1|2] [--repeat 1]

The context store only (a profile without its `events` section; the event store is measured by
`events.py`). Both sides produce the same files: every table, the same row counts cut into the
same blocks
(the plan's own `Block`s, companions included), the same Arrow schemas, one zstd Parquet file
per block.

* pipeline  - `GenerateWarehouse(config, root)` run on `--runner=FnApiRunner` (with
              `--workers 2`: `--direct_running_mode=multi_processing --direct_num_workers=2`).
              Planning is done beforehand and excluded; the time is `run().wait_until_finish()`.
* baseline  - no Beam, no engine: numpy random values of the column types, at the per-block
              cardinality, string length and null fraction measured on a sample block of the
              real table (strings are `take`n from a pool of random strings of those lengths),
              each block written with `pyarrow.parquet.write_table` to its own file. With
              `--workers 2` the blocks go through a 2-process `multiprocessing.Pool`.
* breakdown - the engine driven directly (no Beam), block by block, timing `Engine.block`
              (generation) and the Parquet write separately, for the five largest tables, next
              to the baseline's per-table times. Also gives the engine's total without Beam,
              so Beam's own overhead is visible.

Figures go to stdout and to benchmarks/results/throughput.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import apache_beam as beam  # noqa: E402
from _common import flush_print, machine, table, write_results  # noqa: E402
from _throughput_baseline import WRITER, column_stats, run_baseline  # noqa: E402
from apache_beam.io.filesystems import FileSystems  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from distributions import load_profile  # noqa: E402
from pipeline import REGISTRY  # noqa: E402
from pipeline.cli._job import planned_rows  # noqa: E402
from pipeline.generate import GenerateWarehouse, JobConfig, Settings, _beam  # noqa: E402
from pipeline.generate._plan import blocks, generated_tables  # noqa: E402


# ---- the files both sides write ---------------------------------------------------------------
def file_specs(engine, block_rows: int) -> list[tuple[str, int, int]]:
    """(table key, block index, rows) of every Parquet file the job writes, in job order."""
    specs = []
    for key in generated_tables(engine):
        for cut in blocks(engine, key, block_rows):
            specs.append((key, cut.index, cut.stop - cut.start))
            specs += [(c, cut.index, stop - start) for c, start, stop in cut.companions]
    return specs


def count_written(root: Path) -> tuple[int, int]:
    """(files, rows) under an output root, from the Parquet footers."""
    files = sorted(root.glob("*/*/part-*.parquet"))
    return len(files), sum(pq.ParquetFile(f).metadata.num_rows for f in files)


# ---- pipeline side ----------------------------------------------------------------------------
def run_pipeline(config: JobConfig, root: Path, workers: int) -> tuple[float, float]:
    """(seconds of run().wait_until_finish(), seconds building the graph before it)."""
    args = ["--runner=FnApiRunner"]
    if workers > 1:
        args += ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    built = time.perf_counter()
    pipeline = beam.Pipeline(options=PipelineOptions(args))
    _ = pipeline | "Warehouse" >> GenerateWarehouse(config, str(root))
    start = time.perf_counter()
    result = pipeline.run()
    result.wait_until_finish()
    return time.perf_counter() - start, start - built


# ---- engine breakdown (no Beam) ---------------------------------------------------------------
def engine_breakdown(engine, config: JobConfig, root: Path, detail: set[str]):
    """Per table: (gen s, write s) with the engine driven directly, written the way the
    pipeline's WriteBlocks does. Tables generated together share one generate call; for the
    tables in `detail` that have companions, the main table is re-timed alone and the
    companion's generation time is estimated as the difference."""
    per_table = defaultdict(lambda: [0.0, 0.0])
    estimated = set()
    start = time.perf_counter()
    for key in generated_tables(engine):
        for cut in blocks(engine, key, config.settings.block_rows):
            t0 = time.perf_counter()
            batches = engine.block(cut.table, cut.start, cut.stop, cut.companions)
            gen = time.perf_counter() - t0
            if cut.companions and (key in detail or any(c in detail for c, *_ in cut.companions)):
                t0 = time.perf_counter()
                engine.block(cut.table, cut.start, cut.stop)
                alone = time.perf_counter() - t0
                per_table[key][0] += alone
                for c, *_ in cut.companions:
                    per_table[c][0] += max(0.0, gen - alone) / len(cut.companions)
                    estimated.add(c)
            else:
                per_table[key][0] += gen
            for table_key, batch in batches.items():
                t0 = time.perf_counter()
                path = _beam.block_path(str(root), table_key, cut.index)
                with FileSystems.create(path) as handle:
                    pq.write_table(pa.Table.from_batches([batch]), handle,
                                   **_beam.parquet_options(batch))
                per_table[table_key][1] += time.perf_counter() - t0
    # the re-timing above is not part of the engine's cost
    total = sum(g + w for g, w in per_table.values())
    return total, dict(per_table), estimated, time.perf_counter() - start


# ---- main -------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=float, default=20000)
    parser.add_argument("--workers", type=int, default=1, choices=(1, 2, 3, 4))
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; best is kept")
    parser.add_argument("--pool-cap", type=int, default=100_000,
                        help="largest string pool in the baseline (default: one block, so "
                             "unique columns stay unique per block; e.g. 1000 for small pools)")
    parser.add_argument("--top", type=int, default=5, help="tables in the breakdown")
    parser.add_argument("--no-breakdown", action="store_true")
    parser.add_argument("--tmp", default=None, help="scratch folder (default: system temp)")
    args = parser.parse_args(argv)

    # the context store alone: the event store has its own benchmark (events.py)
    profile = {k: v for k, v in load_profile().items() if k != "events"}
    settings = Settings(fte=args.fte)
    config = JobConfig(profile, settings)
    t0 = time.perf_counter()
    engine = _beam.engine_for(config)  # plan once; excluded from both timings
    plan_seconds = time.perf_counter() - t0
    counts = planned_rows(profile, settings)
    total_rows = sum(counts.values())
    specs = file_specs(engine, settings.block_rows)
    rows_by_key = {t.key: engine.n_rows(t.key) for t in REGISTRY}
    flush_print(f"fte {args.fte:g}: {total_rows:,} rows in {len(specs)} files, "
                f"{len(REGISTRY.tables)} tables (plan {plan_seconds:.2f} s, excluded)")

    scratch = Path(tempfile.mkdtemp(prefix="campus-synth-bench-", dir=args.tmp))
    try:
        pipe_times, base_times, build_times = [], [], []
        loads = [os.getloadavg()[0]]
        base_tables = None
        for attempt in range(args.repeat):
            root = scratch / f"pipeline-{attempt}"
            flush_print(f"pipeline run {attempt + 1}/{args.repeat} "
                        f"(FnApiRunner, {args.workers} worker(s)) ...")
            seconds, build = run_pipeline(config, root, args.workers)
            build_times.append(build)
            files, rows = count_written(root)
            if (files, rows) != (len(specs), total_rows):
                raise SystemExit(f"pipeline wrote {files} files / {rows} rows, "
                                 f"expected {len(specs)} / {total_rows}")
            pipe_times.append(seconds)
            flush_print(f"  {seconds:.2f} s, {total_rows / seconds:,.0f} rows/s "
                        f"(+ {build:.2f} s building the graph, excluded)")
            shutil.rmtree(root)
            loads.append(os.getloadavg()[0])

        flush_print("sampling column shapes for the baseline ...")
        stats = column_stats(engine, config)
        for attempt in range(args.repeat):
            root = scratch / f"baseline-{attempt}"
            flush_print(f"baseline run {attempt + 1}/{args.repeat} "
                        f"(numpy+pyarrow, {args.workers} process(es)) ...")
            seconds, per_table = run_baseline(stats, specs, root, args.workers, args.pool_cap)
            files, rows = count_written(root)
            if (files, rows) != (len(specs), total_rows):
                raise SystemExit(f"baseline wrote {files} files / {rows} rows, "
                                 f"expected {len(specs)} / {total_rows}")
            if not base_times or seconds < min(base_times):
                base_tables = per_table
            base_times.append(seconds)
            flush_print(f"  {seconds:.2f} s, {total_rows / seconds:,.0f} rows/s")
            shutil.rmtree(root)
            loads.append(os.getloadavg()[0])

        # reference only: the same baseline with pyarrow's default writer (dictionary pages
        # tried on every column), i.e. what a naive hand-written writer would do
        WRITER["mode"] = "default"
        default_times = []
        for attempt in range(args.repeat):
            root = scratch / f"baseline-default-{attempt}"
            flush_print(f"baseline with pyarrow's default writer {attempt + 1}/{args.repeat} ...")
            default_times.append(run_baseline(stats, specs, root, args.workers,
                                              args.pool_cap)[0])
            shutil.rmtree(root)
        WRITER["mode"] = "same"

        top = sorted(rows_by_key, key=lambda k: -rows_by_key[k])[:args.top]
        breakdown = None
        if not args.no_breakdown:
            flush_print("engine breakdown (no Beam, one process) ...")
            root = scratch / "engine"
            total, per_table, estimated, _ = engine_breakdown(engine, config, root, set(top))
            breakdown = {"total_seconds": total, "per_table": per_table,
                         "estimated": sorted(estimated)}
            shutil.rmtree(root)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    pipe_s, base_s = min(pipe_times), min(base_times)
    summary = [
        ["pipeline (Beam FnApiRunner)", total_rows, pipe_s, total_rows / pipe_s],
        ["baseline (numpy+pyarrow), same writer", total_rows, base_s, total_rows / base_s],
        ["baseline, pyarrow default writer", total_rows, min(default_times),
         total_rows / min(default_times)],
    ]
    if breakdown:
        summary.insert(1, ["engine alone, no Beam (1 proc)", total_rows,
                           breakdown["total_seconds"], total_rows / breakdown["total_seconds"]])
    ratio = base_s / pipe_s
    report = [table(["run", "rows", "seconds", "rows/s"], summary,
                    f"\nThroughput at {args.fte:g} FTE, {args.workers} worker(s), "
                    f"{len(specs)} files, zstd Parquet"),
              f"\nratio pipeline/baseline (rows/s), same writer settings: {ratio:.2f}   "
              f"(target >= 0.70: {'met' if ratio >= 0.7 else 'NOT met'})",
              f"ratio pipeline/baseline with pyarrow's default writer: "
              f"{min(default_times) / pipe_s:.2f}"]
    if breakdown:
        beam_overhead = pipe_s - breakdown["total_seconds"]
        report.append(f"Beam overhead over the engine alone: {beam_overhead:+.2f} s "
                      f"({beam_overhead / pipe_s:+.0%} of the pipeline's time)")
        rows = []
        for key in top:
            g, w = breakdown["per_table"].get(key, [0.0, 0.0])
            bg, bw = base_tables.get(key, [0.0, 0.0])
            mark = "*" if key in breakdown["estimated"] else ""
            rows.append([_short(key), rows_by_key[key],
                f"{g:.2f}{mark}", w, rows_by_key[key] / (g + w) if g + w else None,
                bg, bw, rows_by_key[key] / (bg + bw) if bg + bw else None])
        all_g = sum(v[0] for v in breakdown["per_table"].values())
        all_w = sum(v[1] for v in breakdown["per_table"].values())
        all_bg = sum(v[0] for v in base_tables.values())
        all_bw = sum(v[1] for v in base_tables.values())
        rows.append(["all tables", total_rows, f"{all_g:.2f}", all_w, total_rows / (all_g + all_w),
                     all_bg, all_bw, total_rows / (all_bg + all_bw)])
        summed = " (summed over processes)" if args.workers > 1 else ""
        report.append(table(
            ["table", "rows", "eng gen s", "eng write s", "eng rows/s",
             "base gen s", "base write s", "base rows/s"], rows,
            f"\nPer table, {args.top} largest: engine driven directly vs baseline{summed}"))
        if breakdown["estimated"]:
            report.append("* generated together with its parent table; its time is the "
                          "difference between generating the block with and without it")
    report.append(f"\nBeam graph construction before run(), excluded above: "
                  f"{min(build_times):.2f} s. 1-min load average during the runs: "
                  + ", ".join(f"{x:.1f}" for x in loads)
                  + (" (the machine was busy: figures are noisy)" if max(loads) > 1.5 else ""))
    text = "\n".join(report)
    print(text)

    payload = {
        "benchmark": "throughput", "machine": machine(),
        "args": vars(args), "files": len(specs), "total_rows": total_rows,
        "plan_seconds": plan_seconds, "graph_build_seconds": build_times,
        "load_average_1min": loads,
        "pipeline": {"seconds": pipe_s, "rows_per_s": total_rows / pipe_s, "runs": pipe_times,
                     "runner": "FnApiRunner", "workers": args.workers},
        "baseline": {"seconds": base_s, "rows_per_s": total_rows / base_s, "runs": base_times,
                     "processes": args.workers, "pool_cap": args.pool_cap,
                     "per_table": {k: {"gen_s": v[0], "write_s": v[1]}
                                   for k, v in base_tables.items()}},
        "baseline_default_writer": {"seconds": min(default_times), "runs": default_times},
        "ratio_pipeline_over_baseline": ratio,
        "ratio_over_default_writer_baseline": min(default_times) / pipe_s,
        "target_ratio": 0.7,
        "rows": {REGISTRY[k].qualified_name: n for k, n in rows_by_key.items()},
    }
    if breakdown:
        payload["engine_alone"] = {
            "seconds": breakdown["total_seconds"],
            "rows_per_s": total_rows / breakdown["total_seconds"],
            "per_table": {k: {"gen_s": v[0], "write_s": v[1]}
                          for k, v in breakdown["per_table"].items()},
            "estimated_gen": breakdown["estimated"],
        }
        payload["largest_tables"] = top
    path = write_results("throughput" + (f"-workers{args.workers}" if args.workers > 1 else ""),
                         payload)
    print(f"\n(figures written to {path})")
    return 0


def _short(key: str) -> str:
    return key.replace("keymap__", "keymap.")


if __name__ == "__main__":
    sys.exit(main())
