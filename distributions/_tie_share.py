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
from dataclasses import dataclass

import numpy as np
from scipy import special

from distributions._engagement import Simulation, solve
from distributions._estimators import Missing
from distributions._tie_chain import leaf, shares, student_statuses
from pipeline.errors import SourceError

PATH = "/engagement/student_share"
CAP = 2  # enrollments per person under ε (public): bounds a person's sums
_SHARE_MAX = 0.95
_SIMULATED = 40_000
_NOISE_SD_MAX = 0.1  # as for the labels' ties: a noisier correlation keeps the default
_PEOPLE = 20_000  # people in the label simulation (each with several enrollments)
_ENROLLMENTS_MAX = 6  # beyond it a person's mean hardly changes: memory stays bounded
_ACTIVITIES_MAX = 40  # activities per simulated course, likewise


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
    icc = pair_correlation(sums)
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


def pair_correlation(s: dict) -> float | None:
    """The pairwise correlation of the values of a person's units, from their totals."""
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
    """Each scored student enrollment's mean score ratio (clipped to [0, 1]), then the
    per-person totals of `person_sums_sql`."""
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    role = r.col("course_section_enrollment", "role", "text", "e")
    return person_sums_sql(f"""
WITH res AS (
  SELECT t.{q('person_id')} AS pid, a.{q('course_offering_id')} AS off,
    LEAST(GREATEST({score} / {points}, 0), 1) AS x
  FROM {r.rel('learner_activity_result')} AS t JOIN {r.rel('learner_activity')} AS a
    ON t.{q('learner_activity_id')} = a.{q('learner_activity_id')}
  WHERE {score} IS NOT NULL AND {points} > 0),
enr AS (SELECT DISTINCT e.{q('person_id')} AS pid, s.{q('course_offering_id')} AS off
  FROM {r.rel('course_section_enrollment')} AS e JOIN {r.rel('course_section')} AS s
    ON e.{q('course_section_id')} = s.{q('course_section_id')} WHERE {role} = 'Student')
SELECT res.pid, res.off, AVG(res.x) AS x
  FROM res JOIN enr ON res.pid = enr.pid AND res.off = enr.off GROUP BY res.pid, res.off""",
                           cap)


def person_sums_sql(values: str, cap: int | None) -> str:
    """From `values` (SELECT pid, off, x: one value in [0, 1] per unit of a person), the
    totals `pair_correlation` reads: n, Σx, Σx², Σ n(n−1), Σ_{i≠j} x_i·x_j, Σ (n−1)·Σx and
    the people with two units or more — over at most `cap` units per person (the first by
    `off`). Values in ten-thousandths, summed as integers: the same whatever order the
    engine adds in, and far from overflowing."""
    kept = f"WHERE k <= {cap}" if cap else ""
    return f"""
WITH v AS ({values}),
ranked AS (SELECT pid, CAST(ROUND(x * 10000) AS BIGINT) AS x,
  ROW_NUMBER() OVER (PARTITION BY pid ORDER BY off) AS k FROM v),
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
    `person_engagement`), the statistic the person's mean score ratio over their graded
    results. Which results are graded follows the profile's gradebook (`Graded`): the less
    engaged withdraw and miss more work, so a person's weaker enrollments weigh less in
    their mean score than in their mean engagement. Left out, the simulation overstated how
    closely a band drawn on the mean engagement follows the mean score, the more so the
    less a student's enrollments share (planted withdrawal source, share 0.20: imd_band's
    Spearman 0.467 generated vs 0.570 in the source)."""

    def __init__(self, results: float, transform, per_person: float, share: float,
                 graded: Graded | None = None, activities: dict | None = None):
        super().__init__(results, transform)
        rng = np.random.default_rng(20_261_202)
        most = min(max(math.ceil(per_person), 1), _ENROLLMENTS_MAX)
        fewer = min(max(math.floor(per_person), 1), most)
        counts = np.where(rng.uniform(size=_PEOPLE) < per_person - fewer, most, fewer)
        self.valid = np.arange(most)[None, :] < counts[:, None]
        student = rng.standard_normal(_PEOPLE)[:, None]
        self.enrollments = math.sqrt(share) * student + math.sqrt(1 - share) * \
            rng.standard_normal((_PEOPLE, most))
        # each enrollment its course's activities: a person's mean score weighs a course by
        # its work, their mean engagement does not (the same m for all overstated the
        # tie: planted withdrawal source, 2-12 per course, Spearman 0.541 vs 0.522)
        sizes = activity_counts(activities, (_PEOPLE, most), rng)
        self.m = self.m if sizes is None else int(sizes.max())
        self.result_noise = rng.standard_normal((_PEOPLE, most, self.m))
        self.graded = (graded or Graded()).mask(self.enrollments, self.m, rng) & \
            self.valid[:, :, None]
        if sizes is not None:
            self.graded &= np.arange(self.m)[None, None, :] < sizes[:, :, None]
        mean = (self.enrollments * self.valid).sum(axis=1) / counts
        self.latent = mean / np.sqrt(share + (1 - share) / counts)
        self.other = rng.standard_normal(_PEOPLE)
        self.label_noise = rng.standard_normal(_PEOPLE)

    def ratios(self, score_rho: float) -> np.ndarray:
        """Each person's mean ratio over their graded results, as a one-column array (a
        person with none graded: the mean of all, as if graded; rare)."""
        z = score_rho * self.enrollments[:, :, None] + \
            math.sqrt(1 - score_rho ** 2) * self.result_noise
        x = self.transform(z)
        kept = self.graded.sum(axis=(1, 2))
        total = np.where(self.graded, x, 0.0).sum(axis=(1, 2))
        every = (x * self.valid[:, :, None]).sum(axis=(1, 2)) / (self.valid.sum(axis=1)
                                                                  * self.m)
        return np.where(kept > 0, total / np.maximum(kept, 1), every)[:, None]


