"""Privacy: what may leave the source, and every change made so that it may.

- Only allowed columns produce values: the registry marks identifiers, names, emails and free
  text `sensitive`, and those are never profiled (checked again where values are emitted).
- k-anonymity: a count cell below k is merged into `Other` (or `NoData` for option sets that
  have it) or, for numbers, suppressed; a merged bucket still below k is dropped; a conditional
  cell below k is dropped so its rows fall back to `otherwise`.
- Continuous extremes resting on fewer than k rows are top/bottom coded to the k-th value.
- Optional ε-differential privacy: Laplace(1/ε) noise on every count, seeded.
Every change is recorded for the privacy manifest written beside the profile.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from distributions._errors import DistributionsError
from distributions._estimators import Summary

OTHER, NODATA = "Other", "NoData"


@dataclass(frozen=True)
class Action:
    path: str
    action: str  # suppressed | merged | top_coded | bottom_coded | noised
    reason: str
    rows_affected: int


def check_allowed(registry, table: str, column: str) -> None:
    """Refuse to emit values of a column the registry marks sensitive (or does not know)."""
    entity = next((t for t in registry if t.name == table and t.schema.endswith("entity")), None)
    if entity is None or column not in {c.name for c in entity.columns}:
        raise DistributionsError(f"refusing to profile unknown column {table}.{column}")
    if entity.column(column).sensitive:
        raise DistributionsError(f"refusing to profile {table}.{column}: it holds "
                                 f"{entity.column(column).sensitive} values")


class Guard:
    """Applies the privacy rules to raw aggregates and keeps the record of what it did."""

    def __init__(self, k: int = 10, epsilon: float | None = None, seed: int = 0):
        if k < 1:
            raise DistributionsError(f"k must be at least 1, not {k}")
        if epsilon is not None and not epsilon > 0:
            raise DistributionsError(f"epsilon must be positive, not {epsilon:g}")
        self.k, self.epsilon, self.seed = k, epsilon, seed
        self.rng = np.random.default_rng(seed)
        self.actions: list[Action] = []

    def record(self, path: str, action: str, reason: str, rows: float) -> None:
        self.actions.append(Action(path, action, reason, int(round(rows))))

    # ---- counts ---------------------------------------------------------------------------
    def noise(self, path: str, counts: dict) -> dict:
        """Laplace(1/ε) noise on each count (clamped at 0); sorted keys keep it reproducible."""
        if self.epsilon is None or not counts:
            return counts
        keys = sorted(counts, key=lambda v: json.dumps(v, default=str))
        draws = self.rng.laplace(0.0, 1.0 / self.epsilon, len(keys))
        noised = {key: max(counts[key] + d, 0.0) for key, d in zip(keys, draws, strict=True)}
        self.record(path, "noised", f"Laplace noise, epsilon={self.epsilon:g}", len(keys))
        return noised

    def categorical(self, path: str, counts: dict, text: bool, nodata: bool) -> dict | None:
        """A categorical distribution from {value: rows}, or None if nothing survives."""
        counts = self.noise(path, counts)
        kept = {v: c for v, c in counts.items() if c >= self.k}
        small = {v: c for v, c in counts.items() if 0 < c < self.k}
        if small:
            kept = self._merge(path, kept, small, text, nodata)
        total = sum(kept.values())
        if total <= 0:
            return None
        ordered = sorted(kept.items(), key=lambda item: (-item[1], json.dumps(item[0])))
        return {"kind": "categorical",
                "values": [{"value": v, "p": round(c / total, 6)} for v, c in ordered]}

    def _merge(self, path: str, kept: dict, small: dict, text: bool, nodata: bool) -> dict:
        if None in small:  # a rare null is not merged into a value: it is dropped
            self.record(path, "suppressed", f"nulls: fewer than k={self.k} rows", small[None])
            small = {v: c for v, c in small.items() if v is not None}
            if not small:
                return kept
        rows = sum(small.values())
        reason = f"{len(small)} value(s) with fewer than k={self.k} rows"
        target = (NODATA if nodata else OTHER) if text else None
        if target is None:
            self.record(path, "suppressed", reason, rows)
            return kept
        merged = kept.get(target, 0.0) + rows
        if merged < self.k:
            self.record(path, "suppressed", reason + f"; merged {target} still below k", rows)
            return kept
        self.record(path, "merged", reason + f", merged into {target}", rows)
        return {**kept, target: merged}

    def cell_kept(self, path: str, rows: float) -> bool:
        """Whether a conditional cell of `rows` rows may be published."""
        if rows >= self.k:
            return True
        self.record(path, "suppressed", f"a conditional cell with fewer than k={self.k} rows "
                    "(its rows use `otherwise`)", rows)
        return False

    def histogram(self, path: str, counts: dict) -> dict:
        """Counts of counts, noised; the k rule is applied by the caller's distribution."""
        return self.noise(path, counts)

    # ---- continuous -----------------------------------------------------------------------
    def continuous(self, path: str, s: Summary, template: dict) -> dict | None:
        """A continuous distribution from a summary, extremes coded to the k-th values."""
        if s.n < 2 * self.k:
            # below 2k values the k-th smallest and largest meet or cross: coding would
            # publish a made-up constant, so the column is not published at all
            if s.n:
                self.record(path, "suppressed", f"fewer than 2k={2 * self.k} values, too few "
                            "to publish a range with k-coded extremes", s.n)
            return None
        lo, hi = s.min, s.max
        if s.low_k is not None and s.low_k > s.min:
            lo = s.low_k
            self.record(path, "bottom_coded", f"minimum rested on fewer than k={self.k} rows; "
                        f"replaced by the {self.k}-th smallest value", s.below_k)
        if s.high_k is not None and s.high_k < s.max:
            hi = s.high_k
            self.record(path, "top_coded", f"maximum rested on fewer than k={self.k} rows; "
                        f"replaced by the {self.k}-th largest value", s.above_k)
        if lo >= hi and s.min < s.max:
            self.record(path, "suppressed", f"the k={self.k}-coded extremes meet: too few "
                        "values to publish a range", s.n)
            return None
        return _continuous_spec(s, lo, hi, template)

    def manifest(self, source: str, tables: dict[str, int]) -> dict:
        """The privacy manifest: settings, table row counts and every action taken."""
        return {"k": self.k, "epsilon": self.epsilon, "seed": self.seed, "source": source,
                "tables": dict(sorted(tables.items())),
                "actions": [asdict(a) for a in self.actions]}


