"""How a consortium merge combines one distribution published by several institutions
(distributions/_merge.py drives the merge; this is its arithmetic on one distribution).

- categorical shares are pooled by weight, and k is checked again on the pooled rows of a
  people-linked table (a value below k pooled rows is dropped, an action in the manifest);
- continuous distributions (and counts, a categorical being a step CDF) become the weighted
  mixture of their piecewise-linear CDFs (distributions/_mixture.py);
- conditional tables are combined cell by cell, each cell from the institutions that published
  it, weighed by the rows it stands for there (distributions/_merge_cells.py); a cell
  suppressed at one institution stays suppressed, and k is checked again on the pooled rows;
- where some institutions condition a distribution and others do not, the others' one
  distribution stands in each cell (on one set of given columns), else the marginals pool.
`merge` is the merge in progress (distributions/_merge.Merge): its notes, privacy actions,
k and input paths.
"""

from __future__ import annotations

import json

import numpy as np

from distributions._merge_cells import cell_weight
from distributions._mixture import continuous_mixture

# tables with a person behind each row: the pooled k check applies to them (institutional
# tables — terms, courses, groups — are not people)
PEOPLE_TABLES = {"person", "person_email", "person__academic_term", "course_section_enrollment",
                 "person__academic_major__academic_term", "learner_activity_result",
                 "course_grade", "discussion_entry"}


def mix(specs: list[dict], weights: list[float], merge, path: str, table: str,
        sources: list[int] | None = None) -> dict:
    """The weighted combination of one distribution published by several institutions
    (`sources`: their indices, when known, so conditional cells weigh by their own rows)."""
    weights = [float(w) for w in weights]
    kinds = {s["kind"] for s in specs}
    if len(specs) == 1:
        return specs[0]
    if kinds == {"categorical"}:
        return _categorical(specs, weights, merge, path, table)
    if kinds == {"continuous"} or (kinds == {"categorical", "continuous"} and all(
            _numeric(s) for s in specs)):
        return continuous_mixture(specs, weights)  # counts: a categorical is a step CDF
    if kinds == {"foreign_key"}:  # a parent drawn skewed towards the first: skew by weight
        return {"kind": "foreign_key", "skew": round(sum(
            float(s.get("skew", 0.0)) * w for s, w in zip(specs, weights, strict=True))
            / (sum(weights) or 1.0), 6)}
    if kinds == {"conditional"} and len({json.dumps(s["given"]) for s in specs}) == 1:
        return _conditional(specs, weights, merge, path, table, sources)
    if "conditional" in kinds and len(kinds) > 1:
        return _partly_conditional(specs, weights, merge, path, table, sources)
    heaviest = int(np.argmax(weights))
    merge.notes.append(f"{path}: the institutions' distributions differ in kind or given "
                       f"columns; kept the heaviest one's ({merge.paths[heaviest].name})")
    return specs[heaviest]


def _partly_conditional(specs, weights, merge, path: str, table: str,
                        sources: list[int] | None) -> dict:
    """Some institutions condition a distribution, others not. On one set of given columns:
    the others' one distribution stands in each cell for their rows of that cell's given
    value, so the dependency is kept and every institution's rows count; on different
    ones: the marginals pooled (each conditional's `otherwise` is its pooled distribution)."""
    givens = {json.dumps(s["given"]) for s in specs if s["kind"] == "conditional"}
    if len(givens) == 1 and sources is not None:
        merge.notes.append(f"{path}: conditional at some institutions only; the others' "
                           "distribution pooled into each cell")
        return mix([s if s["kind"] == "conditional" else lifted(s, specs) for s in specs],
                   weights, merge, path, table, sources)
    merge.notes.append(f"{path}: conditional at some institutions only; pooled the "
                       "marginals")
    return mix([s["otherwise"] if s["kind"] == "conditional" else s for s in specs],
               weights, merge, path, table)


def lifted(spec: dict, specs: list[dict]) -> dict:
    """A plain distribution as a conditional on the others' given columns: the same
    distribution in every cell they hold."""
    conditional = next(s for s in specs if s["kind"] == "conditional")
    whens = {json.dumps(c["when"], sort_keys=True): c["when"]
             for s in specs if s["kind"] == "conditional" for c in s["cells"]}
    return {"kind": "conditional", "given": conditional["given"],
            "cells": [{"when": w, "distribution": spec} for w in whens.values()],
            "otherwise": spec}


def _categorical(specs, weights, merge, path: str, table: str) -> dict:
    pooled: dict[str, float] = {}
    values: dict[str, object] = {}
    for spec, w in zip(specs, weights, strict=True):
        total = sum(i["p"] for i in spec["values"]) or 1.0
        for item in spec["values"]:
            key = json.dumps(item["value"])
            values[key] = item["value"]
            pooled[key] = pooled.get(key, 0.0) + w * item["p"] / total
    if table in PEOPLE_TABLES:
        small = {k: n for k, n in pooled.items() if n < merge.k}
        for key, n in small.items():
            merge.actions.append({"path": path, "action": "suppressed", "reason":
                                  f"{values[key]!r}: fewer than k={merge.k} pooled rows",
                                  "rows_affected": int(round(n))})
        pooled = {k: n for k, n in pooled.items() if k not in small} or pooled
    total = sum(pooled.values())
    ordered = sorted(pooled.items(), key=lambda item: (-item[1], item[0]))
    return {"kind": "categorical",
            "values": [{"value": values[k], "p": round(n / total, 6)} for k, n in ordered]}


def _conditional(specs, weights, merge, path: str, table: str,
                 sources: list[int] | None) -> dict:
    """Cell by cell, each from the institutions that published it, weighed by the rows it
    stands for there; k checked again on the pooled rows of a people table's cell."""
    given = list(specs[0]["given"])
    cells: dict[str, list] = {}
    for i, (spec, w) in enumerate(zip(specs, weights, strict=True)):
        profile = merge.profiles[sources[i]] if sources is not None else None
        for cell in spec["cells"]:
            rows = cell_weight(profile, table, given, cell["when"], w) if profile else w
            cells.setdefault(json.dumps(cell["when"], sort_keys=True), []).append(
                (cell["distribution"], rows, sources[i] if sources is not None else None))
    out = []
    for i, (when, parts) in enumerate(cells.items()):
        pooled = sum(rows for _, rows, _ in parts)
        if sources is not None and table in PEOPLE_TABLES and pooled < merge.k:
            merge.actions.append({"path": f"{path}/cells/{i}", "action": "suppressed",
                                  "reason": f"{when}: fewer than k={merge.k} pooled rows",
                                  "rows_affected": int(round(pooled))})
            continue
        dists, rows, origin = map(list, zip(*parts, strict=True))
        out.append({"when": json.loads(when),
                    "distribution": mix(dists, rows, merge, f"{path}/cells/{i}", table,
                                        origin if sources is not None else None)})
    otherwise = mix([s["otherwise"] for s in specs], weights, merge, f"{path}/otherwise",
                    table, sources)
    return {"kind": "conditional", "given": given, "cells": out, "otherwise": otherwise}


def _numeric(spec: dict) -> bool:
    return spec["kind"] == "continuous" or all(
        isinstance(i["value"], (int, float)) and not isinstance(i["value"], bool)
        for i in spec["values"])
