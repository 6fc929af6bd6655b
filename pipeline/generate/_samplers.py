"""Vectorised samplers compiled from profile distributions.

Every sampler maps uniforms in (0, 1) to values through an inverse CDF, so a sampler is pure
and cheap (one `searchsorted` or `interp`), and a latent variable can steer a column through a
Gaussian copula without changing its marginal distribution. Continuous families are fitted
once so that the *truncated* (and, for counts, rounded) distribution has the profile's mean and
standard deviation inside [min, max].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special

from pipeline.generate._column_values import Labels

_GRID = 2049


@dataclass(frozen=True)
class CategoricalSampler:
    """Values with probabilities; returns `Labels`."""

    categories: tuple
    cumulative: np.ndarray

    def sample(self, u: np.ndarray) -> Labels:
        codes = _bucket(self.cumulative, u).astype(np.int32)
        codes = np.minimum(codes, len(self.categories) - 1)
        nulls = [i for i, c in enumerate(self.categories) if c is None]
        if nulls:
            codes[np.isin(codes, nulls)] = -1
        return Labels(codes, self.categories)

    @property
    def mean(self) -> float:
        """Mean of numeric categories (used for sizing from count distributions)."""
        probs = np.diff(np.concatenate([[0.0], self.cumulative]))
        values = np.array([0.0 if c is None else float(c) for c in self.categories])
        return float(np.dot(probs, values))


_UNIFORM_GRID = 4096
_MAX_SUPPORT = 10_000  # integer distributions wider than this are fitted as continuous
_Z_RANGE = 8.0


@dataclass(frozen=True)
class QuantileSampler:
    """A tabulated inverse CDF: `values` at cumulative probabilities `cdf`.

    Continuous samplers are re-tabulated on an even grid of probabilities, so sampling is an
    index and one linear interpolation per value instead of a binary search.
    """

    cdf: np.ndarray
    values: np.ndarray
    integer: bool
    null_fraction: float = 0.0
    rounded: bool = False  # a count too wide to tabulate value by value: continuous, rounded

    def __post_init__(self):
        if not self.integer and len(self.values) > 1:
            grid = np.linspace(0.0, 1.0, _UNIFORM_GRID + 1)
            object.__setattr__(self, "_even", np.interp(grid, self.cdf, self.values))

    def sample(self, u: np.ndarray) -> np.ndarray:
        nulls = None
        if self.null_fraction > 0:
            nulls = u > 1.0 - self.null_fraction
            # the top of the uniform range becomes null, so a copula keeps its ordering; the
            # rest spans the whole quantile function (the non-null values keep their upper
            # tail)
            u = np.minimum(u / max(1.0 - self.null_fraction, 1e-12), 1.0)
        if self.integer or len(self.values) == 1:
            index = _bucket(self.cdf, u, side="left")
            out = self.values[np.minimum(index, len(self.values) - 1)].astype(np.float64)
        else:
            position = u * _UNIFORM_GRID
            low = np.minimum(position.astype(np.int64), _UNIFORM_GRID - 1)
            even = self._even
            out = even[low] + (position - low) * (even[low + 1] - even[low])
        if self.rounded:
            out = np.round(out)
        return out if nulls is None else np.where(nulls, np.nan, out)

    def sample_normal(self, z: np.ndarray) -> np.ndarray:
        """Sample from standard-normal scores instead of uniforms (for copulas): a table of
        the quantile function against z avoids a normal-CDF pass over every row."""
        if self.integer or self.null_fraction > 0 or len(self.values) == 1:
            return self.sample(special.ndtr(z))
        if not hasattr(self, "_by_z"):
            grid = np.linspace(-_Z_RANGE, _Z_RANGE, _UNIFORM_GRID + 1)
            object.__setattr__(self, "_by_z", self.sample(special.ndtr(grid)))
        position = (np.clip(z, -_Z_RANGE, _Z_RANGE) + _Z_RANGE) * (_UNIFORM_GRID / (2 * _Z_RANGE))
        low = np.minimum(position.astype(np.int64), _UNIFORM_GRID - 1)
        table = self._by_z
        return table[low] + (position - low) * (table[low + 1] - table[low])

    @property
    def mean(self) -> float:
        probs = np.diff(np.concatenate([[0.0], self.cdf]))
        if self.integer:
            return float(np.dot(probs, self.values))
        mids = (self.values[1:] + self.values[:-1]) / 2
        return float(np.dot(np.diff(self.cdf), mids))


Sampler = CategoricalSampler | QuantileSampler
_FEW = 12


def _bucket(cumulative: np.ndarray, u: np.ndarray, side: str = "right") -> np.ndarray:
    """Index of the bucket of each uniform: counting thresholds passed is cheaper than a
    binary search when there are only a few buckets."""
    if len(cumulative) > _FEW:
        return np.searchsorted(cumulative, u, side=side)
    index = np.zeros(len(u), dtype=np.int64)
    for threshold in cumulative[:-1]:
        index += (u >= threshold) if side == "right" else (u > threshold)
    return index


def compile_distribution(spec: dict) -> Sampler:
    """Compile one profile distribution (categorical or continuous) into a sampler."""
    return _compile_cached(json.dumps(spec, sort_keys=True))


@lru_cache(maxsize=1024)
def _compile_cached(spec_json: str) -> Sampler:
    spec = json.loads(spec_json)
    if spec["kind"] == "categorical":
        return categorical(spec["values"])
    return continuous(spec)


def categorical(values: list[dict]) -> CategoricalSampler:
    """A sampler over [{"value": v, "p": p}, ...]; probabilities are renormalised."""
    probs = np.array([float(item["p"]) for item in values])
    cumulative = np.cumsum(probs / probs.sum())
    cumulative[-1] = 1.0
    return CategoricalSampler(tuple(item["value"] for item in values), cumulative)


def continuous(spec: dict) -> QuantileSampler:
    """A sampler for a continuous or count distribution described by the profile."""
    family = spec.get("family", "normal")
    integer = bool(spec.get("integer", False))
    null_fraction = float(spec.get("null_fraction", 0.0))
    if family == "constant":
        value = float(spec["value"])
        return QuantileSampler(np.array([1.0]), np.array([value]), integer, null_fraction)
    wide = integer and float(spec.get("max", 0)) - float(spec.get("min", 0)) > _MAX_SUPPORT
    integer = integer and not wide
    if family == "empirical":
        cdf, values = _empirical(spec)
    elif family == "uniform":
        cdf, values = np.array([0.0, 1.0]), np.array([float(spec["min"]), float(spec["max"])])
    else:
        cdf, values = _fitted(family, spec, integer)
    if integer and family in ("empirical", "uniform"):
        cdf, values = _integer_support(cdf, values)
    return QuantileSampler(cdf, values, integer, null_fraction, rounded=wide)


def _empirical(spec: dict) -> tuple[np.ndarray, np.ndarray]:
    points = {0.0: float(spec["min"]), 1.0: float(spec["max"])}
    for key, value in spec.get("quantiles", {}).items():
        points[float(key)] = float(value)
    probs = np.array(sorted(points))
    return probs, np.maximum.accumulate(np.array([points[p] for p in probs]))


def _integer_support(cdf: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    support = np.arange(np.ceil(values[0]), np.floor(values[-1]) + 1)
    upper = np.interp(support + 0.5, values, cdf, left=0.0, right=1.0)
    upper[-1] = 1.0
    return upper, support


def _fitted(family: str, spec: dict, integer: bool) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = float(spec["min"]), float(spec["max"])
    target = np.array([float(spec["mean"]), max(float(spec.get("sd", 0.0)), 1e-9)])
    support = np.arange(np.ceil(lo), np.floor(hi) + 1) if integer else np.linspace(lo, hi, _GRID)
    if len(support) < 2 or target[1] <= 1e-9:
        value = float(np.clip(target[0], lo, hi))
        return np.array([1.0]), np.array([round(value) if integer else value])

    def weights(params: np.ndarray) -> np.ndarray:
        return _family_weights(family, params, support, integer, lo)

    def error(params: np.ndarray) -> np.ndarray:
        w = weights(params)
        mean = np.dot(w, support)
        sd = np.sqrt(max(np.dot(w, (support - mean) ** 2), 0.0))
        return (np.array([mean, sd]) - target) / max(target[1], 1e-6)

    start = _start_params(family, target, lo)
    best = optimize.least_squares(error, start, method="lm", max_nfev=400).x
    w = weights(best)
    cdf = np.cumsum(w) if integer else np.cumsum(w) - w / 2
    if not integer:
        cdf[0] = 0.0
    cdf[-1] = 1.0
    return cdf, support


def _start_params(family: str, target: np.ndarray, lo: float) -> np.ndarray:
    mean, sd = target
    if family == "lognormal":
        shifted = max(mean - lo, 1e-6)
        sigma2 = np.log1p((sd / shifted) ** 2)
        return np.array([np.log(shifted) - sigma2 / 2, np.log(np.sqrt(sigma2))])
    return np.array([mean, np.log(sd)])


def _family_weights(family: str, params: np.ndarray, support: np.ndarray, integer: bool,
                    lo: float) -> np.ndarray:
    loc, log_scale = params
    scale = float(np.exp(np.clip(log_scale, -20, 5)))
    half = 0.5 if integer else (support[1] - support[0]) / 2
    if family == "lognormal":
        # shifted so that the distribution starts just below the minimum
        base = lo - (1.0 if integer else half)
        upper = _lognormal_cdf(support + half - base, loc, scale)
        lower = _lognormal_cdf(support - half - base, loc, scale)
    else:
        upper = special.ndtr((support + half - loc) / scale)
        lower = special.ndtr((support - half - loc) / scale)
    mass = np.maximum(upper - lower, 0.0)
    total = mass.sum()
    return mass / total if total > 0 else np.full(len(support), 1.0 / len(support))


def _lognormal_cdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(x > 0, special.ndtr((np.log(np.maximum(x, 1e-300)) - mu) / sigma), 0.0)


def balanced_ranks(owner: np.ndarray, bits: np.ndarray, cell: np.ndarray | None = None
                   ) -> np.ndarray:
    """Each key's stratum among the keys of its cell (0 .. keys in the cell − 1), dealt so
    that every owner's keys of a cell spread over the cell's strata: an owner's m keys sit at
    places (j + ½) / m (in the seeded order of `bits`), and the cell's keys take its strata
    in the order of their places. Random strata leave one term with the large courses and
    another with the small ones (a source's 138 due dates shifted by 0.09 in KS from 13
    assignments too many in its first term); dealt strata give every owner its share."""
    n = len(owner)
    cell = np.zeros(n, dtype=np.int64) if cell is None else np.asarray(cell, dtype=np.int64)
    pair = owner.astype(np.int64) * (int(cell.max(initial=0)) + 1) + cell
    order = np.lexsort((bits, pair))
    start = np.searchsorted(pair[order], pair[order], side="left")
    size = np.searchsorted(pair[order], pair[order], side="right") - start
    place = np.empty(n)
    place[order] = (np.arange(n) - start + 0.5) / size
    with np.errstate(over="ignore"):  # ties of places: an order unrelated to the first
        tie = np.asarray(bits, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    dealt = np.lexsort((tie, place, cell))
    first = np.searchsorted(cell[dealt], cell[dealt], side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[dealt] = np.arange(n) - first
    return rank
