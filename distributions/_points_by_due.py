"""How an assignment's points follow when in its term it falls due: the profile's
`tables.learner_activity.links.points_possible` = {with: due_date, spearman}, the Spearman
correlation between points possible and the due date over the source's dated activities,
both ranked within their term (ties at their mean rank).

A result's score is its ratio × its assignment's points, so whatever ties points to the due
date ties scores to the response and graded dates. Drawn apart, that tie was chance: on the
hand-built `events` source (2,000 students) Spearman(score, response date) was +0.096 in the
source (points vs due fraction +0.15 over its 74 assignments, the ratios themselves flat:
−0.003) and −0.073 generated (its points −0.07 against the due date), spearman_diff 0.17 for
both score × date pairs. The generator draws each term's points linked to its due dates at
this Spearman (pipeline/generate/_links.py).

Activities are institutional rows (no person behind an assignment's points or due date): the
figure is published as it is, not k-checked or noised under ε, as the due fractions are
(_work_dates.py); the privacy manifest lists it as institutional.
"""

from __future__ import annotations

import math

from distributions._estimators import mean_rank

ACTIVITY = "learner_activity"
PATH = f"/tables/{ACTIVITY}/links/points_possible"
MIN_ACTIVITIES = 10  # fewer dated assignments with points: no figure worth drawing to


def points_by_due(p, profile: dict, frame, fraction) -> None:
    """`links.points_possible` where the source has dated activities with points and the
    profile draws both columns (due_date as a fraction of the term); `frame` and `fraction`
    are _work_dates' SQL builders (activities with their term; the due fraction)."""
    spec = profile["tables"][ACTIVITY]
    due = spec["columns"].get("due_date", {})
    due = due.get("otherwise", due) if due.get("kind") == "conditional" else due
    if not p.reader.has(ACTIVITY, "points_possible") or "points_possible" not in \
            spec["columns"] or due.get("unit") != "fraction_of_term":
        return
    points = p.reader.col(ACTIVITY, "points_possible", "number", "a")
    # a term is its (begin, end): ranks within it, so terms that differ in their points as a
    # whole (a source's years) do not read as a trend over the term
    base = frame(p, f"{points} AS v, {fraction()} AS x, a.cs_begin AS tb, a.cs_end AS te")
    row = p.reader.rows(f"""WITH b AS (SELECT v, x, tb, te FROM ({base}) AS f
  WHERE v IS NOT NULL AND x IS NOT NULL),
ranked AS (SELECT {mean_rank("v", "tb, te")} AS rv, {mean_rank("x", "tb, te")} AS rx FROM b)
SELECT CORR(rv, rx) AS s, COUNT(*) AS n FROM ranked""")[0]
    if not row["n"] or row["n"] < MIN_ACTIVITIES or row["s"] is None or math.isnan(row["s"]):
        return
    spearman = round(float(row["s"]), 4)
    spec["links"] = {"points_possible": {"with": "due_date", "spearman": spearman}}
    p.notes.append(f"{PATH}: points follow the due fraction of the term at Spearman "
                   f"{spearman:+.4f} (within terms) over {int(row['n']):,} dated activities")

