"""Canonical dictionaries for each day's slice of a week's event batch.

A day's file must hold only the dictionary values its rows use, each once and in sorted order
(a canonical dictionary: the same rows give the same Parquet bytes, whatever week batch they
were cut from). Sorting and de-duplicating a dictionary is the costly part, and every slice of
a batch shares the batch's dictionaries, so `DaySlicer` does it once per batch column — each
dictionary position's rank among the sorted distinct values — and a slice then only marks the
ranks its rows use and renumbers them (numpy over the slice's indices).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class DaySlicer:
    """Compacted slices of one record batch (`slice(start, stop)`), the per-column work done
    once for the whole batch."""

    def __init__(self, batch: pa.RecordBatch):
        self.schema = batch.schema
        self.columns = [_column(array) for array in batch.columns]

    def slice(self, start: int, stop: int) -> pa.RecordBatch:
        """Rows [start, stop) with dictionaries holding only their own values, sorted."""
        arrays = [column.slice(start, stop) for column in self.columns]
        return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(
            [pa.field(f.name, a.type, f.nullable)
             for f, a in zip(self.schema, arrays, strict=True)]))


def _column(array: pa.Array):
    if pa.types.is_struct(array.type):
        return _Struct(array)
    if not pa.types.is_dictionary(array.type) or not len(array.dictionary):
        return _Plain(array)  # an empty dictionary (all rows null, as in a tiny run) is canonical
    return _Dictionary(array)


class _Plain:
    def __init__(self, array: pa.Array):
        self.array = array

    def slice(self, start: int, stop: int) -> pa.Array:
        return self.array.slice(start, stop - start)


class _Struct:
    """A struct's children compacted on their own; its nulls are the slice's own."""

    def __init__(self, array: pa.StructArray):
        self.type = array.type
        self.children = [_column(child) for child in array.flatten()]
        self.nulls = np.asarray(array.is_null()) if array.null_count else None

    def slice(self, start: int, stop: int) -> pa.Array:
        children = [child.slice(start, stop) for child in self.children]
        fields = [pa.field(f.name, c.type) for f, c in zip(self.type, children, strict=True)]
        nulls = None if self.nulls is None else self.nulls[start:stop]
        mask = pa.array(nulls) if nulls is not None and nulls.any() else None
        return pa.StructArray.from_arrays(children, fields=fields, mask=mask)


class _Dictionary:
    """A dictionary column: its indices as numpy, each position's rank among the sorted
    distinct values of the dictionary (positions holding equal values share a rank)."""

    def __init__(self, array: pa.DictionaryArray):
        self.indices = array.indices.fill_null(0).to_numpy()
        self.valid = ~np.asarray(array.is_null()) if array.null_count else None
        self.values = pc.unique(array.dictionary).sort()
        self.rank = pc.index_in(array.dictionary, value_set=self.values).to_numpy(
            zero_copy_only=False)

    def slice(self, start: int, stop: int) -> pa.Array:
        indices = self.indices[start:stop]
        valid = None if self.valid is None else self.valid[start:stop]
        if valid is not None and valid.all():
            valid = None  # the slice has no nulls: written as the whole batch's rows would be
        used = np.zeros(len(self.rank), dtype=bool)  # dictionary positions the rows use
        used[indices if valid is None else indices[valid]] = True
        ranks = np.zeros(len(self.values), dtype=bool)
        ranks[self.rank[used]] = True
        renumber = np.cumsum(ranks, dtype=np.int32) - 1  # rank -> index in the slice's values
        remap = np.where(used, renumber[self.rank], 0).astype(np.int32)
        new = remap[indices if valid is None else np.where(valid, indices, 0)]
        return pa.DictionaryArray.from_arrays(
            pa.array(new, mask=None if valid is None else ~valid),
            self.values.filter(pa.array(ranks)))
