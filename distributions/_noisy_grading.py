"""The grading scheme and the gradebook rules under ε, from noised person-weighted counts.

Without ε a letter's cut-off is its k-th lowest final score (an order statistic: one
student's score is published) and the gradebook rules are majority votes over exact counts.
Under `--epsilon`:

- `/grading_scheme`: one query of person-weighted sums (each person's grades weigh 1 in
  total): per letter its weight and its weight × score / 100, and the final scores'
  histogram over a public grid (whole points 0..100, scores clipped to it; every grid cell
  noised, empty ones too). A person moves each of the three parts by at most 1: L1
  sensitivity 3. Letters whose noised weight is below 2 × the scale (or 1) are left out;
  the rest are ordered as the default scheme orders them (a public convention) or, for a
  letter it does not name, by their noised mean score, and a letter's cut-off is the pooled
  noised score distribution's quantile at the share of the letters below it (a scheme maps
  higher scores to higher letters). All of it is post-processing of the one query.
- `/gradebook/withdrawn_scored`: (people with a withdrawn grade, Σ over them of the share of
  their withdrawn grades that carry a final score); `/gradebook/current_is_final`: (people
  with both scores, Σ over them of the share whose current score differs from the final).
  A person adds 1 to a count and at most 1 to a sum: L1 sensitivity 2 each. The rule is the
  majority (or the 1 % threshold) of the noised ratio, decided only when the noised count of
  people reaches max(k, 2 × the scale); otherwise the default rule stays.
"""

from __future__ import annotations

import numpy as np

from distributions._estimators import WEIGHT_UNIT

GRID = tuple(range(101))  # whole points of a percent score: public
SCHEME = "/grading_scheme"


def noised_scheme(p, grades: str) -> list[dict] | None:
    """The grading scheme from `grades` (SELECT grade, s, pid per course grade), or None when
    fewer than two letters survive the noise."""
    # weights in whole billionths summed as integers: the same whatever order the engine adds
    rows = p.reader.rows(
        f"SELECT grade, LEAST(GREATEST(CAST(FLOOR(s) AS BIGINT), 0), 100) AS b, SUM(w) AS w "
        f"FROM (SELECT grade, s, CAST(FLOOR({WEIGHT_UNIT} / COUNT(*) OVER (PARTITION BY pid))"
        f" AS BIGINT) AS w FROM ({grades}) AS g WHERE grade IS NOT NULL AND s IS NOT NULL) "
        "AS x GROUP BY 1, 2")
    letters = sorted({str(row["grade"]) for row in rows})
    exact = {**{("n", g): 0.0 for g in letters}, **{("s", g): 0.0 for g in letters},
             **{("h", b): 0.0 for b in GRID}}  # every cell of the public grid, empty or not
    for row in rows:
        w, g, b = int(row["w"]) / WEIGHT_UNIT, str(row["grade"]), int(row["b"])
        exact[("n", g)] += w
        exact[("s", g)] += w * b / 100  # a person's terms here sum to ≤ 1 too
        exact[("h", b)] += w
    # a person's weight 1 is counted three times (letters, their scores, the grid): L1 3
    noised = p.guard.noised_sums(SCHEME, exact, 3.0) or {}  # not clamped: sums unbiased
    query = p.guard.budget.queries.get(SCHEME)
    # a letter's cut-off is a quantile of the pooled scores, not its own lowest score, so no
    # few people's extreme is published: a letter needs only to stand above the noise
    threshold = max(1.0, 2.0 * (query.scale if query else 0.0))
    totals = {g: noised.get(("n", g), 0.0) for g in letters}
    means = {g: 100 * noised.get(("s", g), 0.0) / totals[g] for g in letters if totals[g] > 0}
    hist = np.array([noised.get(("h", b), 0.0) for b in GRID])
    kept = [g for g in letters if totals[g] >= threshold]
    # letters the default scheme names keep its order (a public convention: A above A-);
    # others are placed by their noised mean score
    known = [item["grade"] for item in reversed(p.default.get("grading_scheme", []))]
    if all(g in known for g in kept):
        return _scheme(sorted(kept, key=known.index), totals, hist)
    return _scheme(sorted(kept, key=lambda g: (means[g], g)), totals, hist)


