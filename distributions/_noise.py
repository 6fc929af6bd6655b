"""The ε budget of a profile: split across its count queries, noise reproducible per seed.

`--epsilon` is the total for the whole profile. The profiler first runs without noise to list
the queries it will release (the `Plan`), then again with each query given an equal share of
ε; a query the plan did not foresee gets no budget and is not released, so the total spent
never exceeds ε (sequential composition).

Scales are calibrated by OpenDP (`make_laplace` over an L1 vector space, found by
`binary_search_param` for the query's sensitivity and ε share, and checked with the
measurement's privacy map). OpenDP samples from the operating system's CSPRNG, which cannot be
seeded, but the profile must be the same bytes for the same `--seed` in any process. So the
noise itself is drawn here: a Laplace variate of OpenDP's scale by inverse CDF from a uniform
that is a hash of (seed, query, cell value) — a counter-based generator, the same whatever
order the engine returns groups in. (The trade: a seeded, public-algorithm generator is not a
CSPRNG, so whoever knows the seed can subtract the noise; keep the seed secret as you would
the noise.)
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache


@dataclass
class Query:
    """One released count query and its share of the budget."""

    path: str
    unit: str            # what one unit of sensitivity is: a person, a parent row, an event
    sensitivity: float
    epsilon: float = 0.0
    scale: float = 0.0
    cells: int = 0
    mechanism: str = "Laplace (OpenDP-calibrated scale, seeded counter-based sampler)"


@lru_cache(maxsize=256)
def laplace_scale(sensitivity: float, epsilon: float) -> float:
    """The smallest Laplace scale OpenDP accepts as ε-DP for this L1 sensitivity."""
    # imported here, not at the top: OpenDP's prelude loads scikit-learn and pandas (~2 s),
    # a cost every command would pay though only `profile --epsilon` needs it
    import opendp.prelude as dp

    dp.enable_features("contrib")  # OpenDP gates its mechanisms behind this flag
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
    scale = dp.binary_search_param(lambda s: dp.m.make_laplace(*space, scale=s),
                                   d_in=float(sensitivity), d_out=float(epsilon))
    measurement = dp.m.make_laplace(*space, scale=scale)
    assert measurement.map(float(sensitivity)) <= epsilon * (1 + 1e-9)
    return float(scale)


def uniform(seed: int, path: str, key) -> float:
    """A uniform in (0, 1) that is a pure function of (seed, query, cell)."""
    text = json.dumps([int(seed), path, key], default=str, sort_keys=True)
    bits = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
    return (bits + 0.5) / 2.0 ** 64


def laplace(seed: int, path: str, key, scale: float) -> float:
    """A Laplace(scale) variate keyed by (seed, query, cell), by inverse CDF."""
    u = uniform(seed, path, key) - 0.5
    return -scale * math.copysign(1.0, u) * math.log(1.0 - 2.0 * abs(u))


class Budget:
    """Splits ε over the planned queries and records what each one spent."""

    def __init__(self, epsilon: float | None, seed: int, plan: list[str] | None):
        self.epsilon, self.seed, self.plan = epsilon, seed, plan
        self.queries: dict[str, Query] = {}
        self.unplanned: list[str] = []

    @property
    def planning(self) -> bool:
        """True in the first pass: queries are listed, nothing is noised."""
        return self.epsilon is not None and self.plan is None

    def share(self) -> float:
        return self.epsilon / max(len(self.plan or ()), 1)

    def noise(self, path: str, counts: dict, unit: str, sensitivity: float) -> dict | None:
        """Noised counts (sorted by key, so order never matters), or None when the plan gave
        the query no budget. Without ε the counts come back as they are."""
        if self.epsilon is None:
            return counts
        if self.planning:
            self.queries.setdefault(path, Query(path, unit, sensitivity))
            return counts
        if path not in self.plan or path in self.queries:
            self.unplanned.append(path)
            return None
        share = self.share()
        scale = laplace_scale(sensitivity, share)
        self.queries[path] = Query(path, unit, sensitivity, share, scale, len(counts))
        keys = sorted(counts, key=lambda v: json.dumps(v, default=str))
        return {key: counts[key] + laplace(self.seed, path, key, scale) for key in keys}

    def report(self, suppressed: dict[str, int]) -> dict:
        """Where the budget went, for the privacy manifest."""
        if self.epsilon is None:
            return {"epsilon": None, "note": "no differential privacy requested (k rules only)"}
        queries = [{**asdict(q), "cells_suppressed": suppressed.get(q.path, 0)}
                   for q in sorted(self.queries.values(), key=lambda q: q.path)]
        return {"epsilon": self.epsilon, "split": "equal share per planned count query",
                "planned_queries": len(self.plan or ()),
                "allocated": round(self.share() * len(self.plan or ()), 12),
                "spent": round(sum(q["epsilon"] for q in queries), 12),
                "queries": queries, "refused_unplanned": sorted(set(self.unplanned)),
                # planned (reserved) but not made: their share is left unspent
                "unused": sorted(set(self.plan or ()) - set(self.queries)),
                "not_covered": "continuous columns of person tables, the FTE, staff per "
                               "student and the gradebook calibration (score_rho, "
                               "withdrawal_rho) are noised (histograms over a public grid, "
                               "bounded sums); still on k rules only: students per section, "
                               "section fill rate, the grading scheme's cut-offs, the gradebook "
                               "flags, activity_rho, the labels' ties and the event model "
                               "(a person's events are not bounded; event counts are noised per "
                               "event row); whether a conditional cell is kept is decided on its "
                               "exact count of people (the k rule); institutional tables (no "
                               "person behind a row) are neither noised nor suppressed; "
                               "`released` names each part's protection"}
