"""Dependencies: which attribute of a row's own table or of its parent rows a column follows.

For each dependency target (a categorical column such as an enrollment's `role_status`) the
profiler already holds a distribution given the template's columns (e.g. `role`). Here every
candidate attribute — of the same table or of a parent row reached through FKs, such as the
enrollment's course level (`course_section_id.course_offering_id.course_level`) or the
person's sex — is scored by its conditional mutual information with the target given those
columns, from aggregate counts (one GROUP BY per candidate). The best candidate, if its
information clears the small-sample bias, joins the `given` list: a degree-2 network in the
manner of PrivBayes (each column has at most the template's parent plus one learned one).

The learned column refines each cell of the template's conditional: a nested conditional
(role → course level → status) whose cells are k-checked tables in distinct people, with the
template cell as `otherwise`, so a combination too small to publish (a few teachers of one
course level) falls back to its own role's shares, never to the students'.
Under ε every candidate's table is one noised query (planned whatever is chosen); the
structure choice and the cells are post-processing of those noised tables.
"""

from __future__ import annotations

import math

from distributions._estimators import Cell, Missing, value_cells
from distributions._privacy import NODATA, check_allowed

# candidate parent-row attributes per table (text columns the generator draws from the profile)
CANDIDATES: dict[str, tuple[str, ...]] = {
    "course_section_enrollment": (
        "course_section_id.course_offering_id.course_level",
        "course_section_id.course_offering_id.cip_family",
        "course_section_id.delivery_mode",
        "person_id.sex",
    ),
}
TARGETS: dict[str, tuple[str, ...]] = {
    "course_section_enrollment": ("role_status", "enrollment_status"),
}
MIN_GAIN = 0.002  # nats of conditional information, beyond the bias correction


def extra_dependency_part(p, profile: dict) -> None:
    """A Chow-Liu tree over each table's text extras: every extra (an outcome label, a
    demographic band) takes as its `given` the column it shares most information with —
    a categorical registry column of its table (drawn before any extra: `role_status` for
    an outcome label) or an extra placed before it (Prim's order on 2-way MI, so the tree
    has no cycle). Each cell is k-checked, the extra's own shares its `otherwise`. Ties to
    scores (`_ties.py`) are learned afterwards, within these cells."""
    for table, spec in sorted(profile["tables"].items()):
        extras = sorted(c for c, e in spec.get("extras", {}).items()
                        if e.get("type") == "string" and
                        spec["columns"].get(c, {}).get("kind") == "categorical")
        if extras and table in p.reader.tables:
            _extra_tree(p, profile, table, extras)


def registry_nodes(p, table: str, spec: dict) -> list[str]:
    """The table's text registry columns the source holds and the profile draws (never
    from an extra, so they stand before every extra in the tree). A table's sole key is an
    identifier; a text part of a composite key is an attribute (an enrollment's `role`: an
    outcome label or a registration day exists for students only)."""
    entity = p.entities[table]
    sole_key = entity.primary_key if len(entity.primary_key) == 1 else ()
    return sorted(c.name for c in entity.columns if c.type == "string" and not c.sensitive
                  and c.name in spec["columns"] and not entity.parent_of(c.name)
                  and c.name not in sole_key and p.reader.has(table, c.name)
                  and spec["columns"][c.name]["kind"] in ("categorical", "conditional"))


def parent_nodes(p, profile: dict, table: str, parents: tuple[str, ...] = ()) -> list[str]:
    """`fk.column` for each text registry column (registry_nodes) of each parent of `table`
    (only `parents`, when given) that the source holds and the profile draws: the parent
    attributes a column of `table` may be learned given."""
    out = []
    for fk in p.entities[table].foreign_keys:
        parent = fk.parent
        if (parents and parent not in parents) or not p.reader.has(table, fk.column):
            continue
        if parent in p.reader.tables and parent in profile["tables"]:
            out += [f"{fk.column}.{c}"
                    for c in registry_nodes(p, parent, profile["tables"][parent])]
    return out


def _extra_tree(p, profile: dict, table: str, extras: list[str]) -> None:
    spec = profile["tables"][table]
    if not p.reader.has(table, "person_id"):
        return  # k counts people: a table without them has no person-counted cells
    placed, scores, pairs = registry_nodes(p, table, spec), {}, {}
    for target in extras:
        for candidate in placed + extras:
            if candidate != target:
                scores[(target, candidate)] = _scored(p, table, target, candidate, pairs)
    remaining = list(extras)
    while remaining:  # Prim: the strongest edge from a placed column to an unplaced one
        # equal information (to 4 decimals: an enrollment_status mirroring role_status)
        # goes to the column drawn from fewer others, the one the generator ties first-hand
        edges = [(round(scores[(t, c)][0], 4), -len(spec["columns"][c].get("given", [])), t, c)
                 for t in remaining for c in placed if scores.get((t, c)) is not None]
        gain, _, target, given = max(edges, default=(0.0, 0, remaining[0], None))
        if not edges or gain < MIN_GAIN:
            target = remaining[0]
        else:
            path = f"/tables/{table}/columns/{target}"
            learned = _conditional(p, table, target, [given], scores[(target, given)][1],
                                   spec["columns"][target], path)
            spec["columns"][target] = learned
            p.notes.append(f"{path}: learned given [{given}] (MI {gain:.4f} nats, the "
                           "strongest tie to a column drawn before it)")
        remaining.remove(target)
        placed.append(target)


