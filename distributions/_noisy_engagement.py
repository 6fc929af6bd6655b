"""The gradebook calibration's source statistics under ε: noised sufficient statistics of one
student enrollment per person, each bounded, so that a person's effect on them is bounded.

Without ε, `_engagement.source_statistics` reads every student enrollment; a person with many
enrollments moves those statistics without bound. Here each person stands for one enrollment
(their first offering by key) with its score ratios clipped to [0, 1] and its result count to
RESULTS_CAP, and two count queries of the budget are released:

- `/engagement/withdrawal_rho`: (N people, W withdrawn, T = Σ over the withdrawn of their
  mid-rank of mean score, scaled to (0, 1)). Adding or removing a person moves N and W by at
  most 1 and T by less than 2: the person's own term is at most 1, and every other rank
  (r − ½)/n moves by at most 1/(n + 1) when n changes by one (to (r − ½)/(n + 1) or
  (r + ½)/(n + 1)), so the n others together by less than 1. L1 sensitivity 4.
- `/engagement/score_rho`: (N, Σ results / RESULTS_CAP, Σ mean ratio, Σ mean ratio², Σ
  within-enrollment variance of ratios) — each person's terms in [0, 1] (a variance of values
  in [0, 1] is at most ½ with the n − 1 divisor). L1 sensitivity 5.

The Spearman correlation of withdrawal and mean score, the withdrawn share, the results per
enrollment and the intra-enrollment correlation are post-processing of these noised sums.
"""

from __future__ import annotations

RESULTS_CAP = 100  # results per enrollment counted (public): bounds a person's Σ results
WITHDRAWAL, SCORE = "/engagement/withdrawal_rho", "/engagement/score_rho"


def noised_statistics(p, enrollments: str) -> dict | None:
    """`source_statistics` from noised sums of one enrollment per person; `enrollments`
    selects pid, off, w (withdrawn) per student enrollment. None if none is scored."""
    row = p.reader.rows(_per_person_sql(p, enrollments))[0]
    if not row["n"]:
        return None
    ties = _noised(p, WITHDRAWAL, {"n": row["n"], "w": row["w"], "t": row["t"]}, 4.0)
    spread = _noised(p, SCORE, {"n": row["n"], "k": row["k"], "mx": row["mx"],
                                "mx2": row["mx2"], "v": row["v"]}, 5.0)
    n = spread["n"]
    if n < 2 * p.guard.k:
        return {"n": int(max(n, 0))}
    return {"n": int(n), "withdrawn": min(max(ties["w"] / ties["n"], 0.0), 1.0),
            "results": min(max(spread["k"] * RESULTS_CAP / n, 2.0), RESULTS_CAP),
            "spearman": _spearman(ties), "icc": _icc(spread, RESULTS_CAP)}


def _noised(p, path: str, sums: dict, sensitivity: float) -> dict:
    """The sums with Laplace noise of this query's share of ε (person-level sensitivity)."""
    exact = {name: float(value or 0.0) for name, value in sums.items()}
    noised = p.guard.budget.noise(path, exact, "person", sensitivity)
    if noised is None:  # the plan gave it no share: nothing is released
        return {name: 0.0 for name in exact}
    if not p.guard.budget.planning:
        scale = p.guard.budget.queries[path].scale
        p.guard.record(path, "noised", f"Laplace noise, scale {scale:.4g} (sums of one "
                       "bounded enrollment per person)", len(noised))
    return noised


def _spearman(s: dict) -> float | None:
    """corr(withdrawn, rank/n) from (N, W, T): ranks scaled to (0, 1) have mean ½ and
    variance 1/12 (ties aside)."""
    n, w = s["n"], s["w"]
    if n <= 1 or not 0 < w < n:
        return None
    share = w / n
    cov = s["t"] / n - share / 2
    return max(min(cov / (share * (1 - share) / 12) ** 0.5, 1.0), -1.0)


def _icc(s: dict, cap: int) -> float | None:
    """1 − mean within-enrollment variance / variance of all ratios, that total from the
    variance of the enrollments' means plus the within part their means average away."""
    n = s["n"]
    results = s["k"] * cap / n
    if n <= 1 or results < 2:
        return None
    mean = s["mx"] / n
    within = max(s["v"] / n, 0.0)
    total = max(s["mx2"] / n - mean * mean, 0.0) + within * (1 - 1 / results)
    if total <= 0:
        return None
    return min(max(1.0 - within / total, 0.0), 0.99)


def _per_person_sql(p, enrollments: str) -> str:
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    # ratios in millionths and the outer sums in billionths, summed as integers: the same
    # whatever order the engine adds in (a float sum's last bits are not)
    return f"""
WITH res AS (
  SELECT t.{q('person_id')} AS pid, a.{q('course_offering_id')} AS off,
    CAST(ROUND(LEAST(GREATEST({score} / {points}, 0), 1) * 1000000) AS BIGINT) AS x
  FROM {r.rel('learner_activity_result')} AS t JOIN {r.rel('learner_activity')} AS a
    ON t.{q('learner_activity_id')} = a.{q('learner_activity_id')}
  WHERE {score} IS NOT NULL AND {points} > 0),
enr AS ({enrollments}),
per AS (SELECT pid, off, SUM(x) / 1e6 / COUNT(*) AS mx, COUNT(*) AS k,
  CASE WHEN COUNT(*) > 1 THEN (SUM(x * x) - SUM(x) * SUM(x) / COUNT(*)) / 1e12
  / (COUNT(*) - 1) ELSE 0 END AS v FROM res GROUP BY 1, 2),
j AS (SELECT enr.pid, enr.off, enr.w, per.mx, per.k, per.v FROM enr JOIN per
      ON enr.pid = per.pid AND enr.off = per.off),
one AS (SELECT * FROM (SELECT j.*, ROW_NUMBER() OVER (PARTITION BY pid ORDER BY off) AS nth
  FROM j) AS numbered WHERE nth = 1),
ranked AS (SELECT w, mx, k, v, (RANK() OVER (ORDER BY mx)
  + (COUNT(*) OVER (PARTITION BY mx) - 1) / 2.0 - 0.5) / COUNT(*) OVER () AS u FROM one)
SELECT COUNT(*) AS n, SUM(w) AS w, {_fixed('w * u')} AS t,
  {_fixed(f'LEAST(k, {RESULTS_CAP}) * 1.0 / {RESULTS_CAP}')} AS k, {_fixed('mx')} AS mx,
  {_fixed('mx * mx')} AS mx2, {_fixed('v')} AS v FROM ranked"""


def _fixed(expr: str) -> str:
    """SUM of `expr` in whole billionths, back as a number."""
    return f"SUM(CAST(ROUND(({expr}) * 1e9) AS BIGINT)) / 1e9"
