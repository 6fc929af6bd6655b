"""Activity ↔ score under ε: the inputs of `engagement.activity_rho` from noised sums of one
bounded enrollment per person.

Without ε, `_activity._source_tie` reads every student enrollment's events and mean score; a
person with many enrollments or many events moves it without bound. Under `--epsilon` each
person stands for one enrollment (their first offering by key), its events clipped to
`EVENTS_PER_DAY` × the days the events cover (a public cap: the event store's extent in the
calendar is institutional) and its mean score ratio to [0, 1]. One count query of the budget,
`/engagement/activity_rho`, releases (n, Σ events / cap, Σ u·w), u and w the enrollment's
scaled mid-ranks of mean score and of events: a person moves n by 1, the events sum by at
most 1, their own u·w by at most 1 and each other's by at most 2/(n + 1) (the others' by
less than 2): L1 sensitivity 5. The Spearman correlation (12·E[u·w] − 3) and the mean events
are post-processing; when the noise's sd in the Spearman exceeds `MAX_ERROR`, nothing is
estimated (the default's activity_rho stays).

The engagement spread `events.engagement_sigma` (a within-offering moment estimate) has no
such bounded form whose signal survives the noise at these caps (each person's term is
events² / cap²): under ε the default's value is kept, with a note.
"""

from __future__ import annotations

from distributions._estimators import WEIGHT_UNIT, ranked_value
from distributions._noisy_ties import MAX_ERROR

EVENTS_PER_DAY = 10  # events of one enrollment counted per covered day (public cap)
PATH = "/engagement/activity_rho"


def noised_activity_tie(p, rates) -> tuple[float, float] | None:
    """(Spearman of events and mean score, mean events per enrollment) from noised sums, or
    None when too few people or too much noise; `rates` an EventRates of the profiler."""
    days = rates._rows("SELECT MAX(days) AS d FROM cov")[0]["d"]
    cap = EVENTS_PER_DAY * max(int(days or 1), 1)
    row = rates.per_enrollment(_select(p, cap))[0]
    noised = p.guard.noised_sums(PATH, {"n": float(row["n"] or 0),
                                        "x": int(row["x"] or 0) / WEIGHT_UNIT,
                                        "s": int(row["s"] or 0) / WEIGHT_UNIT}, 5.0)
    query = p.guard.budget.queries.get(PATH)
    scale = query.scale if query else 0.0
    if not noised or noised["n"] < max(2.0 * p.guard.k, 2.0 * scale):
        return None
    if 12 * 2 ** 0.5 * scale / noised["n"] > MAX_ERROR:
        return None
    spearman = max(min(12 * noised["s"] / noised["n"] - 3, 1.0), -1.0)
    return spearman, max(cap * noised["x"] / noised["n"], 0.0)


def _select(p, cap: int) -> str:
    """After the CTE `counts` (offering, person, x): n, Σ x / cap and Σ u·w in billionths."""
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    return f"""
res AS (SELECT t.{q('person_id')} AS person, a.{q('course_offering_id')} AS offering,
    LEAST(GREATEST(AVG({score} / {points}), 0), 1) AS mx
  FROM {r.rel('learner_activity_result')} AS t JOIN {r.rel('learner_activity')} AS a
    ON t.{q('learner_activity_id')} = a.{q('learner_activity_id')}
  WHERE {score} IS NOT NULL AND {points} > 0 GROUP BY 1, 2),
j AS (SELECT counts.person, counts.offering, LEAST(counts.x, {cap}) AS x, res.mx FROM counts
  JOIN res ON counts.person = res.person AND counts.offering = res.offering),
one AS (SELECT * FROM (SELECT j.*, ROW_NUMBER() OVER (PARTITION BY person ORDER BY offering)
  AS nth FROM j) AS numbered WHERE nth = 1),
rk AS (SELECT x, {_midrank('mx')} AS u, {_midrank('x')} AS w FROM one)
SELECT COUNT(*) AS n, SUM(CAST(ROUND(x * {WEIGHT_UNIT}.0 / {cap}) AS BIGINT)) AS x,
  SUM(CAST(ROUND(u * w * {WEIGHT_UNIT}) AS BIGINT)) AS s FROM rk"""


def _midrank(x: str) -> str:
    """The mid-rank of `x`, scaled to (0, 1)."""
    x = ranked_value(x)
    return (f"((RANK() OVER (ORDER BY {x}) + (COUNT(*) OVER (PARTITION BY {x}) - 1) / 2.0 "
            f"- 0.5) / COUNT(*) OVER ())")