def _scored(p, table: str, target: str, candidate: str,
            pairs: dict | None = None) -> tuple[float, dict] | None:
    """(MI of target and candidate less its bias, the counts), or None if unreadable.
    `pairs` keeps each pair's 2-way table, so the reverse pair reads it transposed."""
    query = f"/tables/{table}/columns/{target}/dependency[{candidate}]"
    try:
        counts = _counts(p, table, target, [candidate], query, pairs)
    except Missing as missing:
        p.notes.append(f"/tables/{table}/columns/{target}: candidate {candidate} not scored "
                       f"({missing})")
        return None
    return conditional_information(counts, 0), counts


def dependency_part(p, profile: dict) -> None:
    """Learn each target's extra parent and rebuild its conditional (notes say what won);
    `p.learned` keeps each learned (given, counts) for the gradebook's calibration."""
    p.learned = {}
    for table, targets in TARGETS.items():
        if table not in p.reader.tables:
            continue
        for target in targets:
            path = f"/tables/{table}/columns/{target}"
            spec = profile["tables"][table]["columns"].get(target)
            if spec is None or spec["kind"] not in ("categorical", "conditional") or \
                    not p.reader.has(table, target):
                continue
            learned = _learn(p, table, target, spec, path)
            if learned is not None:
                profile["tables"][table]["columns"][target] = learned


def _learn(p, table: str, target: str, spec: dict, path: str) -> dict | None:
    given = list(spec.get("given", []))
    scored = []
    for candidate in CANDIDATES.get(table, ()):
        if candidate in given:
            continue
        try:
            counts = _counts(p, table, target, given + [candidate], f"{path}/dependency"
                             f"[{candidate}]")
        except Missing as missing:
            p.notes.append(f"{path}: candidate {candidate} not scored ({missing})")
            continue
        scored.append((conditional_information(counts, len(given)), candidate, counts))
    if not scored:
        return None
    gain, best, counts = max(scored, key=lambda item: (item[0], item[1]))
    summary = ", ".join(f"{c} {g:.4f}" for g, c, _ in sorted(scored, reverse=True))
    if gain < MIN_GAIN:
        p.notes.append(f"{path}: no parent attribute adds information beyond "
                       f"{', '.join(given) or 'none'} (conditional MI, nats: {summary})")
        return None
    # the gradebook's calibration simulates withdrawal within these strata (_engagement.py)
    p.learned[(table, target)] = (given + [best], counts)
    p.notes.append(f"{path}: learned given {given + [best]} (conditional MI given "
                   f"{', '.join(given) or 'nothing'}, nats: {summary})")
    return _conditional(p, table, target, given + [best], counts, spec, path)


def _counts(p, table: str, target: str, given: list[str], query: str,
            pairs: dict | None = None) -> dict:
    """{(given values.., value): count} — Cells (people) or, under ε, noised person weights
    (each query path noised on its own, whether its table was read or transposed)."""
    if pairs is not None and (given[0], target) in pairs:
        flat = {(v, g): c for (g, v), c in pairs[(given[0], target)].items()}
    else:
        cells = value_cells(p.reader, _base(p, table, target, given), len(given))
        flat = {(*g, v): c for g, per in cells.items() for v, c in per.items()}
        if pairs is not None:
            pairs[(target, given[0])] = flat
    return p.guard.noise(query, flat)


def _base(p, table: str, target: str, given: list[str]) -> str:
    """SELECT g0.., v, pid FROM the table joined up each given's FK chain."""
    r = p.reader
    check_allowed(p.registry, table, target)
    joins, selects = [], []
    for i, name in enumerate(given):
        *hops, column = name.split(".")
        current, alias = table, "t"
        for j, fk in enumerate(hops):
            parent = p.entities[current].parent_of(fk)
            pk = p.entities[parent].primary_key[0]
            child = f"d{i}_{j}"
            joins.append(f"LEFT JOIN {r.rel(parent)} AS {child} ON {alias}.{r.sql.ident(fk)} "
                         f"= {child}.{r.sql.ident(pk)}")
            current, alias = parent, child
        check_allowed(p.registry, current, column)
        selects.append(f"{r.col(current, column, 'text', alias)} AS g{i}")
    selects.append(f"{r.col(table, target, 'text')} AS v")
    selects.append(f"{r.col(table, 'person_id', 'key')} AS pid")
    return f"SELECT {', '.join(selects)} FROM {r.rel(table)} AS t {' '.join(joins)}"