def _continuous_spec(s: Summary, lo: float, hi: float, template: dict) -> dict:
    quantiles = {q: float(np.clip(v, lo, hi)) for q, v in s.quantiles.items()}
    family = template.get("family")
    if family not in ("empirical", "uniform", "constant"):
        # the sampler's family: a right-skewed non-negative column is lognormal
        family = "lognormal" if lo >= 0 and s.skew > 1 else "normal"
    if hi <= lo:
        family = "constant"
    spec = {"kind": "continuous", "family": family}
    if family == "constant":
        spec["value"] = _num(lo, s.integer)
    else:
        spec.update(mean=_num(float(np.clip(s.mean, lo, hi))), sd=_num(s.sd), min=_num(lo),
                    max=_num(hi))
    if quantiles:
        spec["median"] = _num(quantiles.get(0.5, s.mean))
        spec["quantiles"] = {str(q): _num(v) for q, v in sorted(quantiles.items())}
    if s.integer or "integer" in template:
        spec["integer"] = bool(s.integer)
    if "null_fraction" in template:
        spec["null_fraction"] = round((s.total - s.n) / s.total, 6) if s.total else 0.0
    if "unit" in template:
        spec["unit"] = template["unit"]
    return spec


def _num(value: float, integer: bool = False) -> float | int:
    if integer or float(value).is_integer():
        return int(round(value))
    return round(float(value), 6)
