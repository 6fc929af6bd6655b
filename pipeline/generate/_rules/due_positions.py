"""Due fractions by an activity's rank among its course's activities of one kind, from the
profile's `tables.learner_activity.positions` (distributions/_due_positions.py).

Each activity's rank is its place in list order among its offering's activities of the same
kind (the value of the profile's `given`: a group name, say); it draws from its rank's
distribution (the last rank's beyond the learned ones), so a course's first TMA falls due
when the source's first TMAs do, its second after. The draws are not sorted into list order:
where the source's ranks overlap (work due anywhere in its course) a forced order would make
the first of the list, which a withdrawn student keeps, always the earliest, which such a
source contradicts (the hand-built `withdrawal` source's final scores moved out of limits).
Kinds the profile has no cell for keep the plain draw.
"""

from __future__ import annotations

import numpy as np

from pipeline.generate._column_values import Labels, numeric
from pipeline.generate._engine import Engine
from pipeline.generate._samplers import compile_distribution
from pipeline.udp._schema import Table


def ranked_due_fractions(engine: Engine, table: Table, rows: np.ndarray, spec: dict,
                         plain) -> np.ndarray:
    """Due fractions of `rows` (NaN: undated); `plain(rows)` draws kinds without a cell."""
    if not len(rows):  # a block of results whose courses have no assignment
        return np.zeros(0)
    siblings, offering = _siblings(engine, table, rows)
    kind = _kinds(engine, table, siblings, spec["given"])
    codes = np.unique(kind, return_inverse=True)[1]
    listed = np.lexsort((siblings, codes, offering))
    rank = _ranks(offering[listed], codes[listed])[np.argsort(listed)]
    u = engine.stratified(table.key, "due_position", siblings, engine.n_rows(table.key))
    fraction = np.full(len(siblings), np.nan)
    covered = np.zeros(len(siblings), dtype=bool)
    for cell in spec["cells"]:
        mine = kind == cell["when"]
        covered |= mine
        ranks = np.minimum(rank, len(cell["positions"]) - 1)
        for r, dist in enumerate(cell["positions"]):
            at = mine & (ranks == r)
            if at.any():
                fraction[at] = numeric(compile_distribution(dist).sample(u[at]))
    if (~covered).any():
        fraction[~covered] = numeric(plain(siblings[~covered]))
    return fraction[rows - siblings[0]]


def _siblings(engine: Engine, table: Table, rows: np.ndarray):
    """Every activity row of the offerings of `rows` (a contiguous range), with its offering."""
    activities, groups = engine.layouts[table.key], engine.layouts[table.layout.parent]
    offering = groups.parent_rows(activities.parent_rows(rows))
    first = activities.offsets[groups.offsets[offering]]
    stop = activities.offsets[groups.offsets[offering + 1]]
    siblings = np.arange(int(first.min()), int(stop.max()), dtype=np.int64)
    return siblings, groups.parent_rows(activities.parent_rows(siblings))


def _kinds(engine: Engine, table: Table, rows: np.ndarray, given: str | None) -> np.ndarray:
    """Each row's kind as text ('all' without a `given`; '' where it is null)."""
    if not given:
        return np.full(len(rows), "all", dtype=object)
    values = engine.given(table.key, given, rows)
    decoded = values.decode() if isinstance(values, Labels) else np.asarray(values, object)
    return np.array(["" if v is None else str(v) for v in decoded], dtype=object)


def _ranks(offering: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Rank of each row within its run of equal (offering, code), rows already in order."""
    start = np.ones(len(offering), dtype=bool)
    start[1:] = (offering[1:] != offering[:-1]) | (code[1:] != code[:-1])
    first = np.maximum.accumulate(np.where(start, np.arange(len(offering)), 0))
    return np.arange(len(offering)) - first
