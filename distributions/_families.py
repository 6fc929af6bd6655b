"""The named distribution families a scenario may draw a column from, by inverse CDF.

Every family maps uniforms in (0, 1) to values, so a column drawn from it is a pure function
of its counter-based uniforms (same seed ⇒ same values, whatever the block). Parameters are
checked here (`family_problems`) so an impossible one (Beta α ≤ 0, Uniform low ≥ high) is an
error with its JSON path before anything runs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

# family → its parameters (all required)
FAMILIES: dict[str, tuple[str, ...]] = {
    "Poisson": ("lambda",), "Beta": ("alpha", "beta"), "Normal": ("mean", "sd"),
    "LogNormal": ("mu", "sigma"), "Gamma": ("shape", "scale"), "Uniform": ("low", "high"),
    "Bernoulli": ("p",), "Categorical": ("values",), "Constant": ("value",),
}
_POSITIVE = {"Poisson": ("lambda",), "Beta": ("alpha", "beta"), "Normal": ("sd",),
             "LogNormal": ("sigma",), "Gamma": ("shape", "scale")}
_TOLERANCE = 1e-6


def family_problems(spec: dict, path: str) -> list[tuple[str, str]]:
    """Impossible parameters of a family spec the schema accepted, with their paths."""
    family = spec["family"]
    problems = [(f"{path}/{name}", f"{family} needs {name} > 0, not {spec[name]}")
                for name in _POSITIVE.get(family, ()) if not spec[name] > 0]
    if family == "Uniform" and not spec["low"] < spec["high"]:
        problems.append((f"{path}/high", f"Uniform needs low < high, not {spec['low']} and "
                                         f"{spec['high']}"))
    if family == "Bernoulli" and not 0 <= spec["p"] <= 1:
        problems.append((f"{path}/p", f"Bernoulli needs 0 ≤ p ≤ 1, not {spec['p']}"))
    if family == "Categorical":
        problems += _categorical_problems(spec["values"], f"{path}/values")
    return problems


def _categorical_problems(values: list[dict], path: str) -> list[tuple[str, str]]:
    problems = [(f"{path}/{i}/p", f"a share must be ≥ 0, not {v['p']}")
                for i, v in enumerate(values) if v["p"] < 0]
    total = sum(v["p"] for v in values)
    if not problems and not math.isclose(total, 1.0, abs_tol=_TOLERANCE):
        problems.append((path, f"the shares add up to {total:g}, not 1"))
    labels = [v["value"] for v in values]
    if len(set(labels)) != len(labels):
        problems.append((path, "a value is listed more than once"))
    return problems


def family_type(spec: dict) -> str:
    """The registry type of a family's values: counts and flags are int64, categories text."""
    family = spec["family"]
    if family in ("Poisson", "Bernoulli"):
        return "int64"
    if family == "Categorical":
        return "string"
    if family == "Constant":
        value = spec["value"]
        return "string" if isinstance(value, str) else "float64"
    return "float64"


def poisson_quantile(u: np.ndarray, lam: float) -> np.ndarray:
    """The Poisson(lam) quantile of uniforms `u`: scipy.stats.poisson.ppf's own formula (the
    smallest k with P(X <= k) >= u), from scipy.special alone, since generation would
    otherwise import scipy.stats (a second) for this one call; 0 gives -1, as there."""
    k = np.ceil(special.pdtrik(u, lam))
    below = np.maximum(k - 1, 0)
    quantile = np.where(special.pdtr(below, lam) >= u, below, k)
    return np.where(u == 0, -1, quantile).astype(np.int64)


def sample_family(spec: dict, u: np.ndarray) -> np.ndarray:
    """Values of the family at uniforms `u` (inverse CDF, vectorized)."""
    family = spec["family"]
    if family == "Poisson":
        return poisson_quantile(u, spec["lambda"])
    if family == "Beta":
        return special.betaincinv(spec["alpha"], spec["beta"], u)
    if family == "Normal":
        return spec["mean"] + spec["sd"] * special.ndtri(u)
    if family == "LogNormal":
        return np.exp(spec["mu"] + spec["sigma"] * special.ndtri(u))
    if family == "Gamma":
        return special.gammaincinv(spec["shape"], u) * spec["scale"]
    if family == "Uniform":
        return spec["low"] + (spec["high"] - spec["low"]) * u
    if family == "Bernoulli":
        return (u < spec["p"]).astype(np.int64)
    if family == "Categorical":
        return np.array([v["value"] for v in spec["values"]], dtype=object)[
            categorical_codes(spec, u)]
    return np.full(len(u), spec["value"], dtype=object if family_type(spec) == "string"
                   else np.float64)


def categorical_codes(spec: dict, u: np.ndarray) -> np.ndarray:
    """Index into a Categorical's `values` at uniforms `u`."""
    edges = np.cumsum([v["p"] for v in spec["values"]])
    codes = np.searchsorted(edges / edges[-1], u, side="right")
    return np.minimum(codes, len(spec["values"]) - 1).astype(np.int32)
