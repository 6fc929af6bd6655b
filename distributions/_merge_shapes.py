"""Learned shapes outside the tables' columns, pooled as mixtures of the institutions' own.

A shape stored as quantiles (when in the term the withdrawn stopped; when the k-th
assignment of a kind falls due) is pooled as the weighted mixture of the institutions' CDFs,
re-quantiled — never by averaging quantile by quantile, which makes one unimodal shape in
between (two institutions whose withdrawn leave at 20 % and at 80 % of the term would pool to
everyone leaving at 50 %). Each institution weighs by the people or rows behind its shape:
its withdrawn students, its activities of that kind and rank. Curves of factors (events by
weekday, by hour, by day in term) are averaged point by point by weight, which is the
mixture of the rates they scale; shares listed as `{…, p}` are pooled by weight.
"""

from __future__ import annotations

import json

from distributions._merge_cells import cell_weight
from distributions._mixture import continuous_mixture

MAX_POSITIONS = 16  # distributions/_due_positions.py: the last rank stands for those beyond
UNSUBMITTED = "unsubmitted"  # the grading_status of work with nothing submitted
# an institution's withdrawal parameters a merged term keeps as its own
WITHDRAWAL_KEYS = ("withdrawal_rho", "withdrawal_at", "results_kept")


def withdrawal_part(merge, engagement: dict, enrollments) -> None:
    """`withdrawal_at` as the mixture of the institutions', each weighed by its withdrawn
    students, and `withdrawal_rho` weighed alike; `results_kept` as the mean of theirs,
    weighed by the enrollments behind each share (`enrollments`: each institution's
    enrollment rows)."""
    withdrawn = [n * withdrawn_share(p) for p, n in zip(merge.profiles, enrollments,
                                                         strict=True)]
    parts = [(p["engagement"]["withdrawal_at"], w) for p, w in
             zip(merge.profiles, withdrawn, strict=True)
             if p.get("engagement", {}).get("withdrawal_at") and w > 0]
    if parts:
        engagement["withdrawal_at"] = _quantile_mixture(parts)
    # how far the withdrawn score below the others: a trait of the withdrawn, so weighed by
    # them (an institution with few withdrawals says little about who withdraws)
    rhos = [(p["engagement"]["withdrawal_rho"], w) for p, w in
            zip(merge.profiles, withdrawn, strict=True)
            if "withdrawal_rho" in p.get("engagement", {}) and w > 0]
    if rhos and sum(w for _, w in rhos) > 0:
        engagement["withdrawal_rho"] = round(sum(r * w for r, w in rhos)
                                             / sum(w for _, w in rhos), 6)
    kept = [(_results_kept(p), n, w) for p, n, w in
            zip(merge.profiles, enrollments, withdrawn, strict=True)]
    if any(p.get("engagement", {}).get("results_kept") for p in merge.profiles):
        engagement["results_kept"] = {
            "enrolled": _kept([(k["enrolled"], n - w) for k, n, w in kept]),
            "withdrawn": _kept([(k["withdrawn"], w) for k, _, w in kept])}


def _results_kept(profile: dict) -> dict:
    """An institution's `results_kept`; without one, a row for every activity, its
    unsubmitted share its results' (both classes alike)."""
    kept = profile.get("engagement", {}).get("results_kept") or {}
    unsubmitted = unsubmitted_share(profile)
    return {c: {"none": 0.0, "share": 1.0, "unsubmitted": unsubmitted, **kept.get(c, {})}
            for c in ("enrolled", "withdrawn")}


def unsubmitted_share(profile: dict) -> float:
    """The share of an institution's result rows with nothing submitted (grading_status)."""
    status = profile["tables"]["learner_activity_result"]["columns"]["grading_status"]
    status = status.get("otherwise", status) if status["kind"] == "conditional" else status
    total = sum(i["p"] for i in status.get("values", [])) or 1.0
    return sum(i["p"] for i in status.get("values", []) if i["value"] == UNSUBMITTED) / total


