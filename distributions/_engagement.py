"""The gradebook's inputs calibrated from the source: how much an enrollment's results share
its latent engagement (`score_rho`) and how withdrawal follows that engagement
(`withdrawal_rho`).

The generator draws each result's score on a Gaussian copula, z = ρ·latent + √(1−ρ²)·ε, so two
results of one enrollment correlate ρ²: ρ is the square root of the source's intra-enrollment
correlation of score ratios (score / points possible). A student's status is drawn on
uniforms Φ(ρw·latent + √(1−ρw²)·ε) with the withdrawn statuses at the low end; ρw is the value
for which a simulation of that model (the source's withdrawn share and results per enrollment,
the work after a withdrawal missing) gives the source's Spearman correlation between an
enrollment's mean score ratio and its being withdrawn. All inputs are aggregates over at least
2k enrollments; they are not noised under ε (the manifest says so).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from distributions._estimators import Missing
from pipeline.errors import SourceError

_SIMULATED = 40_000  # enrollments in the calibration simulation (fixed seed: deterministic)
_RHO_MAX = 0.95


def engagement_part(p, profile: dict) -> None:
    """Estimate score_rho and withdrawal_rho where the source has scores and statuses."""
    engagement = profile["engagement"]
    try:
        found = source_statistics(p, engagement["withdrawn_role_statuses"])
    except (Missing, SourceError) as error:  # a missing table or column: defaults, and why
        p.notes.append(f"/engagement: score_rho and withdrawal_rho kept from the default "
                       f"profile ({error})")
        return
    if found is None or found["n"] < 2 * p.guard.k:
        p.notes.append("/engagement: fewer than 2k scored student enrollments: score_rho and "
                       "withdrawal_rho kept from the default profile")
        return
    sim = Simulation(found["results"], ratio_transform(profile), due_fractions(profile))
    if found["icc"] is not None:
        engagement["score_rho"] = round(sim.score_rho(found["icc"]), 4)
    rho = engagement["score_rho"]
    if found["spearman"] is not None and 0 < found["withdrawn"] < 1:
        strata = withdrawal_strata(p, engagement["withdrawn_role_statuses"])
        engagement["withdrawal_rho"] = round(sim.withdrawal_rho(
            found["spearman"], strata or [(found["withdrawn"], 1.0)], rho), 4)
    # the extras' ties are learned after the extras, on simulations of the same gradebook
    p.engagement_model = (found["results"], ratio_transform(profile), rho)
    p.notes.append(f"/engagement: score_rho {rho} (source intra-enrollment correlation of "
                   f"score ratios {_r(found['icc'])}); withdrawal_rho "
                   f"{engagement.get('withdrawal_rho', 0.0)} (source Spearman of mean score "
                   f"and withdrawal {_r(found['spearman'])}, {found['n']} enrollments)")


def _r(value):
    return None if value is None else round(value, 4)


def source_statistics(p, withdrawn: list[str]) -> dict | None:
    """Per student enrollment (person × offering): mean score ratio, results, withdrawn; then
    their count, withdrawn share, Spearman, and the intra-enrollment correlation of ratios."""
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    status = r.col("course_section_enrollment", "role_status", "text", "t")
    role = r.col("course_section_enrollment", "role", "text", "t")
    listed = ", ".join("'" + s.replace("'", "''") + "'" for s in withdrawn) or "''"
    sql = f"""
WITH res AS (
  SELECT t.{q('person_id')} AS pid, a.{q('course_offering_id')} AS off, {score} / {points} AS x
  FROM {r.rel('learner_activity_result')} AS t JOIN {r.rel('learner_activity')} AS a
    ON t.{q('learner_activity_id')} = a.{q('learner_activity_id')}
  WHERE {score} IS NOT NULL AND {points} > 0),
enr AS (
  SELECT t.{q('person_id')} AS pid, s.{q('course_offering_id')} AS off,
    MAX(CASE WHEN {status} IN ({listed}) THEN 1.0 ELSE 0.0 END) AS w
  FROM {r.rel('course_section_enrollment')} AS t JOIN {r.rel('course_section')} AS s
    ON t.{q('course_section_id')} = s.{q('course_section_id')}
  WHERE {role} = 'Student' GROUP BY 1, 2),
