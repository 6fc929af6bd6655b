"""How much a student's enrollments share their engagement (`engagement.student_share`),
learned from the source instead of the default's 0.5.

The generator draws an enrollment's engagement as √s·(the student's part) + √(1−s)·(its own),
so two enrollments of one student correlate s, and their mean score ratios somewhat less (each
score's own noise). Here the source's pairwise intraclass correlation of a student's
enrollments' mean score ratios is measured from per-person sums, and s is the value for which
a simulation of the gradebook (the source's results per enrollment, the profile's score
quantiles, the calibrated score_rho) reproduces it. The default's 0.5 tied a student's courses
more closely than the hand-built sources do (pairwise ICC of mean scores: real-like source
−0.03 vs 0.39 generated; extra-columns source 0.23 vs 0.43), so a person's band, drawn on
their mean engagement, followed each enrollment's outcome too closely (final_result × band
Cramér's V +0.04 over the source's).

Per person, over their scored student enrollments (under ε the first CAP by offering key:
often two of one term, so a source whose students share more within a term reads higher
there), each enrollment's mean ratio x in [0, 1]: n, Σx, Σx², n(n−1), Σ_{i≠j} x_i·x_j and
(n−1)·Σx. Their totals give the mean μ, the variance Σx²/N − μ² and the pair covariance of
deviations from μ. Under ε the totals (and the count of people with two enrollments or more)
are one noised query: a person moves them by at most CAP, CAP, CAP, CAP(CAP−1) (three of
them) and 1; a correlation whose noise sd exceeds 0.1 keeps the default (noted).
"""

from __future__ import annotations

import math

import numpy as np

from distributions._engagement import Simulation, solve
from distributions._estimators import Missing
from pipeline.errors import SourceError

PATH = "/engagement/student_share"
CAP = 2  # enrollments per person under ε (public): bounds a person's sums
_SHARE_MAX = 0.95
_SIMULATED = 40_000
_NOISE_SD_MAX = 0.1  # as for the labels' ties: a noisier correlation keeps the default
_PEOPLE = 20_000  # people in the label simulation (each with several enrollments)
_ENROLLMENTS_MAX = 6  # beyond it a person's mean hardly changes: memory stays bounded


def student_share_part(p, profile: dict) -> None:
    """Set `engagement.student_share` from the source (notes say from what), or keep the
    default with a note when fewer than 2k people have two scored enrollments."""
    model = getattr(p, "engagement_model", None)
    if model is None:
        p.notes.append(f"{PATH}: kept the default (the source has no scores)")
        return
    try:
        sums = _sums(p)
    except (Missing, SourceError) as error:
        p.notes.append(f"{PATH}: kept the default ({error})")
        return
    icc = _icc(sums)
    if sums["m"] < 2 * p.guard.k or icc is None:
        p.notes.append(f"{PATH}: kept the default (fewer than 2k people with two scored "
                       "enrollments, or scores that do not vary)")
        return
    if p.guard.epsilon is not None and _noise_sd(p, sums) > _NOISE_SD_MAX:
        p.notes.append(f"{PATH}: kept the default (under epsilon the noised correlation's "
                       f"noise sd exceeds {_NOISE_SD_MAX}: too few people for its share)")
        return
    results, transform, score_rho = model
    share = simulated_share(icc, results, transform, score_rho)
    profile["engagement"]["student_share"] = round(share, 4)
    p.notes.append(f"{PATH}: {share:.4f} (source pairwise correlation of a student's "
                   f"enrollments' mean scores {icc:.4f}, {int(sums['m'])} people with two "
                   "or more)")


def _noise_sd(p, s: dict) -> float:
    """About how far the Laplace noise moves the correlation: each noised total's sd
    (scale·√2) through the covariance (cross, pair and mean terms) over the variance."""
    if p.guard.budget.planning or PATH not in p.guard.budget.queries:
        return 0.0 if p.guard.budget.planning else math.inf
    sd = p.guard.budget.queries[PATH].scale * math.sqrt(2)
    mean = s["x"] / s["n"]
    variance = s["xx"] / s["n"] - mean * mean
    return sd * (1 + 2 * abs(mean) + mean * mean) / s["pairs"] / max(variance, 1e-12)


def _icc(s: dict) -> float | None:
    if s["n"] <= 0 or s["pairs"] <= 0:
        return None
    mean = s["x"] / s["n"]
    variance = s["xx"] / s["n"] - mean * mean
    if variance <= 1e-12:
        return None
    # Σ_{i≠j} (x_i − μ)(x_j − μ) = Σ x_i·x_j − 2μ·Σ (n − 1)·Σx + μ²·Σ n(n − 1): people with
    # several enrollments may score apart from the rest (μ is everyone's)
    covariance = (s["cross_sum"] - 2 * mean * s["pair_x"]) / s["pairs"] + mean * mean
    return max(min(covariance / variance, 1.0), -1.0)


def _sums(p) -> dict:
    """The per-person totals (exact, or noised under ε)."""
    row = p.reader.rows(_sql(p, CAP if p.guard.epsilon is not None else None))[0]
    exact = {name: float(row[name] or 0.0)
             for name in ("n", "x", "xx", "pairs", "cross_sum", "pair_x", "m")}
    if p.guard.epsilon is None:
        return exact
    sensitivity = 3 * CAP + 3 * CAP * (CAP - 1) + 1
    noised = p.guard.budget.noise(PATH, exact, "person", sensitivity)
    if noised is None:  # the plan gave it no share: nothing released
        return dict.fromkeys(exact, 0.0)
    if not p.guard.budget.planning:
        scale = p.guard.budget.queries[PATH].scale
        p.guard.record(PATH, "noised", f"Laplace noise, scale {scale:.4g} (sums over at "
                       f"most {CAP} enrollments per person)", len(noised))
    return noised


