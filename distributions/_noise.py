"""The ε budget of a profile: split across its count queries, noise reproducible per seed.

`--epsilon` is the total for the whole profile. The profiler first runs without noise to list
the queries it will release (the plan), then again with each query given a weighted share of
ε (`WEIGHTS`: ε × its family's weight / the plan's total weight); a query the plan did not
foresee gets no budget and is not released, so the total spent never exceeds ε (sequential
composition).

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

# the weight of each query family in the split, first match of its path's prefix wins. Why:
# the structure (sizes, participation, FTE, students per section) drives every table's row
# count and the children-per-parent figures at once, so it gets the most; a column's own
# distribution and the gradebook calibration (scores, withdrawal: many figures) next, and a
# column's range search and its cells and dependencies (the pair figures) close behind, and
# the labels' ties as much as a range (one query carries a whole dependency on the scores; at
# weight 1, --epsilon 5 on 10,000 students left every tie's Spearman over the noise guard:
# tests/test_privacy_budget.py); the gradebook rules and the event model's parts less; the
# manifest's row counts (a report, not used to generate) least
WEIGHTS: tuple[tuple[str, str, float], ...] = (
    ("row counts", "/manifest/", 0.25),
    ("section sizes", "/tables/course_section_enrollment/rows/per_section", 4.0),
    ("structure", "/structure/", 3.0),
    ("size", "/settings/", 3.0),
    ("staffing", "/institution/", 1.5),
    ("children per parent", "/tables/*/rows/", 2.0),
    ("labels' ties", "/engagement/ties/", 3.0),
    ("gradebook calibration", "/engagement/", 2.0),
    ("grading scheme", "/grading_scheme", 1.5),
    ("gradebook rules", "/gradebook/", 1.0),
    ("event tools", "/events/tools", 1.0),
    ("event model", "/events/", 1.0),
    ("column range", "/tables/*/columns/*/range", 3.0),
    ("column cells", "/tables/*/columns/*/*", 1.0),
    ("column", "/tables/*/columns/", 2.0),
    ("other", "/", 1.0),
)


def family_of(path: str) -> tuple[str, float]:
    """(family name, weight) of a query path: the first `WEIGHTS` pattern it starts with
    (`*` stands for one path segment)."""
    for name, pattern, weight in WEIGHTS:
        if _starts_with(path, pattern):
            return name, weight
    return "other", 1.0


def _starts_with(path: str, pattern: str) -> bool:
    parts, want = path.split("/"), pattern.split("/")
    if len(parts) < len(want):
        return False
    for i, segment in enumerate(want):
        last = i == len(want) - 1
        if segment == "*":
            continue
        if not (parts[i].startswith(segment) if last else parts[i] == segment):
            return False
    return True


@dataclass
class Query:
    """One released count query and its share of the budget."""

    path: str
    unit: str            # what one unit of sensitivity is: a person, a parent row, an event
    sensitivity: float
    family: str = ""
    weight: float = 0.0
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

    def total_weight(self) -> float:
        return sum(family_of(path)[1] for path in self.plan or ())

    def share(self, path: str) -> float:
        """ε × the query's weight / the plan's total weight."""
        return self.epsilon * family_of(path)[1] / max(self.total_weight(), 1e-12)

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
        share = self.share(path)
        scale = laplace_scale(sensitivity, share)
        family, weight = family_of(path)
        self.queries[path] = Query(path, unit, sensitivity, family, weight, share, scale,
                                   len(counts))
        keys = sorted(counts, key=lambda v: json.dumps(v, default=str))
        return {key: counts[key] + laplace(self.seed, path, key, scale) for key in keys}

    def report(self, suppressed: dict[str, int]) -> dict:
        """Where the budget went, for the privacy manifest."""
        if self.epsilon is None:
            return {"epsilon": None, "note": "no differential privacy requested (k rules only)"}
        queries = [{**asdict(q), "cells_suppressed": suppressed.get(q.path, 0)}
                   for q in sorted(self.queries.values(), key=lambda q: q.path)]
        plan = self.plan or ()
        return {"epsilon": self.epsilon,
                "split": "weighted: a query's share is epsilon x its family's weight / the "
                         "plan's total weight (each query's family, weight and epsilon below)",
                "weights": {name: weight for name, _, weight in WEIGHTS},
                "planned_queries": len(plan),
                "allocated": round(sum(self.share(path) for path in plan), 12),
                "spent": round(sum(q["epsilon"] for q in queries), 12),
                "queries": queries, "refused_unplanned": sorted(set(self.unplanned)),
                # planned (reserved) but not made: their share is left unspent
                "unused": sorted(set(self.plan or ()) - set(self.queries)),
                "not_covered": "every person-derived part is noised or the default's: "
                               "continuous columns as histograms over public grids; sizes, "
                               "the gradebook calibration, activity_rho and the labels' ties "
                               "as bounded sums; students per section, the fill rate and row "
                               "counts with each person's rows capped (`bounds`); the grading "
                               "scheme from a noised histogram; engagement_sigma is the "
                               "default's. Still not person-bounded: the event model's counts "
                               "are noised per event row (a person's events are not capped "
                               "there); whether a conditional cell is kept is decided on its "
                               "exact count of people (the k rule); institutional tables (no "
                               "person behind a row) are neither noised nor suppressed; "
                               "`released` names each part's protection"}