per AS (SELECT pid, off, AVG(x) AS mx, COUNT(*) AS k, SUM(x * x) AS sxx FROM res GROUP BY 1, 2),
j AS (SELECT enr.w, per.mx, per.k, per.sxx FROM enr JOIN per
      ON enr.pid = per.pid AND enr.off = per.off),
ranked AS (SELECT w, RANK() OVER (ORDER BY mx) + (COUNT(*) OVER (PARTITION BY mx) - 1) / 2.0
           AS rk FROM j)
SELECT (SELECT COUNT(*) FROM j) AS n, (SELECT AVG(w) FROM j) AS withdrawn,
  (SELECT AVG(k) FROM j) AS results, (SELECT CORR(w, rk) FROM ranked) AS spearman,
  (SELECT SUM(k) FROM j) AS total, (SELECT SUM(mx * k) FROM j) AS sx,
  (SELECT SUM(sxx) FROM j) AS sxx, (SELECT SUM(sxx - k * mx * mx) FROM j) AS within"""
    row = r.rows(sql)[0]
    if not row["n"]:
        return None
    return {"n": int(row["n"]), "withdrawn": float(row["withdrawn"]),
            "results": float(row["results"]), "spearman": _float(row["spearman"]),
            "icc": _icc(row)}


def _float(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else float(value)


def _icc(row: dict) -> float | None:
    """1 − within-enrollment variance / total variance of the score ratios."""
    total, enrollments = float(row["total"] or 0), int(row["n"])
    if total - enrollments < 2:
        return None
    mean = float(row["sx"]) / total
    variance = float(row["sxx"]) / total - mean * mean
    if variance <= 0:
        return None
    within = float(row["within"]) / (total - enrollments)
    return 1.0 - within / variance


def withdrawal_strata(p, withdrawn: list[str]) -> list[tuple[float, float]]:
    """(withdrawn share, weight) of students per cell of the learned role_status dependency
    (the generator draws each cell's share, so the simulation must too: withdrawal that varies
    by course, independently of scores, dilutes the score tie in both)."""
    given, counts = getattr(p, "learned", {}).get(
        ("course_section_enrollment", "role_status"), ([], {}))
    if "role" not in given:
        return []
    at = given.index("role")
    cells: dict[tuple, list[float]] = {}
    for key, count in counts.items():
        if key[at] != "Student" or None in key:
            continue
        weight = float(getattr(count, "rows", count))
        cell = cells.setdefault(key[:-1], [0.0, 0.0])
        cell[0] += weight if key[-1] in withdrawn else 0.0
        cell[1] += weight
    return [(w / n, n) for w, n in cells.values() if n > 0]


def due_fractions(profile: dict):
    """u ↦ an assignment's due date as a fraction of its term (the profile's quantiles), or
    None when the profile does not store it that way."""
    spec = profile["tables"]["learner_activity"]["columns"].get("due_date", {})
    if spec.get("unit") != "fraction_of_term" or spec.get("kind") != "continuous":
        return None
    return _piecewise(spec, lambda u: u)


def _piecewise(spec: dict, to_probability):
    points = sorted((float(q), float(v)) for q, v in spec.get("quantiles", {}).items())
    if len(points) < 2:
        return None
    probs = [0.0, *(q for q, _ in points), 1.0]
    values = [spec.get("min", points[0][1]), *(v for _, v in points),
              spec.get("max", points[-1][1])]
    return lambda x: np.interp(to_probability(x), probs, values)


def ratio_transform(profile: dict):
    """z ↦ score ratio through the profile's published_score quantiles (piecewise linear, as
    the generator draws it), so the simulation sees the same ties and bounds (scores capped at
    full marks) that weaken the source's correlations."""
    spec = profile["tables"]["learner_activity_result"]["columns"]["published_score"]
    transform = _piecewise(spec, special.ndtr) if spec.get("kind") == "continuous" else None
    return transform or (lambda z: z)


