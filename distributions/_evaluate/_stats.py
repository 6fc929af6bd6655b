"""The statistics behind the figures: distances between small aggregated distributions (in
numpy) and the exact two-sample KS statistic from two samples' value counts."""

from __future__ import annotations

import math

import numpy as np


def mean_of(values) -> float | None:
    """The mean of the values that are not None (None when there are none)."""
    known = [float(v) for v in values if v is not None]
    return sum(known) / len(known) if known else None


def shares(counts: dict) -> dict:
    """Counts -> shares (an empty or all-zero distribution stays empty)."""
    total = sum(counts.values())
    return {k: v / total for k, v in counts.items()} if total else {}


def tvd(a: dict, b: dict) -> float | None:
    """Total variation distance between two count (or share) distributions."""
    pa, pb = shares(a), shares(b)
    if not pa or not pb:
        return None
    return 0.5 * sum(abs(pa.get(k, 0.0) - pb.get(k, 0.0)) for k in set(pa) | set(pb))


def ks_discrete(a: dict, b: dict) -> float | None:
    """KS statistic between two distributions of numbers given as {value: count}."""
    pa, pb = shares(a), shares(b)
    if not pa or not pb:
        return None
    values = sorted(set(pa) | set(pb))
    ca = np.cumsum([pa.get(v, 0.0) for v in values])
    cb = np.cumsum([pb.get(v, 0.0) for v in values])
    return float(np.max(np.abs(ca - cb)))


def cramers_v(table: dict[tuple, float]) -> float | None:
    """Cramér's V (bias-corrected, Bergsma 2013) of a contingency table {(a, b): count}."""
    rows = sorted({k[0] for k in table})
    cols = sorted({k[1] for k in table})
    if len(rows) < 2 or len(cols) < 2:
        return None
    m = np.array([[table.get((r, c), 0.0) for c in cols] for r in rows], dtype=float)
    n = m.sum()
    if n < 2:
        return None
    expected = np.outer(m.sum(1), m.sum(0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.nansum(np.where(expected > 0, (m - expected) ** 2 / expected, 0.0))
    r, k = m.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    rc, kc = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    denominator = min(kc - 1, rc - 1)
    return float(math.sqrt(phi2 / denominator)) if denominator > 0 else None


def chance_v(table: dict[tuple, float]) -> float | None:
    """The Cramér's V (bias-corrected, as `cramers_v`) that chance alone gives a table of
    this size and these categories: χ² one standard deviation (√(2·df)) above its mean df
    under independence. Halves of a real sample whose association is nil both give V 0 (the
    correction clips at 0), so their floor says nothing of this noise; at 20 rows it is 0.37
    over 5 × 2 categories (two rows of a rare category placed one way or another: V 0 or
    0.5), at 33,000 rows over 4 × 11 it is 0.009."""
    rows = len({k[0] for k in table})
    cols = len({k[1] for k in table})
    n = float(sum(table.values()))
    if rows < 2 or cols < 2 or n < 2:
        return None
    df = (rows - 1) * (cols - 1)
    phi2 = max(0.0, (df + math.sqrt(2 * df)) / n - df / (n - 1))
    rc, kc = rows - (rows - 1) ** 2 / (n - 1), cols - (cols - 1) ** 2 / (n - 1)
    denominator = min(kc - 1, rc - 1)
    return float(math.sqrt(phi2 / denominator)) if denominator > 0 else None


MIN_ROWS_PER_CELL = 2


def too_sparse(table: dict[tuple, float]) -> bool:
    """Whether a contingency table has fewer than 2 rows per cell (rows × columns of
    categories): there, Cramér's V of a half and of the whole differ by sample size alone,
    and the association is shown, not judged."""
    cells = len({k[0] for k in table}) * len({k[1] for k in table})
    return sum(table.values()) < MIN_ROWS_PER_CELL * cells


def ks_counts(values_a, counts_a, values_b, counts_b) -> float | None:
    """The exact two-sample KS statistic of two samples given as (distinct value, count)
    arrays: the largest gap between their empirical CDFs over the union of the values."""
    total_a, total_b = float(np.sum(counts_a)), float(np.sum(counts_b))
    if not total_a or not total_b:
        return None
    grid = np.union1d(values_a, values_b)
    return float(np.max(np.abs(_cdf(values_a, counts_a, grid) / total_a
                               - _cdf(values_b, counts_b, grid) / total_b)))


def ks_halves(values, counts, bits, splits: int) -> list[float | None]:
    """`ks_counts` between the two halves of one sample in each of `splits` splits (bit s of
    a value's `bits` is its half in split s): the values sorted once for every split (a
    sort per CDF was most of the column figures' Python time at 20,000 FTE)."""
    values, counts, bits = np.asarray(values), np.asarray(counts, dtype=float), np.asarray(bits)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    # the last position of each distinct value: where the CDFs step
    ends = np.r_[np.nonzero(ordered[1:] != ordered[:-1])[0], len(ordered) - 1]
    out: list[float | None] = []
    for split in range(splits):
        half = (bits >> split) & 1
        a, b = counts * (half == 0), counts * (half == 1)
        total_a, total_b = float(np.sum(a)), float(np.sum(b))
        if not total_a or not total_b:
            out.append(None)
            continue
        gap = np.cumsum(a[order])[ends] / total_a - np.cumsum(b[order])[ends] / total_b
        out.append(float(np.max(np.abs(gap))))
    return out


def _cdf(values, counts, grid):
    """Counts at or below each grid value."""
    order = np.argsort(values, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(counts, dtype=float)[order])])
    return cumulative[np.searchsorted(np.asarray(values)[order], grid, side="right")]


def quantile_points(quantiles: dict, maximum=None) -> list[tuple[float, float]]:
    """A profile's stored quantiles {probability: value} as points (value, F(value)) of its
    CDF: a value stored at several probabilities (a step, as counts have) takes the highest,
    and the stated maximum has F = 1."""
    points: dict[float, float] = {}
    for p, v in quantiles.items():
        points[float(v)] = max(points.get(float(v), 0.0), float(p))
    if maximum is not None and float(maximum) in points:
        points[float(maximum)] = 1.0
    return sorted(points.items())


def ks_at_points(points: list[tuple[float, float]], observed: list[float]) -> float | None:
    """KS between a reference CDF known at `points` and an observed CDF at the same values
    (`observed[i]` = share of values <= points[i][0]): the largest gap where both are known."""
    if not points or len(observed) != len(points):
        return None
    return float(max(abs(f - p) for (_, p), f in zip(points, observed, strict=True)))


def cdf_at(counts: dict, values: list[float]) -> list[float]:
    """The share of a {value: count} distribution at or below each of `values`."""
    total = sum(counts.values())
    return [sum(n for k, n in counts.items() if k <= v) / total if total else 0.0
            for v in values]
