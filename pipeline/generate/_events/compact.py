"""Canonical dictionaries for a week's event batch before it is written.

A file must hold only the dictionary values its rows use, each once and in sorted order (a
canonical dictionary: the same rows give the same Parquet bytes, whatever dictionary the batch
was built with; the builders' dictionaries hold every value the block could use). Each
dictionary column is renumbered in numpy over the rows at once: a mark per dictionary position
that a row uses, then only the marked values de-duplicated and sorted, and each position's
rank among them (no sort of the rows, nor of the unused part of the dictionary).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def compact(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`batch` with every dictionary (inside records too) holding only its rows' values,
    sorted. Each column's input is let go once its canonical copy is made: when the caller
    passes its only reference, the two copies of the batch never live at once."""
    schema, columns = batch.schema, batch.columns
    del batch
    arrays = []
    for i, array in enumerate(columns):
        columns[i] = None
        arrays.append(_compact(array))
        del array  # before the next column is compacted
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(
        [pa.field(f.name, a.type, f.nullable) for f, a in zip(schema, arrays, strict=True)]))


def _compact(array: pa.Array) -> pa.Array:
    if pa.types.is_struct(array.type):  # children compacted on their own; its nulls its own
        children = [_compact(child) for child in array.flatten()]
        fields = [pa.field(f.name, c.type) for f, c in zip(array.type, children, strict=True)]
        mask = array.is_null() if array.null_count else None
        return pa.StructArray.from_arrays(children, fields=fields, mask=mask)
    if not pa.types.is_dictionary(array.type) or not len(array.dictionary):
        return array  # an empty dictionary (all rows null, tiny run): canonical already
    positions = array.indices.fill_null(0).to_numpy()
    nulls = np.asarray(array.is_null()) if array.null_count else None
    used = np.zeros(len(array.dictionary), dtype=bool)
    used[positions if nulls is None else positions[~nulls]] = True
    # only the values rows use are sorted: a block's dictionary can be far larger than a week
    kept = np.flatnonzero(used)
    # a week's own dictionaries (objects, members) are used whole: no copy of them then
    values = array.dictionary if len(kept) == len(used) else array.dictionary.take(pa.array(kept))
    distinct, ranks = _sorted_distinct(values)
    # a null row's index is never written; 0 keeps it in range
    rank = np.zeros(len(array.dictionary), dtype=np.int32)
    rank[kept] = ranks
    return pa.DictionaryArray.from_arrays(pa.array(rank[positions], mask=nulls), distinct)


def _sorted_distinct(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(the distinct `values` sorted, each value's index among them). Strings by one sort
    and a comparison of neighbours: no hash table, which for a week's object ids and request
    URLs was the event block's largest Arrow allocation (it grows with the objects a week
    names); the same values and order as unique-then-sort."""
    if values.null_count or len(values) < 2 or not pa.types.is_string(values.type):
        distinct = pc.unique(values).sort()
        return distinct, pc.index_in(values, value_set=distinct).to_numpy(zero_copy_only=False)
    order = pc.array_sort_indices(values)
    ordered = values.take(order)
    first = np.ones(len(values), dtype=bool)
    first[1:] = pc.not_equal(ordered.slice(1), ordered.slice(0, len(values) - 1)).to_numpy(
        zero_copy_only=False)
    ranks = np.empty(len(values), dtype=np.int32)
    ranks[order.to_numpy()] = np.cumsum(first, dtype=np.int32) - 1
    return (ordered if first.all() else ordered.filter(pa.array(first))), ranks
