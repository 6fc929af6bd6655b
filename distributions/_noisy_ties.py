"""Labels' ties to scores under ε: noised sufficient statistics of one unit per person.

Without ε, `_ties.py` reads each label's mean score and the Spearman correlation of score
and label within cells from every student enrollment. Under `--epsilon` each person stands
for one unit (themselves for a person's label; their first enrollment by offering key for an
enrollment's), with their mean score ratio clipped to [0, 1], and one count query of the
budget per tied column (`/engagement/ties/<table>.<column>`) releases:

- a label: per (cell of the given column, label) its people n, Σ m (mean score ratio) and
  Σ u, u the person's mid-rank of m within the cell scaled to (0, 1). A person moves n by
  1, Σ m by at most 1, their own u by at most 1 and every other u of the cell by at most
  1/(N + 1), so the others' together by less than 1: L1 sensitivity 4.
- a number: (n, Σ u·w), u and w the person's scaled mid-ranks of score and value. A person
  moves n by 1, their own term by at most 1 and each other's by at most 2/(N + 1): L1 < 4.

Each label's mean score (its order), the Spearman correlation within each cell (midranks of
the labels from the noised counts; u has mean ½ and variance 1/12) and a number's Spearman
(12·E[u·w] − 3) are post-processing. Cells and labels whose noised people fall below
max(k, 2 × the scale) are left out, and so is a correlation whose noise sd exceeds
`MAX_ERROR` (then no tie is learned: a note says so, the label is drawn on its shares).
"""

from __future__ import annotations

import math

from distributions._estimators import WEIGHT_UNIT

MAX_ERROR = 0.1  # a Spearman whose noise sd exceeds this says nothing: no tie is learned


def tie_path(table: str, column: str) -> str:
    return f"/engagement/ties/{table}.{column}"


def _one_per_person(base: str, enrollment: bool) -> str:
    """The units of `base` (SELECT mx, v, g[, pid, off]): one per person, mx clipped."""
    if not enrollment:
        return (f"SELECT LEAST(GREATEST(mx, 0), 1) AS mx, v, g FROM ({base}) AS b0 "
                "WHERE mx IS NOT NULL")
    return (f"SELECT LEAST(GREATEST(mx, 0), 1) AS mx, v, g FROM (SELECT *, ROW_NUMBER() OVER "
            f"(PARTITION BY pid ORDER BY off) AS nth FROM ({base}) AS b0 WHERE mx IS NOT "
            "NULL) AS b1 WHERE nth = 1")


def _midrank(x: str, within: str = "g") -> str:
    """The mid-rank of `x` within `within`, scaled to (0, 1)."""
    return (f"((RANK() OVER (PARTITION BY {within} ORDER BY {x}) + (COUNT(*) OVER "
            f"(PARTITION BY {within}, {x}) - 1) / 2.0 - 0.5) / COUNT(*) OVER "
            f"(PARTITION BY {within}))")


def _fixed(expr: str) -> str:
    """SUM of `expr` in whole billionths (an integer sum: the same in any order)."""
    return f"SUM(CAST(ROUND(({expr}) * {WEIGHT_UNIT}) AS BIGINT))"


def noised_label_stats(p, path: str, base: str, enrollment: bool):
    """(means {label: noised mean score}, cells {g: {label: (n, Σu)}}) from `base`."""
    rows = p.reader.rows(
        f"SELECT g, v, COUNT(*) AS n, {_fixed('mx')} AS m, {_fixed('u')} AS u FROM (SELECT "
        f"*, {_midrank('mx')} AS u FROM ({_one_per_person(base, enrollment)}) AS b2) AS b3 "
        "GROUP BY g, v")
    labels = sorted({str(r["v"]) for r in rows})
    groups = sorted({r["g"] for r in rows}, key=str)
    exact = {(part, str(g), v): 0.0 for part in "nmu" for g in groups for v in labels}
    for r in rows:  # every (cell, label) pair noised, empty or not
        key = (str(r["g"]), str(r["v"]))
        exact[("n", *key)] = float(r["n"])
        exact[("m", *key)] = int(r["m"]) / WEIGHT_UNIT
        exact[("u", *key)] = int(r["u"]) / WEIGHT_UNIT
    noised = p.guard.noised_sums(path, exact, 4.0) or {}
    threshold = _threshold(p, path)
    means = {}
    for v in labels:
        n = sum(noised.get(("n", str(g), v), 0.0) for g in groups)
        if n >= threshold:
            means[v] = sum(noised.get(("m", str(g), v), 0.0) for g in groups) / n
    cells = {g: {v: (max(noised.get(("n", str(g), v), 0.0), 0.0),
                     noised.get(("u", str(g), v), 0.0)) for v in labels} for g in groups}
    return means, cells


def cell_spearmans(p, path: str, cells: dict, order: list) -> list[tuple]:
    """[(g, Spearman of score and the label's rank in `order`, noised people)] per cell
    whose noised people reach the threshold."""
    out = []
    for g, per in cells.items():
        counts = [per.get(str(v), (0.0, 0.0))[0] for v in order]
        total = sum(counts)
        if total < _threshold(p, path) or sum(c > 0 for c in counts) < 2:
            continue
        below, cov, mean_r, var_r = 0.0, 0.0, 0.0, 0.0
        for v, n in zip(order, counts, strict=True):
            rank = (below + n / 2) / total
            below += n
            cov += per.get(str(v), (0.0, 0.0))[1] * rank
            mean_r += n * rank
            var_r += n * rank * rank
        mean_r /= total
        var_r = var_r / total - mean_r ** 2
        if var_r <= 0:
            continue
        rho = (cov / total - 0.5 * mean_r) / math.sqrt(var_r / 12)
        # the noise's sd in rho: the Σu cells' Laplace (variance 2b² each) over the spread
        error = math.sqrt(2 * _scale(p, path) ** 2 * sum(
            ((sum(counts[:i]) + counts[i] / 2) / total) ** 2 for i in range(len(counts)))) \
            / total / math.sqrt(var_r / 12)
        if error <= MAX_ERROR:
            out.append((g, max(min(rho, 1.0), -1.0), int(round(total))))
    return out


def noised_value_spearman(p, path: str, base: str, enrollment: bool) -> float | None:
    """The Spearman of score and a number from noised (n, Σ u·w); None below the
    threshold. `base` selects mx, v (the number), g (NULL), pid[, off]."""
    units = _one_per_person(base, enrollment)
    row = p.reader.rows(
        f"SELECT COUNT(*) AS n, {_fixed('u * w')} AS s FROM (SELECT {_midrank('mx')} AS u, "
        f"{_midrank('v')} AS w FROM ({units}) AS b2 WHERE v IS NOT NULL) AS b3")[0]
    noised = p.guard.noised_sums(path, {"n": float(row["n"] or 0),
                                        "s": int(row["s"] or 0) / WEIGHT_UNIT}, 4.0)
    if not noised or noised["n"] < _threshold(p, path):
        return None
    if 12 * 2 ** 0.5 * _scale(p, path) / noised["n"] > MAX_ERROR:  # the noise's sd in rho
        return None
    return max(min(12 * noised["s"] / noised["n"] - 3, 1.0), -1.0)


def _scale(p, path: str) -> float:
    query = p.guard.budget.queries.get(path)
    return query.scale if query else 0.0


def _threshold(p, path: str) -> float:
    return max(float(p.guard.k), 2.0 * _scale(p, path))
