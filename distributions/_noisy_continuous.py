"""Continuous cells under ε: a person-weighted histogram over a public grid, noised as one
count query, read back as quantiles.

Without ε a continuous cell is a summary with k-coded extremes. Under `--epsilon` the cells
that refine a column (a due date's kind of work, a numeric extra's registry column) and the
responses of undated work are released instead as a histogram: the values fall into the bins
of a grid that is public before this query runs (the fraction of a term's 0..1 in 40 bins, or
the column's own published overall quantiles), nulls in a bin of their own; each person's rows
weigh 1 in total across the whole query (sensitivity 1 person, whatever the cells); the bins are
one query of the budget (`Guard.noise`: OpenDP's Laplace scale, the seeded sampler). Quantiles,
range, mean and null share are post-processing of the noised bins, so they cost nothing more.
"""

from __future__ import annotations

import numpy as np

from distributions._estimators import QUANTILES, Cell, Summary, value_cells

FRACTION_GRID = tuple(i / 40 for i in range(41))  # a fraction of the term: public bounds
NULL_BIN = -1


def grid_of(spec: dict) -> tuple[float, ...]:
    """Bin edges from a distribution already published: its min, stored quantiles and max."""
    if spec.get("kind") != "continuous" or spec.get("family") == "constant":
        return ()
    values = [spec.get("min"), *spec.get("quantiles", {}).values(), spec.get("max")]
    return tuple(sorted({float(v) for v in values if v is not None}))


def binned_sql(edges: tuple[float, ...], x: str = "x") -> str:
    """SQL: the bin of `x` over `edges` (0 .. len-2; outside values in the end bins), or
    NULL_BIN for a null."""
    inner = " + ".join(f"CASE WHEN {x} >= {e!r} THEN 1 ELSE 0 END" for e in edges[1:-1])
    return f"CASE WHEN {x} IS NULL THEN {NULL_BIN} ELSE {inner or '0'} END"


def binned_cells(p, base: str, edges: tuple[float, ...], groups: int) -> dict[tuple, dict]:
    """{group: {bin: Cell}} of a base query selecting `g0.., x, pid` (Cells count people)."""
    g = "".join(f"g{i}, " for i in range(groups))
    return value_cells(p.reader, f"SELECT {g}{binned_sql(edges)} AS v, pid FROM ({base}) AS b",
                       groups)


def noised_cells(p, path: str, cells: dict[tuple, dict], edges: tuple[float, ...],
                 template: dict, overall: dict | None = None) -> dict[tuple, dict | None]:
    """Each group's distribution from the bins noised as one query at `path` (in the planning
    pass, from the exact bins, to be thrown away); None where too little survives. With
    `overall` (a published distribution with a null share), a group of nulls with too few
    values to shape is `overall` with that group's null share."""
    flat = {(*group, b): c for group, per in cells.items() for b, c in per.items()}
    noised = p.guard.noise(path, flat)
    weights: dict[tuple, dict] = {}
    for key, count in noised.items():
        weight = count.rows if isinstance(count, Cell) else float(count)
        weights.setdefault(key[:-1], {})[key[-1]] = weight
    return {group: _distribution(p, f"{path}[{','.join(map(str, group))}]", per, edges,
                                 template, overall) for group, per in sorted(
                                     weights.items(), key=lambda item: str(item[0]))}


def _distribution(p, path: str, weights: dict, edges: tuple[float, ...],
                  template: dict, overall: dict | None) -> dict | None:
    bins = np.array([max(weights.get(b, 0.0), 0.0) for b in range(len(edges) - 1)])
    nulls = max(weights.get(NULL_BIN, 0.0), 0.0)
    n = float(bins.sum())
    if n < 2 * p.guard.k <= n + nulls and overall is not None and "null_fraction" in overall:
        # mostly nulls (no unregistration day for those who stayed): the share is the cell
        return {**overall, "null_fraction": round(nulls / (n + nulls), 6)}
    if n < 2 * p.guard.k:  # the noised count of values, as the k rule counts a summary's
        p.guard.record(path, "suppressed", f"fewer than 2k={2 * p.guard.k} noised values",
                       n + nulls)
        return None
    summary = histogram_summary(np.asarray(edges, float), bins, nulls,
                                bool(template.get("integer", False)))
    return p.guard.continuous(path, summary, template, people=False)


def histogram_summary(edges: np.ndarray, bins: np.ndarray, nulls: float,
                      integer: bool) -> Summary:
    """A Summary of values spread evenly within each bin: its quantiles by linear
    interpolation of the binned CDF, its range the outermost bins with mass."""
    n = float(bins.sum())
    filled = np.flatnonzero(bins > 0)
    lo, hi = float(edges[filled[0]]), float(edges[filled[-1] + 1])
    if integer:  # bins between whole numbers: the range still holds one
        lo, hi = float(np.floor(lo)), float(np.ceil(hi))
    cdf = np.concatenate([[0.0], np.cumsum(bins) / n])
    cdf = cdf + np.arange(len(cdf)) * 1e-12  # strictly increasing: empty bins are flat
    quantiles = {q: float(np.interp(q * cdf[-1], cdf, edges)) for q in QUANTILES}
    mids = (edges[:-1] + edges[1:]) / 2
    mean = float(bins @ mids / n)
    # a uniform spread within each bin adds its width² / 12 to the variance
    var = float(bins @ ((mids - mean) ** 2 + np.diff(edges) ** 2 / 12) / n)
    return Summary(total=int(round(n + nulls)), n=max(int(round(n)), 1), mean=mean,
                   sd=var ** 0.5, min=lo, max=hi, integer=integer, quantiles=quantiles)