class Simulation:
    """The generator's gradebook in miniature, on fixed random numbers (so each statistic is
    a smooth, monotone function of the parameter, solved by bisection)."""

    def __init__(self, results: float, transform, due=None):
        rng = np.random.default_rng(20_261_130)
        self.m = max(int(round(results)), 2)
        self.latent = rng.standard_normal(_SIMULATED)
        self.own = rng.standard_normal(_SIMULATED)
        self.noise = rng.standard_normal((_SIMULATED, self.m))
        # a withdrawn enrollment keeps only the work due before its withdrawal (10–70 % of
        # the term); one with nothing graded drops out of the statistic, as in the source
        withdrawal = rng.uniform(0.1, 0.7, _SIMULATED)
        due_at = (due or (lambda u: u))(rng.uniform(size=(_SIMULATED, self.m)))
        self.before = due_at < withdrawal[:, None]
        self.transform = transform
        self.other = rng.standard_normal(_SIMULATED)  # a person's part apart from this unit
        self.label_noise = rng.standard_normal(_SIMULATED)

    def label_rho(self, target: float, shares: list[float], score_rho: float,
                  level: float = 1.0) -> float:
        """The copula correlation of a label (values ordered from the lowest mean score up,
        with these shares) whose simulated Spearman with the mean score is `target`; `level`
        is the label latent's share of the scores' latent (1 for an enrollment's label, the
        student share for a person's)."""
        cuts = np.cumsum(shares)[:-1] / sum(shares)
        ranked = stats.rankdata(self.ratios(score_rho).mean(axis=1))  # ranked once
        own = math.sqrt(level) * self.latent + math.sqrt(1 - level) * self.other

        def spearman(rho: float) -> float:
            u = special.ndtr(rho * own + math.sqrt(1 - rho * rho) * self.label_noise)
            return _pearson(ranked, _category_ranks(np.searchsorted(cuts, u), len(shares)))
        return _solve(spearman, target, -_RHO_MAX, _RHO_MAX)

    def ratios(self, score_rho: float) -> np.ndarray:
        z = score_rho * self.latent[:, None] + math.sqrt(1 - score_rho ** 2) * self.noise
        return self.transform(z)

    def score_rho(self, icc: float) -> float:
        """The score_rho whose simulated intra-enrollment correlation of ratios is `icc`."""
        def simulated(rho: float) -> float:
            x = self.ratios(rho)
            within = x.var(axis=1, ddof=1).mean()
            return 1.0 - within / x.var()
        return _solve(simulated, icc, 0.05, _RHO_MAX)

    def withdrawal_rho(self, target: float, strata: list[tuple[float, float]],
                       score_rho: float) -> float:
        """The withdrawal_rho whose simulated Spearman(mean score, withdrawn) is `target`;
        `strata` are (withdrawn share, weight) of the cells the generator draws from."""
        shares = np.array([s for s, _ in strata])
        weights = np.array([w for _, w in strata])
        which = np.searchsorted(np.cumsum(weights / weights.sum()),
                                (np.arange(_SIMULATED) + 0.5) / _SIMULATED)
        cut = special.ndtri(np.clip(shares[np.minimum(which, len(shares) - 1)], 1e-6,
                                    1 - 1e-6))
        ratios = self.ratios(score_rho)

        def spearman(rho: float) -> float:
            out = rho * self.latent + math.sqrt(1 - rho * rho) * self.own < cut
            mask = np.where(out[:, None], self.before, True)
            keep = mask.sum(axis=1)
            scored = keep > 0
            mean = (ratios * mask).sum(axis=1)[scored] / keep[scored]
            return -float(stats.spearmanr(mean, out[scored]).statistic)
        return _solve(spearman, -target, -_RHO_MAX, _RHO_MAX)


def _category_ranks(codes: np.ndarray, n: int) -> np.ndarray:
    """Average ranks of category codes (ties share the mean of their ranks)."""
    counts = np.bincount(codes, minlength=n).astype(float)
    below = np.concatenate([[0.0], np.cumsum(counts)[:-1]])
    return (below + (counts + 1) / 2)[codes]


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    # elementwise sums, not BLAS dot products: no thread pool to wake on a busy machine
    x, y = x - x.mean(), y - y.mean()
    scale = math.sqrt(float(np.sum(x * x)) * float(np.sum(y * y)))
    return float(np.sum(x * y)) / scale if scale > 0 else 0.0


def _solve(function, target: float, lo: float, hi: float, steps: int = 24) -> float:
    """x in [lo, hi] with function(x) = target, for an increasing function (clamped)."""
    if target <= function(lo):
        return lo
    if target >= function(hi):
        return hi
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if function(mid) < target else (lo, mid)
    return (lo + hi) / 2
