"""A learned catalog drawn by position: which value each place among a parent's children holds.

A course's subject is keyed by its place among its term's offerings (the same course recurs
in every term). Stratified draws over those places (1/places each) approximate the profile's
shares within one place, which for a small catalog is a course too many or too few: a source
offering 7 modules, 5 in every term and 2 in every other, drew one module twice and another
never. Here every value takes its share of the places by largest remainder, and the most
frequent values the first places, which every parent has: the small terms get the 5 modules
offered every term, the large terms all 7, as in the source.

A learned column given its layout parent's attributes (a group's kind given its course's
module, `by_siblings`) has its cell's strata dealt so that each parent's rows spread over
them (Engine._cell_stratified): a course of five groups in a module whose groups are 80 % TMA
and 20 % exam gets four TMAs and one exam, where strata in a random order gave one course
two exams and the next none.
"""

from __future__ import annotations

import numpy as np

from pipeline.generate._samplers import CategoricalSampler
from pipeline.udp._schema import Table


def positional_uniforms(sampler: CategoricalSampler, places: int,
                        tiebreak: np.ndarray) -> np.ndarray:
    """For each place 0..places-1, the uniform that draws the value apportioned to it (the
    middle of that value's interval of the inverse CDF); `tiebreak`: seeded random keys of
    the values, ordering values of equal share and equal remainder."""
    cumulative = np.asarray(sampler.cumulative, dtype=float)
    share = np.diff(np.concatenate([[0.0], cumulative]))
    exact = share * places
    counts = np.floor(exact).astype(np.int64)
    short = places - int(counts.sum())
    if short > 0:
        counts[np.lexsort((tiebreak, counts - exact))[:short]] += 1
    frequent_first = np.lexsort((tiebreak, -share))
    values = np.repeat(frequent_first, counts[frequent_first])[:places]
    return cumulative[values] - share[values] / 2


def by_siblings(table: Table, spec: dict) -> bool:
    """Whether a conditional is given attributes of its rows' layout parent only: its draws
    are then stratified among each parent's children (Engine._cell_stratified)."""
    parent = table.layout.parent if table.layout.kind == "children" else None
    return parent is not None and all(
        table.parent_of(g.split(".")[0]) == parent for g in spec["given"])
