"""The bare baseline of throughput.py: numpy random values shaped like the real tables' columns
(type, per-block cardinality, string length, null fraction measured on a sample block), each
block written with pyarrow to its own Parquet file, in one process or a `multiprocessing.Pool`.
Kept apart from throughput.py, which runs the pipeline side, the engine breakdown and the
report."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import REGISTRY
from pipeline.generate import JobConfig, _beam
from pipeline.generate._engine import arrow_schema
from pipeline.generate._plan import blocks, generated_tables

COMPRESSION = _beam.PARQUET_COMPRESSION
UNIQUE = 0.9  # a column whose sample is ≥ 90 % distinct is generated distinct per block


def column_stats(engine, config: JobConfig) -> dict[str, list[dict]]:
    """Per table and column: type, null fraction, per-block distinct share, range, string
    lengths, measured on the first block of the real table (outside any timing)."""
    stats: dict[str, list[dict]] = {}
    for key in generated_tables(engine):
        cuts = blocks(engine, key, config.settings.block_rows)
        if not cuts:
            continue
        first = cuts[0]
        for table_key, batch in engine.block(first.table, first.start, first.stop,
                                             first.companions).items():
            stats[table_key] = [_stats(REGISTRY[table_key], name, batch.column(name))
                                for name in batch.schema.names]
            SCHEMAS[table_key] = batch.schema  # the job's own encodings (dictionary columns)
    return stats


def _stats(table, name: str, array: pa.Array) -> dict:
    n = len(array)
    valid = array.drop_null()
    kind = array.type
    dictionary = pa.types.is_dictionary(kind)
    if dictionary:
        kind, valid = kind.value_type, valid.dictionary_decode()
    distinct = pc.count_distinct(valid).as_py() if len(valid) else 0
    info = {"name": name, "null_fraction": (n - len(valid)) / n if n else 0.0,
            "dictionary": dictionary,
            "distinct": max(1, distinct),
            "unique": len(valid) > 0 and distinct >= UNIQUE * len(valid),
            "pk": name in table.primary_key and len(table.primary_key) == 1}
    if pa.types.is_string(kind):
        info["kind"] = "string"
        lengths = pc.binary_length(valid).to_numpy() if len(valid) else np.array([8])
        info["lengths"] = np.random.default_rng(0).choice(lengths, min(len(lengths), 2000)
                                                          ).tolist()
    elif pa.types.is_boolean(kind):
        info["kind"] = "bool"
    else:
        if pa.types.is_timestamp(kind):
            info["kind"], numbers = "timestamp", pc.cast(valid, pa.int64())
        elif pa.types.is_date(kind):
            info["kind"], numbers = "date", pc.cast(valid, pa.int32())
        elif pa.types.is_floating(kind):
            info["kind"], numbers = "float", valid
        else:
            info["kind"], numbers = "int", valid
        if len(numbers):
            bounds = pc.min_max(numbers)
            info["min"], info["max"] = bounds["min"].as_py(), bounds["max"].as_py()
        else:
            info["min"], info["max"] = 0, 1
    return info


def random_strings(rng: np.random.Generator, lengths: np.ndarray) -> pa.Array:
    """Random lowercase strings of the given lengths, built straight from buffers."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    data = rng.integers(97, 123, int(offsets[-1]), dtype=np.uint8)
    return pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data))