# ---- a whole column under ε: a public magnitude grid, then a grid from its noised range -----
# sign × powers of two from 2^-10 to 2^30: bounds known before any data is read, so which bin
# a value falls in says nothing the grid did not already say
MAGNITUDE_GRID = tuple(sorted({0.0, *(s * 2.0 ** j for s in (-1, 1) for j in range(-10, 31))}))
FINE_BINS = (4, 48)  # the fewest and most bins of the second query


def noised_column(p, path: str, base: str, template: dict) -> dict | None:
    """A continuous column of a person table from two noised person-weighted histograms of a
    base query selecting `x, pid`: `path/range` over MAGNITUDE_GRID finds the range (the run
    of bins around the fullest whose noised weight clears the noise), then `path` over bins of
    that range, as many as the noised count fills above the noise. Both are queries of the
    budget; everything after is post-processing. None when too little survives."""
    coarse = binned_cells(p, base, MAGNITUDE_GRID, 0).get((), {})
    noised = p.guard.noise(f"{path}/range", coarse)
    weights = {b: (c.rows if isinstance(c, Cell) else float(c)) for b, c in noised.items()}
    scale = _scale(p, f"{path}/range")
    span = _noised_span(weights, scale, p.guard.k)
    if span is None:
        p.guard.reserve(path)  # the planning pass always finds a span: keep the plan equal
        return None
    lo, hi = MAGNITUDE_GRID[span[0]], MAGNITUDE_GRID[span[1] + 1]
    total = sum(max(w, 0.0) for b, w in weights.items() if b != NULL_BIN)
    bins = int(np.clip(total / (5 * max(scale, 1e-9)), *FINE_BINS))
    edges = _fine_edges(lo, hi, bins, bool(template.get("integer")))
    cells = binned_cells(p, base, edges, 0) or {(): {}}
    return noised_cells(p, path, cells, edges, template).get(())


def _scale(p, path: str) -> float:
    """The Laplace scale the budget gave a query (0 in the planning pass: exact counts)."""
    query = p.guard.budget.queries.get(path)
    return query.scale if query is not None else 0.0


def _noised_span(weights: dict, scale: float, k: int) -> tuple[int, int] | None:
    """(first, last) magnitude bin of the contiguous run around the fullest noised bin whose
    noised weights reach max(k, 2 × scale), and one bin beyond; a lone spike of noise far
    away is not followed."""
    values = np.array([weights.get(b, 0.0) for b in range(len(MAGNITUDE_GRID) - 1)])
    threshold = max(float(k), 2.0 * scale)
    peak = int(np.argmax(values))
    if values[peak] < threshold:
        return None
    first = last = peak
    while first > 0 and values[first - 1] >= threshold:
        first -= 1
    while last < len(values) - 1 and values[last + 1] >= threshold:
        last += 1
    # one bin more each side: a neighbour below the threshold may still hold values, and a
    # range too narrow piles them into the end bins
    return max(first - 1, 0), min(last + 1, len(values) - 1)


def _fine_edges(lo: float, hi: float, bins: int, integer: bool) -> tuple[float, ...]:
    """`bins` equal bins over [lo, hi] (whole-number edges for an integer column, at most one
    bin per value)."""
    if integer:
        lo, hi = np.floor(lo), np.ceil(hi)
        bins = int(min(bins, max(hi - lo, 1)))
    return tuple(float(e) for e in np.linspace(lo, hi, bins + 1))


def noised_conditional(p, path: str, base: str, groups: int, template: dict):
    """(cells {group: distribution}, otherwise, sizes {group: Cell}) of a continuous column
    given `groups` columns, from a base query selecting `g0.., x, pid`: the overall as
    `noised_column` at `path/otherwise`, the cells as one noised histogram over its published
    quantiles at `path/cells` (whether a cell is kept stays the k rule on its people)."""
    g = ", ".join(f"g{i}" for i in range(groups))
    overall = noised_column(p, f"{path}/otherwise", f"SELECT x, pid FROM ({base}) AS o",
                            template)
    edges = grid_of(overall or {})
    if overall is None or len(edges) < 2:
        p.guard.reserve(f"{path}/cells")
        return {}, overall, {}
    per_group = binned_cells(p, f"SELECT {g}, x, pid FROM ({base}) AS c", edges, groups)
    sizes = {group: sum(per.values(), Cell(0.0, 0.0)) for group, per in per_group.items()}
    cells = noised_cells(p, f"{path}/cells", per_group, edges, template, overall)
    return cells, overall, sizes
