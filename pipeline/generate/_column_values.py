"""Column values inside the engine, and their conversion to Arrow.

Categorical columns travel as `Labels` (integer codes into a small category list) so that
conditioning and grouping work on integers; they become Arrow strings only when a block is
assembled. Everything else is a numpy array or, for nullable values, an Arrow array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ARROW_TYPES: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


@dataclass(frozen=True)
class Labels:
    """Categorical values: `codes[i]` indexes `categories`; -1 is null."""

    codes: np.ndarray
    categories: tuple

    def code_of(self, value: object) -> int:
        """The code of `value`, or -2 when it is not a category (matches no row)."""
        try:
            return self.categories.index(value)
        except ValueError:
            return -2

    def isin(self, values: object) -> np.ndarray:
        """Boolean mask of rows whose value is one of `values`."""
        wanted = [self.code_of(v) for v in values]
        return np.isin(self.codes, wanted)

    def decode(self) -> np.ndarray:
        """Plain numpy values (object dtype), for rules that need the values themselves."""
        table = np.array(list(self.categories) + [None], dtype=object)
        return table[self.codes]


Values = np.ndarray | Labels | pa.Array


def numeric(values: Values) -> np.ndarray:
    """Values as float64 (categories decoded, nulls as NaN), for arithmetic in rules."""
    if isinstance(values, Labels):
        table = np.array([np.nan if c is None else float(c) for c in values.categories] + [np.nan])
        return table[values.codes]
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.asarray(values, dtype=np.float64)


def to_arrow(values: Values, type_name: str) -> pa.Array:
    """Convert engine values to an Arrow array of the registry type `type_name`."""
    arrow_type = ARROW_TYPES[type_name]
    if isinstance(values, Labels):
        return _labels_to_arrow(values, arrow_type)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values if values.type == arrow_type else pc.cast(values, arrow_type)
    array = np.asarray(values)
    if array.dtype.kind == "f" and (pa.types.is_date(arrow_type)
                                    or pa.types.is_timestamp(arrow_type)):
        array = _epoch_days(array, pa.types.is_date(arrow_type))
    if array.dtype.kind == "f" and arrow_type != pa.float64():
        mask = np.isnan(array)
        return pa.array(np.where(mask, 0, array).astype(np.int64), mask=mask).cast(arrow_type)
    if array.dtype.kind == "f":
        return pa.array(array, mask=np.isnan(array), type=arrow_type)
    if array.dtype.kind == "M":
        return _datetimes_to_arrow(array, arrow_type)
    return pa.array(array, type=arrow_type)


def _epoch_days(days: np.ndarray, date: bool) -> np.ndarray:
    """Days since 1970-01-01 (a profiled date or timestamp; NaN is null) as datetime64."""
    if date:
        whole = np.where(np.isnan(days), 0, np.round(days)).astype(np.int64)
        return np.where(np.isnan(days), np.datetime64("NaT"), whole.astype("datetime64[D]"))
    micros = np.where(np.isnan(days), 0, np.round(days * 86_400e6)).astype(np.int64)
    return np.where(np.isnan(days), np.datetime64("NaT"), micros.astype("datetime64[us]"))


def _labels_to_arrow(labels: Labels, arrow_type: pa.DataType) -> pa.Array:
    categories = list(labels.categories)
    codes = labels.codes.astype(np.int32, copy=False)
    if arrow_type == pa.string():
        # categorical text stays dictionary-encoded: Parquet stores it as its dictionary
        # and indices, with no per-row string to build or hash
        if None in categories:  # a null category becomes a null index (Parquet needs that)
            kept = [i for i, c in enumerate(categories) if c is not None]
            remap = np.full(len(categories) + 1, -1, dtype=np.int32)
            remap[kept] = np.arange(len(kept), dtype=np.int32)
            codes, categories = remap[codes], [categories[i] for i in kept]
        codes, names = _unique_names(codes, [str(c) for c in categories])
        dictionary = pa.array(names, pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), dictionary)
    elif arrow_type == pa.bool_():
        dictionary = pa.array([_as_bool(c) for c in categories], pa.bool_())
    else:
        dictionary = pa.array(categories).cast(arrow_type)
    indices = pa.array(codes, mask=codes < 0)
    return pc.take(dictionary, indices)


def _unique_names(codes: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes into a dictionary without repeated names: a Parquet dictionary page written from
    a dictionary that repeats a value was seen to differ in one byte between two identical runs."""
    first: dict[str, int] = {}
    positions = [first.setdefault(name, len(first)) for name in names]
    if len(first) == len(names):
        return codes, names
    remap = np.array([*positions, -1], dtype=np.int32)  # a null code (-1) stays null
    return remap[codes], list(first)


def _as_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def _datetimes_to_arrow(array: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    mask = np.isnat(array)
    if pa.types.is_date(arrow_type):
        return pa.array(array.astype("datetime64[D]"), mask=mask, type=pa.date32())
    micros = array.astype("datetime64[us]")
    return pa.array(micros, mask=mask, type=pa.timestamp("us")).cast(arrow_type)