class Baseline:
    """Fills blocks with numpy random values shaped like the real tables' columns."""

    def __init__(self, stats: dict, pool_cap: int, seed: int = 0):
        self.stats, self.rng = stats, np.random.default_rng(seed)
        self.schemas = {key: SCHEMAS.get(key) or arrow_schema(REGISTRY[key]) for key in stats}
        self.pools = {}
        for key, columns in stats.items():  # string pools, built once
            for col in columns:
                if col["kind"] == "string":
                    size = min(pool_cap, col["distinct"] if not col["unique"] else pool_cap)
                    lengths = self.rng.choice(np.asarray(col["lengths"], dtype=np.int32), size)
                    self.pools[key, col["name"]] = random_strings(self.rng, lengths)

    def batch(self, key: str, index: int, n: int) -> pa.RecordBatch:
        schema = self.schemas[key]
        arrays = [self._column(key, col, schema.field(col["name"]).type, index, n)
                  for col in self.stats[key]]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def _column(self, key, col, arrow_type, index, n) -> pa.Array:
        rng = self.rng
        mask = None
        if col["null_fraction"] > 0:
            mask = rng.random(n) < col["null_fraction"]
        kind = col["kind"]
        if kind == "string":
            pool = self.pools[key, col["name"]]
            if col["unique"]:
                indices = (np.arange(n, dtype=np.int64) + index * n) % len(pool)
            else:
                indices = rng.integers(0, len(pool), n)
            if col.get("dictionary"):
                return pa.DictionaryArray.from_arrays(
                    pa.array(indices.astype(np.int32), mask=mask), pool)
            return pool.take(pa.array(indices, mask=mask))
        if kind == "bool":
            return pa.array(rng.random(n) < 0.5, mask=mask, type=arrow_type)
        lo, hi, distinct = col["min"], col["max"], col["distinct"]
        if col["pk"] and kind == "int":  # surrogate keys are sequential
            return pa.array(np.arange(index * n, index * n + n, dtype=np.int64) + lo,
                            type=arrow_type)
        steps = rng.integers(0, n if col["unique"] else distinct, n)
        if kind == "float":
            values = lo + steps * ((hi - lo) / max(distinct, 1))
            return pa.array(values, mask=mask, type=arrow_type)
        span = max(1, (hi - lo) // max(distinct, 1)) if kind != "int" else 1
        values = lo + steps * span
        if kind == "timestamp":
            return pa.array(values.astype("datetime64[us]"), mask=mask,
                            type=pa.timestamp("us")).cast(arrow_type)
        if kind == "date":
            return pa.array(values.astype("datetime64[D]"), mask=mask, type=pa.date32())
        return pa.array(values, mask=mask, type=arrow_type)


SCHEMAS: dict = {}
WRITER = {"mode": "same"}  # "same": the job's parquet_options; "default": pyarrow's defaults


def writer_options(batch: pa.RecordBatch) -> dict:
    """The baseline writes like the job (same codec, same dictionary columns) unless asked
    for pyarrow's default writer (dictionary pages tried on every column)."""
    if WRITER["mode"] == "same":
        return _beam.parquet_options(batch)
    return {"compression": COMPRESSION}


def baseline_block(baseline: Baseline, root: Path, spec) -> tuple[str, int, float, float]:
    key, index, n = spec
    start = time.perf_counter()
    batch = baseline.batch(key, index, n)
    generated = time.perf_counter()
    table_ = REGISTRY[key]
    folder = root / table_.schema / table_.name
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_batches([batch]), str(folder / f"part-{index:05d}.parquet"),
                   **writer_options(batch))
    return key, n, generated - start, time.perf_counter() - generated


_WORKER: dict = {}


def _init_worker(stats, pool_cap, root):
    _WORKER["baseline"] = Baseline(stats, pool_cap, seed=os.getpid())
    _WORKER["root"] = root


def _worker_block(spec):
    return baseline_block(_WORKER["baseline"], _WORKER["root"], spec)


def run_baseline(stats, specs, root: Path, workers: int, pool_cap: int):
    """Seconds for the whole baseline, and per-table (gen s, write s) sums."""
    per_table = defaultdict(lambda: [0.0, 0.0])
    start = time.perf_counter()
    if workers > 1:
        # biggest blocks first, so the two processes finish together
        ordered = sorted(specs, key=lambda s: -s[2])
        with multiprocessing.Pool(workers, _init_worker, (stats, pool_cap, root)) as pool:
            results = list(pool.imap_unordered(_worker_block, ordered, chunksize=1))
    else:
        baseline = Baseline(stats, pool_cap)
        results = [baseline_block(baseline, root, spec) for spec in specs]
    seconds = time.perf_counter() - start
    for key, _, gen, write in results:
        per_table[key][0] += gen
        per_table[key][1] += write
    return seconds, dict(per_table)