def _scheme(order: list[str], totals: dict, hist: np.ndarray) -> list[dict] | None:
    """Cut-offs for letters `order` (lowest first): each at the pooled noised score CDF's
    quantile at the share of the letters below it."""
    pooled = np.maximum.accumulate(np.maximum(np.cumsum(hist), 0.0))
    if len(order) < 2 or pooled[-1] <= 0:
        return None
    cdf = np.concatenate([[0.0], pooled / pooled[-1]])  # at 0, 1, .., 101 points
    cdf = cdf + np.arange(len(cdf)) * 1e-12  # strictly increasing for interpolation
    whole = sum(totals[g] for g in order)
    below, scheme = 0.0, []
    for g in order:
        cut = float(np.interp(below, cdf, np.arange(len(cdf), dtype=float)))
        scheme.append({"grade": g, "min_score": float(int(cut))})
        below += totals[g] / whole
    scheme.reverse()  # highest letter first, as the profile lists them
    for higher, lower in zip(scheme, scheme[1:], strict=False):  # strictly decreasing
        lower["min_score"] = min(lower["min_score"], higher["min_score"] - 1)
    scheme[-1]["min_score"] = 0.0  # the lowest letter takes every score below the others
    return scheme if all(s["min_score"] >= 0 for s in scheme) else None


def noised_gradebook(p, joined: str) -> dict:
    """Noised (w, ws, b, d) — people with a withdrawn grade, their summed share scored,
    people with both scores, their summed share differing — from `joined` (SELECT f, c, w,
    pid per course grade: final and current score, withdrawn)."""
    row = p.reader.rows(
        "SELECT SUM(CASE WHEN nw > 0 THEN 1 ELSE 0 END) AS w, "
        f"SUM(CASE WHEN nw > 0 THEN {_billionths('ws * 1.0 / nw')} ELSE 0 END) AS ws, "
        "SUM(CASE WHEN nb > 0 THEN 1 ELSE 0 END) AS b, "
        f"SUM(CASE WHEN nb > 0 THEN {_billionths('d * 1.0 / nb')} ELSE 0 END) AS d "
        "FROM (SELECT pid, "
        "SUM(CASE WHEN w THEN 1 ELSE 0 END) AS nw, "
        "SUM(CASE WHEN w AND f IS NOT NULL THEN 1 ELSE 0 END) AS ws, "
        "SUM(CASE WHEN c IS NOT NULL AND f IS NOT NULL THEN 1 ELSE 0 END) AS nb, "
        "SUM(CASE WHEN ABS(c - f) > 0.005 THEN 1 ELSE 0 END) AS d "
        f"FROM ({joined}) AS g GROUP BY pid) AS per")[0]
    scored = p.guard.noised_sums("/gradebook/withdrawn_scored", {
        "people": float(row["w"] or 0), "scored": (row["ws"] or 0) / WEIGHT_UNIT}, 2.0)
    current = p.guard.noised_sums("/gradebook/current_is_final", {
        "people": float(row["b"] or 0), "differ": (row["d"] or 0) / WEIGHT_UNIT}, 2.0)
    scored, current = _cleared(p, "/gradebook/withdrawn_scored", scored), \
        _cleared(p, "/gradebook/current_is_final", current)
    return {"w": scored["people"], "ws": scored.get("scored", 0.0),
            "b": current["people"], "d": current.get("differ", 0.0)}


def _cleared(p, path: str, sums: dict | None) -> dict:
    """The noised sums, with no people when their noised count is below max(k, 2 × the
    scale): too few for the rule to say more than the noise (the default rule stays)."""
    query = p.guard.budget.queries.get(path)
    threshold = max(float(p.guard.k), 2.0 * (query.scale if query else 0.0))
    if not sums or sums["people"] < threshold:
        return {"people": 0.0}
    return sums


def _billionths(expr: str) -> str:
    """`expr` in whole billionths: summed as integers, the same in any order."""
    return f"CAST(ROUND(({expr}) * {WEIGHT_UNIT}) AS BIGINT)"