def institution_withdrawal(profile: dict) -> dict:
    """An institution's own withdrawal, kept on each of its terms in the merged calendar
    (`calendar.terms[i].withdrawal`): its students' withdrawn share, its results'
    unsubmitted share, and its `withdrawal_rho`, `withdrawal_at`, `results_kept` where it
    learned them. Pooled into one set, two institutions whose withdrawn differ (tied to low
    scores with most work missing at one, every piece submitted at the other) are drawn
    alike in every term; kept per term, the generator draws each term's withdrawn as its
    institution did (pipeline/generate/_rules/withdrawal_terms.py). Each value is one the
    institution published (its k and ε applied there): nothing new is released."""
    engagement = profile.get("engagement", {})
    own = {"withdrawn_share": round(withdrawn_share(profile), 6),
           "unsubmitted": round(unsubmitted_share(profile), 6)}
    own.update({k: engagement[k] for k in WITHDRAWAL_KEYS if k in engagement})
    return own


def withdrawn_share(profile: dict) -> float:
    """The withdrawn share of an institution's student enrollments (their role_status)."""
    statuses = profile["tables"]["course_section_enrollment"]["columns"]["role_status"]
    student = next((c["distribution"] for c in statuses.get("cells", [])
                    if c["when"].get("role") == "Student"), statuses.get("otherwise", statuses))
    while student["kind"] == "conditional":
        student = student["otherwise"]
    leaving = set(profile.get("engagement", {}).get("withdrawn_role_statuses", []))
    total = sum(i["p"] for i in student.get("values", [])) or 1.0
    return sum(i["p"] for i in student.get("values", []) if i["value"] in leaving) / total


def _quantile_mixture(parts: list[tuple[dict, float]]) -> dict:
    """Quantiles {level: value} of the mixture of several institutions' quantiles (flat
    beyond the outer ones, as the generator reads them), at the inputs' levels."""
    specs = [_as_continuous(q) for q, _ in parts]
    mixed = continuous_mixture(specs, [w for _, w in parts])
    levels = sorted({float(q) for q, _ in parts for q in q})
    points = sorted((float(q), float(v)) for q, v in mixed["quantiles"].items())
    return {_level(q): round(_at(points, q), 6) for q in levels}


def _as_continuous(quantiles: dict) -> dict:
    points = sorted((float(q), float(v)) for q, v in quantiles.items())
    return {"kind": "continuous", "family": "empirical", "mean": 0.0, "sd": 0.0,
            "min": points[0][1], "max": points[-1][1],
            "quantiles": {str(q): v for q, v in points}}


def _at(points: list[tuple[float, float]], q: float) -> float:
    """The value at level q of the mixture's stored quantiles (linear between them)."""
    for (q0, v0), (q1, v1) in zip(points, points[1:], strict=False):
        if q0 <= q <= q1:
            return v0 + (v1 - v0) * (q - q0) / ((q1 - q0) or 1.0)
    return points[0][1] if q < points[0][0] else points[-1][1]


def _level(q: float) -> str:
    return format(q, "g")


def _kept(parts: list[tuple[dict, float]]) -> dict:
    """Shares of rows kept, each averaged over the enrollments it is a share of: `none`
    over all, `share` over those with rows, `unsubmitted` over their rows."""
    parts = [(k, max(w, 0.0)) for k, w in parts] if sum(w for _, w in parts) > 0 else \
        [(k, 1.0) for k, _ in parts]
    with_rows = [(k, w * (1 - k["none"])) for k, w in parts]
    rows = [(k, w * k["share"]) for k, w in with_rows]
    return {"none": _mean(parts, "none"), "share": _mean(with_rows, "share"),
            "unsubmitted": _mean(rows, "unsubmitted")}


def _mean(parts: list[tuple[dict, float]], key: str) -> float:
    total = sum(w for _, w in parts)
    if total <= 0:
        return round(sum(k[key] for k, _ in parts) / len(parts), 4)
    return round(sum(k[key] * w for k, w in parts) / total, 4)


