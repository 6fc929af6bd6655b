"""Helpers over a profile's distribution specs and the values drawn from them, for the
engine's conditional draws: a categorical's values reordered, a conditional's innermost
`otherwise`, the rows matching a cell's `when` value, per-cell draws stitched back into row
order."""

from __future__ import annotations

import numpy as np

from pipeline.generate._column_values import Labels, Values


def ordered(spec: dict, order: list) -> dict:
    """A categorical with its values in `order` (others after them), so low uniforms draw
    the first; conditionals are reordered cell by cell."""
    if spec["kind"] == "conditional":
        return {**spec, "cells": [{**c, "distribution": ordered(c["distribution"], order)}
                                  for c in spec["cells"]],
                "otherwise": ordered(spec["otherwise"], order)}
    if spec["kind"] != "categorical":
        return spec
    rank = {value: i for i, value in enumerate(order)}
    return {**spec, "values": sorted(spec["values"],
                                     key=lambda item: rank.get(item["value"], len(rank)))}


def leaf(spec: dict) -> dict:
    """The innermost `otherwise` of a (nested) conditional: its categories, for empty draws."""
    return leaf(spec["otherwise"]) if spec["kind"] == "conditional" else spec


def equals(values: Values, wanted: object) -> np.ndarray:
    if isinstance(values, Labels):
        return values.codes == values.code_of(wanted)
    array = np.asarray(values)
    if wanted is None:
        return np.isnan(array) if array.dtype.kind == "f" else np.zeros(len(array), bool)
    return array == type(array.flat[0])(wanted) if len(array) else np.zeros(0, bool)


def combine(parts: list[tuple[np.ndarray, Values]], n: int) -> Values:
    """Stitch per-cell samples back into row order."""
    if all(isinstance(values, Labels) for _, values in parts):
        categories: list = []
        for _, values in parts:
            categories += [c for c in values.categories if c not in categories]
        codes = np.full(n, -1, dtype=np.int32)
        for mask, values in parts:
            remap = np.array([categories.index(c) for c in values.categories] + [-1], np.int32)
            codes[mask] = remap[values.codes]
        return Labels(codes, tuple(categories))
    out = np.full(n, np.nan)
    for mask, values in parts:
        out[mask] = values.decode() if isinstance(values, Labels) else values
    return out
