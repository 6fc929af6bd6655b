"""A column linked to a partner column of its table by rank (the profile's `tables.<t>.links`,
distributions/_points_by_due.py): an assignment's points follow when in its term it falls.

Drawn apart, points and due date correlated by chance alone: over a source's ~70 assignments
a Spearman of ±0.11 (sd), and the evaluation reads it through every result row, the score
being ratio × points. On the hand-built `events` source (2,000 students) the source's points
rose with the due fraction (Spearman 0.15) and a generated run's fell in its second term, so
score × response date came out −0.07 against the source's +0.10 (spearman_diff 0.17).

Here the column is drawn on a Gaussian copula of the partner's normal scores within its group
(a term), whose noise is first made orthogonal to them, each group ranked into its own strata
(a term's points keep the marginal, as its due fractions do: _rules/due_positions.py); the
copula's ρ is solved term by term on the drawn values themselves, so each term's Spearman
between column and partner is the profile's to the step the ties in the drawn values allow
(3 point values over 34 assignments: within ~0.03), not ± chance.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

from pipeline.generate._column_values import numeric
from pipeline.generate._spec_values import ordered

PARTNERS: dict[tuple, Callable] = {}  # (table key, column) -> its rows' (position, group)
_STEPS = 30  # bisection steps on ρ: the drawn Spearman moves in steps of ~1/rows anyway
_RHO_MAX = 0.999


def partner(key: str, column: str):
    """Register what a column others are linked to offers them: each row's position (a due
    date's fraction of its term; NaN: none) and the group it is ranked within (its term)."""
    def register(function: Callable) -> Callable:
        PARTNERS[(key, column)] = function
        return function
    return register


def linked_column(engine, key: str, name: str, spec: dict, link: dict) -> np.ndarray:
    """The uniforms of every row of a linked column (`engine` an Engine), solved once for
    the whole table: its Spearman with the partner is a figure of each term's rows."""
    slot = ("link", key, name)
    if slot not in engine.facts:
        with engine.scratch():
            everyone = np.arange(engine.n_rows(key), dtype=np.int64)
            x, group = PARTNERS[(key, link["with"])](engine, everyone)
            engine.facts[slot] = linked_uniforms(
                x, group, engine.normal(key, name, everyone, 1),
                lambda u, at: numeric(engine.draw(spec, key, at, u)),  # at: rows, as everyone
                float(link["spearman"]))
    return engine.facts[slot]


def ascending(spec: dict) -> dict:
    """The spec with its categories in ascending order, so that higher uniforms draw more
    (the profile lists them commonest first): what a rank copula needs."""
    values = set()
    for part in [spec, *(c["distribution"] for c in spec.get("cells", ()))]:
        part = part.get("otherwise", part)
        values.update(v["value"] for v in part.get("values", ()))
    return ordered(spec, sorted(values, key=lambda v: (isinstance(v, str), str(v) if
                                                       isinstance(v, str) else v)))


def linked_uniforms(x: np.ndarray, group: np.ndarray, noise: np.ndarray,
                    draw: Callable[[np.ndarray, np.ndarray], np.ndarray],
                    target: float) -> np.ndarray:
    """Uniforms, stratified within each `group`, whose values `draw(u, at)` (of the rows
    `at`) have Spearman `target` with `x` in each group, over its rows where x is known
    (NaN: no partner value; those rows draw on `noise` alone, one standard normal a row)."""
    out = np.empty(len(x))
    for value in np.unique(group):
        at = np.flatnonzero(group == value)
        out[at] = _group_uniforms(x[at], noise[at], lambda u, at=at: draw(u, at), target)
    return out


def _group_uniforms(x: np.ndarray, noise: np.ndarray, draw, target: float) -> np.ndarray:
    """`linked_uniforms` for the rows of one group."""
    known = ~np.isnan(x)
    if known.sum() < 3:
        return strata(noise)
    a = special.ndtri(strata(x[known]))
    e = noise[known] - a * (a @ noise[known]) / (a @ a)  # exactly uncorrelated with a
    e /= max(float(e.std()), 1e-12)

    def uniforms(rho: float) -> np.ndarray:
        score = noise.copy()
        score[known] = rho * a + np.sqrt(1 - rho * rho) * e
        return strata(score)

    def miss(rho: float) -> float:
        drawn = np.asarray(draw(uniforms(rho)), dtype=float)[known]
        return spearman(drawn, x[known]) - target

    return uniforms(_solve(miss))


def _solve(miss: Callable[[float], float]) -> float:
    """The ρ whose miss is nearest zero of those bisection meets on [−ρmax, ρmax] (the drawn
    Spearman rises with ρ, in steps)."""
    lo, hi = -_RHO_MAX, _RHO_MAX
    best, best_miss = 0.0, math.inf
    for _ in range(_STEPS):  # the first ρ tried is 0
        mid = (lo + hi) / 2
        found = miss(mid)
        if abs(found) < best_miss:
            best, best_miss = mid, abs(found)
        if found == 0:
            break
        lo, hi = (mid, hi) if found < 0 else (lo, mid)
    return best


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's ρ (ties at their average rank); 0 for a constant column. By hand, as
    scipy.stats would cost `generate` its import (tests/test_layout.py)."""
    ra, rb = _average_ranks(a), _average_ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    scale = float(np.sqrt((ra @ ra) * (rb @ rb)))
    return float(ra @ rb) / scale if scale > 0 else 0.0


def _average_ranks(values: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts
    return (first + (counts - 1) / 2.0)[inverse]


def strata(values: np.ndarray) -> np.ndarray:
    """Each value's stratum midpoint (rank + ½) / n (ties: in row order)."""
    out = np.empty(len(values))
    out[np.argsort(values, kind="stable")] = (np.arange(len(values)) + 0.5) / len(values)
    return out
