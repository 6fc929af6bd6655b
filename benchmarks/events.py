"""Event-store throughput against a bare numpy+pyarrow baseline, and a full term's cost.

    .venv/bin/python benchmarks/events.py [--fte 5000] [--event-days N] [--repeat 1]
    .venv/bin/python benchmarks/events.py --full-term 20000 5000

* pipeline  - the real Beam step: the plan's event blocks through `Reshuffle` and
              `GenerateEventStore` (generate, then one zstd Parquet file per block and week
              of term) on `--runner=FnApiRunner`. Planning is done beforehand and excluded.
* baseline  - no Beam, no engine: for every file the pipeline wrote, the same number of rows
              of the same columns (nested records included) from numpy random values with the
              per-file distinct share, string length and null share measured on the pipeline's
              own files, written with the same Parquet options to the same layout.
* full term - `campus-synth generate --terms 1` as a subprocess at each given FTE: total
              events, wall time and the peak memory of the process (bounded by the block size,
              so it must not grow with FTE).

Figures go to stdout and to benchmarks/results/events.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import apache_beam as beam  # noqa: E402
from _common import flush_print, machine, table, write_results  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from distributions import load_profile  # noqa: E402
from pipeline.generate import JobConfig, Settings  # noqa: E402
from pipeline.generate._beam import EVENT_PARQUET, GenerateEventStore, engine_for  # noqa: E402
from pipeline.generate._events.generate import event_blocks  # noqa: E402
from pipeline.udp._event_schema import ARROW_SCHEMA  # noqa: E402

EVENT_GLOB = "event_store/expanded/*/part-*.parquet"


def run_pipeline(config: JobConfig, root: Path) -> float:
    engine = engine_for(config)
    cuts = event_blocks(engine, config.settings.block_rows)
    pipeline = beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"]))
    _ = (pipeline | "Blocks" >> beam.Create(cuts) | "Spread" >> beam.Reshuffle()
         | "Events" >> GenerateEventStore(config, str(root)))
    start = time.perf_counter()
    pipeline.run().wait_until_finish()
    return time.perf_counter() - start


# ---- baseline -----------------------------------------------------------------------------------
def leaf_stats(path: Path) -> dict:
    """Per leaf column of one event file: (distinct share, mean string length, null share)."""
    data = pq.read_table(path).flatten().flatten()
    stats = {}
    for name, column in zip(data.column_names, data.columns, strict=True):
        valid = column.drop_null()
        distinct = len(valid.unique()) / max(len(valid), 1)
        length = (np.mean([len(v) for v in valid.slice(0, 2000).to_pylist()])
                  if pa.types.is_string(column.type) and len(valid) else 0)
        stats[name] = (distinct, float(length), column.null_count / max(len(column), 1))
    return stats


def random_leaf(kind: pa.DataType, n: int, stat: tuple, rng) -> pa.Array:
    distinct, length, nulls = stat
    mask = rng.random(n) < nulls if nulls else None
    if pa.types.is_string(kind):
        pool_size = max(1, int(distinct * n))
        width = max(int(round(length)), 1)
        raw = rng.integers(97, 123, size=(pool_size, width), dtype=np.uint8)
        offsets = pa.array(np.arange(pool_size + 1, dtype=np.int32) * width)
        pool = pa.StringArray.from_buffers(pool_size, offsets.buffers()[1],
                                           pa.py_buffer(raw.tobytes()))
        index = np.arange(n) if pool_size >= n else rng.integers(0, pool_size, n)
        values = pool.take(pa.array(index))
        return values if mask is None else pc.if_else(pa.array(mask), pa.scalar(None, kind),
                                                      values)
    if pa.types.is_timestamp(kind):
        return pa.array(rng.integers(1.7e15, 1.8e15, n), kind)
    if pa.types.is_date32(kind):
        return pa.array(np.full(n, 20_400, np.int32), kind)
    if pa.types.is_floating(kind):
        return pa.array(rng.random(n) * 100, mask=mask)
    values = rng.integers(0, max(int(distinct * n), 1), n) + 10**11
    return pa.array(values, mask=mask)


def random_batch(n: int, stats: dict, rng) -> pa.RecordBatch:
    arrays = []
    for field in ARROW_SCHEMA:
        if pa.types.is_struct(field.type):
            children = [random_leaf(f.type, n, stats[f"{field.name}.{f.name}"], rng)
                        for f in field.type]
            arrays.append(pa.StructArray.from_arrays(children, fields=list(field.type)))
        else:
            arrays.append(random_leaf(field.type, n, stats[field.name], rng))
    return pa.RecordBatch.from_arrays(arrays, schema=ARROW_SCHEMA)


def run_baseline(reference: Path, root: Path) -> float:
    files = sorted(reference.glob(EVENT_GLOB))
    stats = leaf_stats(files[len(files) // 2])
    rows = [(f.relative_to(reference), pq.ParquetFile(f).metadata.num_rows) for f in files]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for relative, n in rows:
        batch = random_batch(n, stats, rng)
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_batches([batch]), target, **EVENT_PARQUET)
    return time.perf_counter() - start


def count_rows(root: Path) -> tuple[int, int]:
    files = sorted(root.glob(EVENT_GLOB))
    return len(files), sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def throughput(args) -> dict:
    settings = Settings(fte=args.fte, seed=0, terms=1, event_days=args.event_days)
    config = JobConfig(load_profile(), settings)
    engine_for(config)  # planning excluded
    scratch = Path(tempfile.mkdtemp(prefix="events-bench-"))
    results = []
    try:
        for attempt in range(args.repeat):
            pipe_root, base_root = scratch / f"p{attempt}", scratch / f"b{attempt}"
            pipeline_seconds = run_pipeline(config, pipe_root)
            files, events = count_rows(pipe_root)
            baseline_seconds = run_baseline(pipe_root, base_root)
            assert count_rows(base_root) == (files, events)
            results.append({"events": events, "files": files, "pipeline_s": pipeline_seconds,
                            "baseline_s": baseline_seconds,
                            "ratio": baseline_seconds / pipeline_seconds})
            shutil.rmtree(pipe_root)
            shutil.rmtree(base_root)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = [[r["events"], r["files"], f"{r['pipeline_s']:.2f}",
             f"{r['events'] / r['pipeline_s']:,.0f}", f"{r['baseline_s']:.2f}",
             f"{r['events'] / r['baseline_s']:,.0f}", f"{r['ratio']:.2f}"] for r in results]
    flush_print(table(["events", "files", "pipeline s", "events/s", "baseline s",
                       "baseline events/s", "ratio"], rows))
    return {"fte": args.fte, "event_days": args.event_days, "runs": results}


def full_term(fte: float) -> dict:
    out = Path(tempfile.mkdtemp(prefix="events-term-")) / "w"
    cli = Path(sys.executable).with_name("campus-synth")
    start = time.perf_counter()
    subprocess.run([str(cli), "generate", "--fte", str(fte), "--terms", "1", "--out", str(out)],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    tables = json.loads((out / "campus-synth.json").read_text())["tables"]
    shutil.rmtree(out.parent, ignore_errors=True)
    return {"fte": fte, "events": tables.get("event_store.expanded", 0),
            "context_rows": sum(v for k, v in tables.items() if k != "event_store.expanded"),
            "wall_s": seconds, "peak_mb_so_far": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fte", type=float, default=5000)
    parser.add_argument("--event-days", type=int, default=None, dest="event_days",
                        help="days of the term (default: the whole term)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--full-term", type=float, nargs="*", dest="full_term",
                        help="FTEs of full-term runs, smallest first (peak memory is the "
                             "largest so far, so run the small one first)")
    args = parser.parse_args()
    flush_print(machine())
    figures = {"machine": machine()}
    if args.full_term:
        runs = [full_term(fte) for fte in sorted(args.full_term)]
        flush_print(table(["FTE", "events", "context rows", "wall s", "peak MB"],
                          [[f"{r['fte']:,.0f}", f"{r['events']:,}", f"{r['context_rows']:,}",
                            f"{r['wall_s']:.1f}", f"{r['peak_mb_so_far']:.0f}"] for r in runs]))
        figures["full_term"] = runs
    else:
        figures["throughput"] = throughput(args)
    write_results("events", figures)


if __name__ == "__main__":
    main()
