"""Activity ↔ score calibrated from the source: how closely an enrollment's event volume
follows the engagement that drives its scores (`engagement.activity_rho`).

The generator multiplies a student enrollment's event rates by exp(σ·a − σ²/2), with
a = ρa·latent + √(1−ρa²)·ε (σ = `events.engagement_sigma`, latent the one behind its
scores). ρa is the value for which a simulation of that model — Poisson counts with the
source's mean events per enrollment, scores from the gradebook simulation of
`_engagement.py` — gives the source's Spearman correlation between an enrollment's events
(over the days its events cover) and its mean score ratio. Both inputs are aggregates over
at least 2k student enrollments (not withdrawn), computed in the source engine.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from distributions._engagement import Simulation, pearson, solve
from distributions._estimators import Missing, mean_rank
from distributions._event_queries import has_events
from distributions._event_rates import EventRates
from distributions._noisy_activity import noised_activity_tie
from pipeline.errors import SourceError

_RHO_MAX = 0.995


def activity_part(p, profile: dict) -> None:
    """Learn `engagement.activity_rho` where the source has both events and scores."""
    model = getattr(p, "engagement_model", None)
    if model is None or not has_events(p.reader) or "events" not in profile:
        return
    try:
        # under ε: noised sums of one bounded enrollment per person (_noisy_activity)
        found = _source_tie(p) if p.guard.epsilon is None else \
            noised_activity_tie(p, EventRates(p))
    except (Missing, SourceError) as error:
        p.notes.append(f"/engagement/activity_rho: not estimated ({error})")
        return
    if found is None:
        p.notes.append("/engagement/activity_rho: not estimated (fewer than 2k student "
                       "enrollments with both events and scores" + (
                           ", or a noised Spearman too noisy to tell" if p.guard.epsilon
                           is not None else "") + ")")
        return
    spearman, mean_events = found
    results, transform, score_rho = model
    sigma = float(profile["events"]["engagement_sigma"])
    rho = activity_rho(Simulation(results, transform), spearman, mean_events, sigma, score_rho)
    profile["engagement"]["activity_rho"] = round(rho, 4)
    p.notes.append(f"/engagement/activity_rho: {rho:.3f} (source Spearman of events per "
                   f"enrollment and mean score {spearman:.3f}, {mean_events:.2f} events per "
                   "enrollment on average)")


def _source_tie(p) -> tuple[float, float] | None:
    """(Spearman of events and mean score ratio, mean events) over student enrollments."""
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    rows = EventRates(p).per_enrollment(f"""
res AS (SELECT t.{q('person_id')} AS person, a.{q('course_offering_id')} AS offering,
    AVG({score} / {points}) AS mx FROM {r.rel('learner_activity_result')} AS t
  JOIN {r.rel('learner_activity')} AS a ON t.{q('learner_activity_id')} =
    a.{q('learner_activity_id')} WHERE {score} IS NOT NULL AND {points} > 0 GROUP BY 1, 2),
j AS (SELECT counts.x, res.mx FROM counts JOIN res ON counts.person = res.person
  AND counts.offering = res.offering),
rk AS (SELECT x, {mean_rank("x")} AS rx, {mean_rank("mx")} AS rm FROM j)
SELECT CORR(rx, rm) AS s, AVG(x) AS m, COUNT(*) AS n FROM rk""")
    row = rows[0] if rows else None
    if row is None or not row["n"] or row["n"] < 2 * p.guard.k or row["s"] is None or \
            math.isnan(row["s"]):
        return None
    return float(row["s"]), float(row["m"])


def activity_rho(sim: Simulation, target: float, mean_events: float, sigma: float,
                 score_rho: float) -> float:
    """The ρa whose simulated Spearman(events, mean score) is `target`."""
    ranked = stats.rankdata(sim.ratios(score_rho).mean(axis=1))
    u = np.random.default_rng(20_261_201).uniform(size=len(ranked))  # fixed: deterministic

    def spearman(rho: float) -> float:
        a = rho * sim.latent + math.sqrt(1 - rho * rho) * sim.label_noise
        counts = stats.poisson.ppf(u, mean_events * np.exp(sigma * a - sigma * sigma / 2))
        return pearson(ranked, stats.rankdata(counts))
    return solve(spearman, target, -_RHO_MAX, _RHO_MAX)
