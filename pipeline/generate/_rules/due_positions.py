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
from pipeline.generate._samplers import balanced_ranks, compile_distribution
from pipeline.udp._schema import Table

# how far a course's ranks of one kind share their strata (a Gaussian copula on a score per
# course and kind): near 1 a course's list falls due in order but the course is early or late
# as a whole (its last work earlier on average: on the planted withdrawal source the
# withdrawn's last submission went from KS 0.30 to 0.35-0.44 against the source's at 0.3-1);
# drawn per row with other seeds, 6 of 29 runs of the converted source fell out of order
SERIES_RHO = 0.2


def ranked_due_fractions(engine: Engine, table: Table, rows: np.ndarray, spec: dict,
                         plain) -> np.ndarray:
    """Due fractions of `rows` (NaN: undated); `plain(rows)` draws kinds without a cell."""
    if not len(rows):  # a block of results whose courses have no assignment
        return np.zeros(0)
    slot = ("due_positions", table.key)
    if slot not in engine.facts:  # the whole table at once: a few thousand rows at most
        with engine.scratch():
            everyone = np.arange(engine.n_rows(table.key), dtype=np.int64)
            engine.facts[slot] = _table_fractions(engine, table, spec, everyone, plain)
    return engine.facts[slot][rows]


def _table_fractions(engine: Engine, table: Table, spec: dict, everyone: np.ndarray,
                     plain) -> np.ndarray:
    """Every activity's due fraction: drawn from its (kind, rank) cell's distribution, then
    mapped rank for rank onto the table's overall due-fraction distribution, so the column
    keeps the profile's marginal (within ~1/rows) whatever the mix of kinds and ranks the
    generated courses happen to have, and each course keeps its order of work."""
    cell, u, term = _dealt(engine, table, spec, everyone)
    fraction = np.full(len(everyone), np.nan)
    dists = [dist for c in spec["cells"] for dist in c["positions"]]
    for index, dist in enumerate(dists):
        at = cell == index
        if at.any():
            fraction[at] = numeric(compile_distribution(dist).sample(u[at]))
    if (cell < 0).any():
        fraction[cell < 0] = numeric(plain(everyone[cell < 0]))
    return _onto_marginal(engine, table, fraction, term)


def _onto_marginal(engine: Engine, table: Table, fraction: np.ndarray,
                   term: np.ndarray) -> np.ndarray:
    """Each term's dated fractions replaced by its distribution's stratum midpoints in the
    order of their ranks (ties in list order): the term's own where the calendar lists one
    (a source's terms fall due apart: distributions/_term_work.py), else the overall
    distribution, so every term spreads its work over the term as the source's do and the
    absolute due dates keep their distribution too."""
    overall = engine.distribution(table.key, "due_date")
    overall = overall.get("otherwise", overall)
    dated = np.flatnonzero(~np.isnan(fraction))
    if overall.get("kind") != "continuous" or len(dated) < 2:
        return fraction
    # ties in list order (row order): a course's work drawn at one fraction stays in order
    order = dated[np.lexsort((dated, fraction[dated], term[dated]))]
    owner = term[order]
    start = np.searchsorted(owner, owner, side="left")
    size = np.searchsorted(owner, owner, side="right") - start
    midpoints = (np.arange(len(order)) - start + 0.5) / size
    own = [entry.get("due_date") for entry in engine.facts["calendar"]]
    pooled = np.array([spec is None for spec in own])[owner]
    sampler = compile_distribution({**overall, "null_fraction": 0.0})
    fraction[order[pooled]] = numeric(sampler.sample(midpoints[pooled]))
    for index in np.unique(owner[~pooled]):
        at = owner == index
        mine = compile_distribution({**own[index], "null_fraction": 0.0})
        fraction[order[at]] = numeric(mine.sample(midpoints[at]))
    return fraction


def _dealt(engine: Engine, table: Table, spec: dict, everyone: np.ndarray):
    """Each activity's (kind, rank) cell, its uniform (strata of its cell dealt over the
    terms, in the order of a score shared SERIES_RHO by its course's ranks of its kind)
    and its term row."""
    offering = _offerings(engine, table, everyone)
    kind = _kinds(engine, table, everyone, spec["given"])
    codes = np.unique(kind, return_inverse=True)[1] if len(kind) else np.zeros(0, np.int64)
    listed = np.lexsort((everyone, codes, offering))
    rank = _ranks(offering[listed], codes[listed])[np.argsort(listed)]
    cell, base = np.full(len(everyone), -1, dtype=np.int64), 0
    for entry in spec["cells"]:
        mine = kind == entry["when"]
        cell[mine] = base + np.minimum(rank[mine], len(entry["positions"]) - 1)
        base += len(entry["positions"])
    term = engine.layouts["course_offering"].parent_rows(offering)
    series = offering * (int(codes.max(initial=0)) + 1) + codes
    score = SERIES_RHO * engine.normal(table.key, "due_series", series) + \
        np.sqrt(1 - SERIES_RHO ** 2) * engine.normal(table.key, "due_position", everyone)
    strata = balanced_ranks(term, np.argsort(np.argsort(score)).astype(np.uint64),
                            np.maximum(cell, 0))
    size = np.bincount(np.maximum(cell, 0))[np.maximum(cell, 0)]
    return cell, (strata + engine.uniform(table.key, "due_position", everyone)) / size, term


def _offerings(engine: Engine, table: Table, rows: np.ndarray) -> np.ndarray:
    """The course offering row of each activity row."""
    activities, groups = engine.layouts[table.key], engine.layouts[table.layout.parent]
    return groups.parent_rows(activities.parent_rows(rows))


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