def activity_counts(spec: dict | None, shape: tuple, rng) -> np.ndarray | None:
    """Activities of each simulated enrollment's course, drawn from the profile's
    activities per offering (`learner_activity.rows.per_grandparent`) where it is a
    categorical of counts (at most _ACTIVITIES_MAX); None otherwise (every course alike)."""
    if not spec or spec.get("kind") != "categorical":
        return None
    values = np.array([float(i["value"]) for i in spec["values"]])
    p = np.array([float(i["p"]) for i in spec["values"]])
    if not len(values) or p.sum() <= 0:
        return None
    drawn = rng.choice(values, size=shape, p=p / p.sum())
    return np.clip(np.round(drawn), 1, _ACTIVITIES_MAX).astype(np.int64)


@dataclass
class Graded:
    """Which simulated results are graded, as the generator decides: a student withdraws
    when ρw·latent + noise falls below the withdrawn share, a withdrawn enrollment keeps
    each result graded with probability `withdrawn_kept`, the others miss work where
    ρs·latent + noise falls below their unsubmitted share (defaults: everything graded)."""

    withdrawn: float = 0.0
    withdrawal_rho: float = 0.0
    withdrawn_kept: float = 1.0
    unsubmitted: float = 0.0
    submission_rho: float = 0.0

    def mask(self, latent: np.ndarray, m: int, rng) -> np.ndarray:
        rw, rs = self.withdrawal_rho, self.submission_rho
        out = rw * latent + math.sqrt(1 - rw * rw) * rng.standard_normal(latent.shape) < \
            special.ndtri(np.clip(self.withdrawn, 1e-9, 1 - 1e-9))
        submit = rs * latent[:, :, None] + math.sqrt(1 - rs * rs) * \
            rng.standard_normal((*latent.shape, m))
        missing = submit < special.ndtri(np.clip(self.unsubmitted, 1e-9, 1 - 1e-9))
        at_random = rng.uniform(size=(*latent.shape, m)) < self.withdrawn_kept
        return np.where(out[:, :, None], at_random, ~missing)


def graded_model(profile: dict) -> Graded:
    """The gradebook's withdrawal and missing work as the profile gives them."""
    engagement = profile["engagement"]
    columns = profile["tables"]["course_section_enrollment"]["columns"]
    statuses = student_statuses(columns["role_status"]) if "role_status" in columns else {}
    total = sum(statuses.values()) or 1.0
    withdrawn = sum(p for v, p in statuses.items()
                    if v in engagement["withdrawn_role_statuses"]) / total
    kept = engagement.get("results_kept", {})
    status = shares(leaf(profile["tables"]["learner_activity_result"]["columns"].get(
        "grading_status", {"kind": "categorical", "values": []})))
    overall = status.get("unsubmitted", 0.0) / (sum(status.values()) or 1.0)
    enrolled = kept.get("enrolled", {}).get("unsubmitted", overall)
    left = kept.get("withdrawn", {})
    # the withdrawn's graded share of the rows the others have: rows kept, then submitted
    # (without results_kept, ~60 % of their work falls after they left: the default window)
    graded_w = (1 - left.get("none", 0.0)) * left.get("share", 1.0) * (
        1 - left.get("unsubmitted", min(overall + 0.6, 1.0)))
    return Graded(withdrawn, float(engagement.get("withdrawal_rho", 0.0)), graded_w,
                  enrolled, float(engagement["submission_rho"]))
