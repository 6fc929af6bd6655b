"""Random data shaped like a Parquet file's columns, for the bare baselines of
end_to_end.py: per leaf column the distinct share, mean string length and null share of a
sample file, and arrays of the same types drawn from numpy to match them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def _leaves(table: pa.Table) -> pa.Table:
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def column_stats(path: Path) -> dict:
    """Per leaf column of one file: (distinct share, mean string length, null share)."""
    data, stats = _leaves(pq.read_table(path)), {}
    for name, column in zip(data.column_names, data.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        valid = column.drop_null()
        length = (pc.mean(pc.utf8_length(valid.slice(0, 2000))).as_py() or 0
                  if pa.types.is_string(column.type) and len(valid) else 0)
        stats[name] = (len(valid.unique()) / max(len(valid), 1), float(length),
                       column.null_count / max(len(column), 1))
    return stats


def random_array(field: pa.Field, n: int, stats: dict, rng, prefix: str = "") -> pa.Array:
    """Random values of the field's type shaped by its column's stats."""
    name, kind = prefix + field.name, field.type
    if pa.types.is_struct(kind):
        children = [random_array(child, n, stats, rng, name + ".") for child in kind]
        return pa.StructArray.from_arrays(children, fields=list(kind))
    if pa.types.is_dictionary(kind):
        plain = random_array(pa.field(field.name, kind.value_type), n, stats, rng, prefix)
        return plain.dictionary_encode().cast(kind)
    distinct, length, nulls = stats[name]
    mask = pa.array(rng.random(n) < nulls) if nulls else None
    if pa.types.is_string(kind):
        pool_size, width = max(1, int(distinct * n)), max(int(round(length)), 1)
        raw = rng.integers(97, 123, size=(pool_size, width), dtype=np.uint8)
        offsets = pa.array(np.arange(pool_size + 1, dtype=np.int32) * width)
        pool = pa.StringArray.from_buffers(pool_size, offsets.buffers()[1],
                                           pa.py_buffer(raw.tobytes()))
        values = pool.take(pa.array(np.arange(n) if pool_size >= n else
                                    rng.integers(0, pool_size, n)))
    elif pa.types.is_timestamp(kind):
        values = pa.array(rng.integers(1.7e15, 1.8e15, n)).cast(kind)
    elif pa.types.is_date32(kind):
        values = pa.array(rng.integers(20_000, 20_400, n).astype(np.int32)).cast(kind)
    elif pa.types.is_floating(kind):
        values = pa.array(rng.random(n) * 100).cast(kind)
    elif pa.types.is_boolean(kind):
        values = pa.array(rng.random(n) < 0.5)
    else:
        values = pa.array(rng.integers(0, max(int(distinct * n), 1), n) + 10**9).cast(kind)
    return values if mask is None else pc.if_else(mask, pa.scalar(None, kind), values)
