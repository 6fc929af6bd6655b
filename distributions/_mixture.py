"""Continuous distributions of several institutions as one: the weighted mixture of their
piecewise-linear CDFs (through min, the stored quantiles and max), re-quantiled at the inputs'
levels and the mixture's own knots; means, spreads and null shares weighted alike."""

from __future__ import annotations

import numpy as np
from scipy import stats

_LEVELS = 241  # most quantile levels a merged continuous distribution stores


def _cdf(spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """Knots (x, F(x)) of a continuous distribution's piecewise-linear CDF (a numeric
    categorical's mass spread over v ± ½, so rounding draws v again)."""
    if spec["kind"] == "categorical":
        items = sorted((float(i["value"]), float(i["p"])) for i in spec["values"])
        total = sum(p for _, p in items) or 1.0
        cumulative = np.cumsum([p / total for _, p in items])
        xs = np.ravel([[v - 0.5, v + 0.5] for v, _ in items])
        ps = np.ravel([[c - p / total, c] for (_, p), c in zip(items, cumulative, strict=True)])
        return np.maximum.accumulate(xs), ps
    if spec["family"] == "constant":
        v = float(spec["value"])
        return np.array([v, v + 1e-9]), np.array([0.0, 1.0])
    points = sorted((float(q), float(v)) for q, v in spec.get("quantiles", {}).items())
    if not points:  # no stored quantiles: the normal's, inside the range
        qs = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
        points = list(zip(qs, stats.norm.ppf(qs, spec["mean"], max(spec["sd"], 1e-9)), strict=True))
    lo, hi = float(spec.get("min", points[0][1])), float(spec.get("max", points[-1][1]))
    xs = np.clip(np.array([lo, *(v for _, v in points), hi]), lo, hi)
    ps = np.array([0.0, *(q for q, _ in points), 1.0])
    return np.maximum.accumulate(xs), ps


def continuous_mixture(specs, weights) -> dict:
    """The weighted mixture of continuous (or numeric categorical) distributions."""
    # the values' weights: rows with a value (nulls are not in the quantiles)
    rows = np.array(weights) / sum(weights)
    valued = [wi * (1.0 - s.get("null_fraction", 0.0))
              for s, wi in zip(specs, weights, strict=True)]
    # all null everywhere (work with no due date): the shape is moot, the rows weigh it
    weights = valued if sum(valued) > 0 else list(weights)
    heaviest = specs[int(np.argmax(weights))]
    w = np.array(weights) / (sum(weights) or 1.0)
    knots = [_cdf(s) for s in specs]
    xs = np.concatenate([x for x, _ in knots])
    # each knot and a point just left of it: a CDF's jump (a mass at full marks) survives
    grid = np.unique(np.concatenate([xs, xs - 1e-9 * (1 + np.abs(xs))]))
    cdf = sum(wi * np.interp(grid, x, p, left=0.0, right=1.0)
              for wi, (x, p) in zip(w, knots, strict=True))
    cdf = np.maximum.accumulate(cdf + np.arange(len(grid)) * 1e-12)  # strictly increasing
    # the inputs' levels and the mixture's own values at the knots, so that the stored
    # piecewise-linear CDF passes through the mixture where its pieces meet
    levels = {float(q) for s in specs for q in s.get("quantiles", {})} | \
        {round(float(c), 4) for c in cdf}
    levels = sorted(q for q in levels if 0 < q < 1) or [0.05, 0.25, 0.5, 0.75, 0.95]
    if len(levels) > _LEVELS:
        keep = np.linspace(0, len(levels) - 1, _LEVELS).round().astype(int)
        levels = [levels[i] for i in keep]
    integer = all(s.get("integer", s["kind"] == "categorical") for s in specs)
    lo, hi = _num(grid[0], integer), _num(grid[-1], integer)
    # kept inside the stored range: an integer range rounds its ends, and a numeric
    # categorical's mass spread to v + ½ would put the top quantile half a unit past max
    quantiles = {q: min(max(float(np.interp(q, cdf, grid)), lo), hi) for q in levels}
    means = np.array([mean_of(s) for s in specs])
    sds = np.array([_sd(s) for s in specs])
    mean = float(w @ means)
    out = {"kind": "continuous", **({"unit": heaviest["unit"]} if "unit" in heaviest else {})}
    family = heaviest.get("family", "empirical")
    out["family"] = "empirical" if family == "constant" or len(
        {s["kind"] for s in specs}) > 1 else family
    out.update(mean=_num(mean), sd=_num(float(np.sqrt(max(w @ (sds ** 2 + means ** 2)
                                                            - mean ** 2, 0.0)))),
               min=lo, max=hi,
               median=_num(quantiles.get(0.5, mean)),
               quantiles={str(q): _num(v) for q, v in quantiles.items()})
    if integer or any("integer" in s for s in specs):
        out["integer"] = integer
    if any("null_fraction" in s for s in specs):
        out["null_fraction"] = round(float(rows @ [s.get("null_fraction", 0.0)
                                                   for s in specs]), 6)
    return out


def mean_of(spec: dict) -> float:
    """A distribution's mean (a conditional's: its `otherwise`'s)."""
    if spec["kind"] == "categorical":
        total = sum(i["p"] for i in spec["values"]) or 1.0
        return sum(float(i["value"]) * i["p"] for i in spec["values"]
                   if isinstance(i["value"], (int, float))) / total
    if spec["kind"] == "conditional":
        return mean_of(spec["otherwise"])
    if spec["kind"] == "continuous":
        return float(spec.get("value", spec.get("mean", 0.0)))
    return 1.0


def _sd(spec: dict) -> float:
    if spec["kind"] != "categorical":
        return float(spec.get("sd", 0.0))
    total = sum(i["p"] for i in spec["values"]) or 1.0
    mean = mean_of(spec)
    return float(np.sqrt(sum(i["p"] / total * (float(i["value"]) - mean) ** 2
                             for i in spec["values"])))


def _num(value: float, integer: bool = False) -> float | int:
    value = float(value)
    if integer or value.is_integer():
        return int(round(value))
    return round(value, 6)