def _sql(p, cap: int | None) -> str:
    """Per-person sums (each enrollment's mean ratio in ten-thousandths, summed as integers:
    the same whatever order the engine adds in, and far from overflowing), then their
    totals."""
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    role = r.col("course_section_enrollment", "role", "text", "e")
    kept = f"WHERE k <= {cap}" if cap else ""
    return f"""
WITH res AS (
  SELECT t.{q('person_id')} AS pid, a.{q('course_offering_id')} AS off,
    CAST(ROUND(LEAST(GREATEST({score} / {points}, 0), 1) * 10000) AS BIGINT) AS x
  FROM {r.rel('learner_activity_result')} AS t JOIN {r.rel('learner_activity')} AS a
    ON t.{q('learner_activity_id')} = a.{q('learner_activity_id')}
  WHERE {score} IS NOT NULL AND {points} > 0),
enr AS (SELECT DISTINCT e.{q('person_id')} AS pid, s.{q('course_offering_id')} AS off
  FROM {r.rel('course_section_enrollment')} AS e JOIN {r.rel('course_section')} AS s
    ON e.{q('course_section_id')} = s.{q('course_section_id')} WHERE {role} = 'Student'),
per AS (SELECT res.pid, res.off, CAST(ROUND(SUM(res.x) / COUNT(*)) AS BIGINT) AS x
  FROM res JOIN enr ON res.pid = enr.pid AND res.off = enr.off GROUP BY res.pid, res.off),
ranked AS (SELECT pid, x, ROW_NUMBER() OVER (PARTITION BY pid ORDER BY off) AS k FROM per),
person AS (SELECT COUNT(*) AS n, SUM(x) AS sx, SUM(x * x) AS sxx FROM ranked {kept}
  GROUP BY pid)
SELECT SUM(n) AS n, SUM(sx) / 1e4 AS x, SUM(sxx) / 1e8 AS xx, SUM(n * (n - 1)) AS pairs,
  (SUM(sx * sx) - SUM(sxx)) / 1e8 AS cross_sum, SUM((n - 1) * sx) / 1e4 AS pair_x,
  SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END) AS m FROM person"""


def simulated_share(icc: float, results: float, transform, score_rho: float) -> float:
    """The student share whose simulated pairwise correlation of two enrollments' mean
    score ratios is `icc` (fixed random numbers: a smooth, monotone function of it)."""
    rng = np.random.default_rng(20_261_201)
    m = max(int(round(results)), 1)
    student, own = rng.standard_normal(_SIMULATED), rng.standard_normal((2, _SIMULATED))
    noise = rng.standard_normal((2, _SIMULATED, m))

    def correlation(share: float) -> float:
        latent = math.sqrt(share) * student + math.sqrt(1 - share) * own
        z = score_rho * latent[:, :, None] + math.sqrt(1 - score_rho ** 2) * noise
        x = transform(z).mean(axis=2)
        return float(np.corrcoef(x[0], x[1])[0, 1])
    return solve(correlation, icc, 0.0, _SHARE_MAX, xtol=1e-4)


class PersonSimulation(Simulation):
    """The gradebook of people, for a person's label: each simulated person has their
    enrollments (`per_person` on average, at most _ENROLLMENTS_MAX), whose latents share
    `share`; the label latent is their standardized mean (the generator's
    `person_engagement`), the statistic the person's mean score ratio over all their
    results. One latent with all of a person's results instead left out the scores' spread
    between a person's enrollments, which capping at full marks does not average away: on
    the extra-columns source with the learned share (0.25) bands came out 0.02-0.04 weaker
    in Cramér's V than the source's."""

    def __init__(self, results: float, transform, per_person: float, share: float):
        super().__init__(results, transform)
        rng = np.random.default_rng(20_261_202)
        most = min(max(math.ceil(per_person), 1), _ENROLLMENTS_MAX)
        fewer = min(max(math.floor(per_person), 1), most)
        counts = np.where(rng.uniform(size=_PEOPLE) < per_person - fewer, most, fewer)
        self.valid = np.arange(most)[None, :] < counts[:, None]
        student = rng.standard_normal(_PEOPLE)[:, None]
        self.enrollments = math.sqrt(share) * student + math.sqrt(1 - share) * \
            rng.standard_normal((_PEOPLE, most))
        self.result_noise = rng.standard_normal((_PEOPLE, most, self.m))
        mean = (self.enrollments * self.valid).sum(axis=1) / counts
        self.latent = mean / np.sqrt(share + (1 - share) / counts)
        self.other = rng.standard_normal(_PEOPLE)
        self.label_noise = rng.standard_normal(_PEOPLE)

    def ratios(self, score_rho: float) -> np.ndarray:
        """Each person's mean ratio over all their results, as a one-column array."""
        z = score_rho * self.enrollments[:, :, None] + \
            math.sqrt(1 - score_rho ** 2) * self.result_noise
        per_enrollment = self.transform(z).sum(axis=2)
        total = (per_enrollment * self.valid).sum(axis=1)
        return (total / (self.valid.sum(axis=1) * self.m))[:, None]
