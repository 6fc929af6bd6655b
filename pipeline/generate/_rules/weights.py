"""A course's group weights: drawn from the profile, dealt so each course's add up to its total.

The profile's weights may be conditional on the group's kind (every exam of a converted dataset
weighs 100, every CMA 0: distributions/_institutional_extras.py); a kind whose cell holds one
value keeps it, and the rest of the course's weights make up its total.
"""

from __future__ import annotations

import numpy as np

from pipeline.generate import _random
from pipeline.generate._column_values import numeric
from pipeline.generate._engine import Engine, rule
from pipeline.generate._spec_values import equals
from pipeline.udp._schema import Table


@rule("group_weight")
def group_weight(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """Profile weights that add up to each course's total (the profile's learned totals: a
    source whose weights add up to 200; else 100), dealt over the whole table once (see
    `_dealt_weights`)."""
    slot = ("dealt_weights", table.key, column)
    if slot not in engine.facts:
        with engine.scratch():
            engine.facts[slot] = _dealt_weights(engine, table, column)
    return engine.facts[slot][rows]


PROJECTIONS = 8  # rounds of rescale-then-remap: the KS stops improving after about five


def _dealt_weights(engine: Engine, table: Table, column: str) -> np.ndarray:
    """The table's weights drawn stratified from the profile, then by alternating
    projections: rescale each course's weights to its total, give the rescaled weights the
    drawn values rank for rank (the marginal back), repeat; the last rescale keeps every
    total. Rescaled once, independent draws lose the marginal (a course of two groups drew
    15 and 30 and wrote 33 and 67): group_weight's KS against a source of 66 groups went
    from 0.09-0.12 to about 0.045 in trials on its own weights. Rows of a one-value cell
    (`_fixed_rows`: an exam's 100) stay as drawn; the others make up the rest."""
    layout = engine.layouts[table.key]
    everyone = np.arange(layout.n_rows, dtype=np.int64)
    parent = layout.parent_rows(everyone)
    courses = np.arange(len(layout.counts), dtype=np.int64)
    total = _weight_totals(engine, table, column, courses)[parent]
    value = np.nan_to_num(numeric(engine.sample(table.key, column, everyone)))
    fixed = _fixed_rows(engine, table, column, everyone)
    free = np.flatnonzero(~fixed)
    drawn = np.sort(value[free])
    tie = _random.bits(_random.stream_key(engine.seed, table.key, column, "tie"), everyone)
    for _ in range(PROJECTIONS):
        rescaled = _rescaled(value, parent, total, len(courses), fixed)
        value[free[np.lexsort((tie[free], rescaled[free]))]] = drawn
    return np.round(_rescaled(value, parent, total, len(courses), fixed), 2)


def _fixed_rows(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """Rows whose cell of a conditional weight holds one value (every exam weighs 100)."""
    spec = engine.distribution(table.key, column)
    fixed = np.zeros(len(rows), dtype=bool)
    if spec["kind"] != "conditional" or len(spec["given"]) != 1:
        return fixed
    name = spec["given"][0]
    given = engine.given(table.key, name, rows)
    for cell in spec["cells"]:
        shape = cell["distribution"]
        if shape.get("kind") == "continuous" and shape.get("min") == shape.get("max") \
                and not shape.get("null_fraction"):
            fixed |= equals(given, cell["when"][name])
    return fixed


def _rescaled(value: np.ndarray, parent: np.ndarray, total: np.ndarray, courses: int,
              fixed: np.ndarray) -> np.ndarray:
    """Each course's values scaled to add up to its total (equal shares where all are 0):
    the free rows alone to what the fixed ones leave, where they leave them anything."""
    free_value = np.where(fixed, 0.0, value)
    sums = np.bincount(parent, weights=free_value, minlength=courses)[parent]
    room = total - np.bincount(parent, weights=value - free_value, minlength=courses)[parent]
    alone = fixed.any() & (room > 0) & (sums > 0)
    scaled = np.where(fixed, value, room * (value / np.where(sums > 0, sums, 1)))
    return np.where(alone, scaled, _scaled_all(value, parent, total, courses))


def _scaled_all(value: np.ndarray, parent: np.ndarray, total: np.ndarray,
                courses: int) -> np.ndarray:
    sums = np.bincount(parent, weights=value, minlength=courses)[parent]
    count = np.bincount(parent, minlength=courses)[parent]
    return total * np.where(sums > 0, value / np.where(sums > 0, sums, 1), 1 / count)


def _weight_totals(engine: Engine, table: Table, column: str, parents: np.ndarray):
    """What the weights of each parent's children add up to."""
    spec = engine.profile["tables"].get(table.name, {}).get("totals", {}).get(column)
    if spec is None:
        return np.full(len(parents), 100.0)
    parent = table.layout.parent
    u = engine.stratified(parent, f"{table.name}.{column}.total", parents,
                          engine.n_rows(parent))
    return np.asarray(engine.draw(spec, parent, parents, u), dtype=float)
