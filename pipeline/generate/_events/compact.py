"""Canonical dictionaries for each day's slice of a week's event batch.

A day's file must hold only the dictionary values its rows use, each once and in sorted order
(a canonical dictionary: the same rows give the same Parquet bytes, whatever week batch they
were cut from). Sorting and de-duplicating a dictionary is the costly part, and every slice of
a batch shares the batch's dictionaries, so `DaySlicer` does it once per batch column — each
dictionary position's rank among the sorted distinct values — and then renumbers every day's
rows at once (numpy over the batch's (day, rank) pairs): a day's slice is then views of
arrays computed for the whole batch, however many days (files) the week holds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class DaySlicer:
    """Compacted slices of one record batch cut at `cuts` (slice i holds rows cuts[i] ..
    cuts[i+1]), the per-column work done once for the whole batch."""

    def __init__(self, batch: pa.RecordBatch, cuts: np.ndarray):
        self.schema, self.cuts = batch.schema, np.asarray(cuts, dtype=np.int64)
        day = np.repeat(np.arange(len(self.cuts) - 1), np.diff(self.cuts))
        self.columns = [_column(array, self.cuts, day) for array in batch.columns]

    def slice(self, i: int) -> pa.RecordBatch:
        """Slice i with dictionaries holding only their own values, sorted."""
        arrays = [column.slice(i) for column in self.columns]
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(
            [pa.field(f.name, a.type, f.nullable)
             for f, a in zip(self.schema, arrays, strict=True)]))


def _column(array: pa.Array, cuts: np.ndarray, day: np.ndarray):
    if pa.types.is_struct(array.type):
        return _Struct(array, cuts, day)
    if not pa.types.is_dictionary(array.type) or not len(array.dictionary):
        return _Plain(array, cuts)  # an empty dictionary (all rows null, tiny run): canonical
    return _Dictionary(array, cuts, day)


def _nulls(array: pa.Array, cuts: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """(null mask of the rows, or None without nulls; whether each slice has a null row)."""
    if not array.null_count:
        return None, np.zeros(len(cuts) - 1, dtype=bool)
    nulls = np.asarray(array.is_null())
    per_slice = np.add.reduceat(nulls, cuts[:-1]) if len(nulls) else np.zeros(0, int)
    return nulls, per_slice > 0


class _Plain:
    def __init__(self, array: pa.Array, cuts: np.ndarray):
        self.array, self.cuts = array, cuts

    def slice(self, i: int) -> pa.Array:
        start, stop = int(self.cuts[i]), int(self.cuts[i + 1])
        return self.array.slice(start, stop - start)


class _Struct:
    """A struct's children compacted on their own; its nulls are the slice's own."""

    def __init__(self, array: pa.StructArray, cuts: np.ndarray, day: np.ndarray):
        self.type, self.cuts = array.type, cuts
        self.children = [_column(child, cuts, day) for child in array.flatten()]
        self.nulls, self.has_nulls = _nulls(array, cuts)

    def slice(self, i: int) -> pa.Array:
        children = [child.slice(i) for child in self.children]
        fields = [pa.field(f.name, c.type) for f, c in zip(self.type, children, strict=True)]
        mask = None
        if self.has_nulls[i]:
            mask = pa.array(self.nulls[self.cuts[i]:self.cuts[i + 1]])
        return pa.StructArray.from_arrays(children, fields=fields, mask=mask)


class _Dictionary:
    """A dictionary column renumbered per slice: each slice's rows index the sorted distinct
    values they use (their ranks among the dictionary's sorted distinct values)."""

    def __init__(self, array: pa.DictionaryArray, cuts: np.ndarray, day: np.ndarray):
        self.cuts = cuts
        indices = array.indices.fill_null(0).to_numpy()
        values = pc.unique(array.dictionary).sort()
        rank = pc.index_in(array.dictionary, value_set=values).to_numpy(
            zero_copy_only=False).astype(np.int64)
        self.nulls, self.has_nulls = _nulls(array, cuts)
        # one number per (slice, rank): sorted, a slice's distinct ranks are one run of them
        pair = day * len(values) + rank[indices]
        distinct, position = _distinct(pair, self.nulls, (len(cuts) - 1) * len(values))
        self.first = np.searchsorted(distinct, np.arange(len(cuts)) * len(values))
        self.indices = (position - self.first[day]).astype(np.int32)
        if self.nulls is not None:  # a null row's index (never written): as a slice of the
            # whole dictionary numbers it, 0 unless the slice uses dictionary position 0
            zero_used = np.zeros(len(cuts) - 1, dtype=bool)
            zero_used[day[(indices == 0) & ~self.nulls]] = True
            self.indices[self.nulls & ~zero_used[day]] = 0
        self.values = values.take(pa.array(distinct % len(values)))

    def slice(self, i: int) -> pa.Array:
        start, stop = int(self.cuts[i]), int(self.cuts[i + 1])
        mask = self.nulls[start:stop] if self.has_nulls[i] else None
        first, last = int(self.first[i]), int(self.first[i + 1])
        return pa.DictionaryArray.from_arrays(
            pa.array(self.indices[start:stop], mask=mask),
            self.values.slice(first, last - first))


def _distinct(pair: np.ndarray, nulls: np.ndarray | None, span: int):
    """(sorted distinct pairs of the non-null rows, each row's position among them).

    The pairs are bounded by `span` (slices × dictionary size), usually far fewer than the
    rows: marking the used ones in a table of that size and counting is one pass over the
    rows, where sorting or hashing them (np.unique, then a binary search per row) cost
    ~40 % of an event batch's CPU. A dictionary too large for the table falls back to them."""
    kept = pair if nulls is None else pair[~nulls]
    if span > 4 * len(pair) + 4096:
        distinct = np.unique(kept)
        return distinct, np.searchsorted(distinct, pair)
    used = np.zeros(span, dtype=bool)
    used[kept] = True
    distinct = np.flatnonzero(used)
    return distinct, (np.cumsum(used) - 1)[pair]