def _weight(count) -> float:
    return float(count.rows if isinstance(count, Cell) else count)


def best_given(candidates, counts_of) -> tuple[str, float, dict] | None:
    """(candidate, gain, counts) of the candidate that tells most about a column: `counts_of`
    gives {(candidate value,): {value: count}} or raises Missing (that candidate is skipped);
    gain is the conditional information rounded to 4 places, ties go to the later name. None
    when no candidate reaches MIN_GAIN."""
    scored = []
    for candidate in candidates:
        try:
            counts = counts_of(candidate)
        except Missing:
            continue
        flat = {(g[0], v): c for g, per in counts.items() for v, c in per.items()}
        scored.append((round(conditional_information(flat, 0), 4), candidate, counts))
    gain, candidate, counts = max(scored, default=(0.0, None, {}), key=lambda s: s[:2])
    return None if candidate is None or gain < MIN_GAIN else (candidate, gain, counts)


def conditional_information(counts: dict, n_given: int) -> float:
    """I(value; last given | first n_given givens) in nats, less the Miller–Madow bias
    ((|values|-1)(|candidates|-1) / 2N per stratum), from {(g.., c, v): count}."""
    strata: dict[tuple, dict] = {}
    for key, count in counts.items():
        if None in key or _weight(count) <= 0:
            continue
        strata.setdefault(key[:n_given], {})[key[n_given:]] = _weight(count)
    total = sum(sum(s.values()) for s in strata.values())
    if total <= 0:
        return 0.0
    gain = 0.0
    for table in strata.values():
        n = sum(table.values())
        by_c, by_v = {}, {}
        for (c, v), w in table.items():
            by_c[c] = by_c.get(c, 0.0) + w
            by_v[v] = by_v.get(v, 0.0) + w
        mi = sum(w / n * math.log(w * n / (by_c[c] * by_v[v])) for (c, v), w in table.items())
        bias = (len(by_c) - 1) * (len(by_v) - 1) / (2 * n)
        gain += n / total * (mi - bias)
    return gain


def _conditional(p, table: str, target: str, given: list[str], counts: dict, spec: dict,
                 path: str) -> dict | None:
    """The template's conditional with each of its cells (or the whole, if it had no given)
    refined by the learned column: a nested conditional whose cells are k-checked and whose
    `otherwise` is the template cell itself."""
    nodata = any(i.get("value") == NODATA for i in _categoricals(spec))
    learned = given[-1]
    by_prefix: dict[tuple, dict[str, dict]] = {}
    for key, count in counts.items():
        if None in key:
            continue
        prefix, c, v = tuple(map(str, key[:-2])), str(key[-2]), str(key[-1])
        by_prefix.setdefault(prefix, {}).setdefault(c, {})[v] = count
    if spec["kind"] != "conditional":
        return _refine(p, f"{path}", learned, by_prefix.get((), {}), spec, nodata)
    out = dict(spec, cells=[])
    for cell in spec["cells"]:
        prefix = tuple(str(cell["when"][g]) for g in spec["given"])
        refined = _refine(p, f"{path}/cells[{','.join(prefix)}]", learned,
                          by_prefix.get(prefix, {}), cell["distribution"], nodata)
        out["cells"].append({"when": cell["when"], "distribution": refined})
    return out


def _refine(p, path: str, learned: str, per_value: dict, fallback: dict, nodata: bool) -> dict:
    """`fallback` split by the learned column's values, each split k-checked."""
    if fallback["kind"] != "categorical":
        return fallback
    cells = []
    # fsum: an exact sum, so equal weights tie whatever order the engine returned the groups in
    for value in sorted(per_value,
                        key=lambda c: (-math.fsum(map(_weight, per_value[c].values())), c)):
        size = sum(per_value[value].values())
        if not p.guard.cell_kept(f"{path}/{learned}", size):
            continue
        dist = p.guard.categorical(f"{path}/{learned}[{value}]", per_value[value], True,
                                   nodata, noise=False)
        if dist is not None:
            cells.append({"when": {learned: value}, "distribution": dist})
    if not cells:
        return fallback
    return {"kind": "conditional", "given": [learned], "cells": cells, "otherwise": fallback}


def _categoricals(spec: dict) -> list[dict]:
    if spec["kind"] == "categorical":
        return spec["values"]
    return [i for c in spec["cells"] for i in _categoricals(c["distribution"])] + \
        _categoricals(spec["otherwise"])