def merged_positions(merge, specs: list[dict], rows) -> tuple[dict | None, list[str]]:
    """Due positions by kind and rank, each the mixture of the institutions' with that kind
    and rank (an institution's last rank stands for those beyond only when it was capped),
    weighed by its activities of that kind; the heaviest's when they rank by different
    kinds (the note says so)."""
    present = [(s["positions"], w, merge.profiles[i]) for i, (s, w) in
               enumerate(zip(specs, rows, strict=True)) if s.get("positions")]
    if not present:
        return None, []
    givens = {json.dumps(p["given"]) for p, _, _ in present}
    if len(givens) > 1:
        heaviest = max(present, key=lambda part: part[1])[0]
        return heaviest, ["/tables/learner_activity/positions: the institutions rank work "
                          "by different kinds; kept the heaviest one's"]
    given = present[0][0]["given"]
    cells: dict[str, list] = {}
    for positions, w, profile in present:
        for cell in positions["cells"]:
            weight = cell_weight(profile, "learner_activity", [given], {given: cell["when"]},
                                 w) if given else w
            cells.setdefault(json.dumps(cell["when"]), []).append((cell["positions"], weight))
    return {"given": given, "cells": [{"when": json.loads(when), "positions": _ranks(parts)}
                                      for when, parts in cells.items()]}, []


def _ranks(parts: list[tuple[list[dict], float]]) -> list[dict]:
    """Rank by rank, the mixture of the institutions that have work at that rank."""
    out = []
    for rank in range(max(len(ranks) for ranks, _ in parts)):
        here = [(ranks[min(rank, len(ranks) - 1)], w / len(ranks)) for ranks, w in parts
                if rank < len(ranks) or len(ranks) >= MAX_POSITIONS]
        dists = [d for d, _ in here]
        out.append(dists[0] if len(dists) == 1 else continuous_mixture(
            dists, [max(w, 1e-9) for _, w in here]))
    return out


def pooled_list(values: list[list], weights: list[float]) -> list | None:
    """Lists of several institutions as one: numeric curves of one length averaged point by
    point by weight; shares `[{…, p}]` pooled by weight; None when neither."""
    total = sum(weights) or 1.0
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for v in values for x in v) \
            and len({len(v) for v in values}) == 1:
        return [round(sum(v[i] * w for v, w in zip(values, weights, strict=True)) / total, 6)
                for i in range(len(values[0]))]
    if all(isinstance(x, dict) and "p" in x for v in values for x in v):
        pooled: dict[str, float] = {}
        items: dict[str, dict] = {}
        for listed, w in zip(values, weights, strict=True):
            size = sum(x["p"] for x in listed) or 1.0
            for x in listed:
                key = json.dumps({k: x[k] for k in x if k != "p"}, sort_keys=True)
                items.setdefault(key, x)
                pooled[key] = pooled.get(key, 0.0) + w * x["p"] / size
        share = sum(pooled.values()) or 1.0
        return [{**items[k], "p": round(p / share, 6)} for k, p in pooled.items()]
    return None


def merged_links(specs: list[dict], rows) -> dict:
    """Columns linked to a partner (an assignment's points to its due date): each Spearman
    the mean of the institutions' that link it to the same partner as the first does,
    weighed by their rows (activities)."""
    out = {}
    for name in sorted({n for s in specs for n in s.get("links", {})}):
        parts = [(s["links"][name], w) for s, w in zip(specs, rows, strict=True)
                 if name in s.get("links", {})]
        parts = [(link, w) for link, w in parts if link["with"] == parts[0][0]["with"]]
        total = sum(w for _, w in parts)
        rho = sum(link["spearman"] * (w if total > 0 else 1) for link, w in parts) / \
            (total if total > 0 else len(parts))
        out[name] = {"with": parts[0][0]["with"], "spearman": round(float(rho), 4)}
    return out
