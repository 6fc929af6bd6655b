"""Numeric extras whose presence follows a registry column (an unregistration day that exists
exactly for the withdrawn).

The Chow-Liu tree over extras (`_dependencies.extra_dependency_part`) covers text extras. A
numeric extra with nulls carries most of its information in whether it is null at all: the
null is its own category here, scored by mutual information against the table's text registry
columns (role_status, role, …). The strongest one, if it clears the small-sample bias,
conditions the extra: each of its values gets its own distribution (its own null share and
quantiles), cells k-checked in distinct people, the overall distribution as `otherwise`.

A text extra (an outcome label) is drawn given the column the extras' tree chose for its
values (`role_status`); where it is null for every row of some value of a registry column
(every teacher: an outcome exists for students only), those values become cells that are
always null, around the tree's distribution, k-checked in distinct people. Without them the
real-like source's 20 teacher rows took labels ("Distinction") and its registration days' nulls
fell on students: Cramér's V of final_result × registration_day 0.44 against the source's 0.64
(a perfectly aligned null cell of 20 rows in 33,000 is worth 0.19 of V).

Under ε each candidate's null-ness table is one noised query (`dependency[column]`, planned
whichever wins), the choice is made on the noised tables, and the chosen column's cells are
one more query (`cells`, reserved whatever is chosen): a noised histogram over the overall
distribution's published quantiles with nulls as a bin (`_noisy_continuous`).
"""

from __future__ import annotations

from distributions._dependencies import best_given, registry_nodes
from distributions._estimators import Summary, summarize, value_cells
from distributions._noisy_continuous import binned_cells, grid_of, noised_cells


def extra_null_dependency_part(p, profile: dict) -> None:
    """Condition each numeric extra with nulls on its most informative registry column; give
    each text extra with nulls its always-null cells."""
    for table, spec in sorted(profile["tables"].items()):
        if table not in p.reader.tables or not p.reader.has(table, "person_id"):
            continue  # k counts people: a table without them has no person-counted cells
        for column in sorted(spec.get("extras", {})):
            current = spec["columns"].get(column, {})
            if current.get("kind") == "continuous" and current.get("null_fraction", 0) > 0:
                _condition(p, spec, table, column)
            elif spec["extras"][column]["type"] == "string" and _has_nulls(current):
                _null_cells(p, spec, table, column)


def _has_nulls(spec: dict) -> bool:
    """Whether a categorical (or any cell of a conditional) draws nulls."""
    if spec.get("kind") == "conditional":
        return any(_has_nulls(c["distribution"]) for c in spec["cells"]) or \
            _has_nulls(spec["otherwise"])
    return any(i["value"] is None for i in spec.get("values", []))


def _null_cells(p, spec: dict, table: str, column: str) -> None:
    """The text extra wrapped in a conditional on the registry column that best tells its
    null-ness, with a cell of nulls for each of that column's values under which the extra
    is always null (k people); the rest drawn as before (`otherwise`). Under ε not learned:
    an always-null cell is an exact zero a noised count cannot show."""
    path = f"/tables/{table}/columns/{column}"
    if p.guard.epsilon is not None:
        p.notes.append(f"{path}: its nulls are drawn as its shares say (under epsilon, where "
                       "no value of a column is known to be always null)")
        return
    best = best_given(registry_nodes(p, table, spec),
                      lambda given: _null_counts(p, table, column, "string", given))
    if best is None:
        return
    given, gain, counts = best
    cells = [{"when": {given: value}, "distribution": {"kind": "categorical", "values": [
        {"value": None, "p": 1.0}]}} for (value,), per in sorted(counts.items(), key=str)
        if value is not None and set(per) == {1}
        and p.guard.cell_kept(f"{path}/cells[{given}={value}]", per[1])]
    if cells:
        spec["columns"][column] = {"kind": "conditional", "given": [given], "cells": cells,
                                   "otherwise": spec["columns"][column]}
        p.notes.append(f"{path}: null wherever {given} is "
                       f"{', '.join(str(c['when'][given]) for c in cells)} (MI of its null-ness "
                       f"{gain:.4f} nats); drawn as before elsewhere")


def _condition(p, spec: dict, table: str, column: str) -> None:
    path = f"/tables/{table}/columns/{column}"
    kind = spec["extras"][column]["type"]
    candidates = registry_nodes(p, table, spec)
    if p.guard.epsilon is not None and candidates:
        p.guard.reserve(f"{path}/cells")  # whichever the noised choice picks
    best = best_given(candidates, lambda given: _null_counts(p, table, column, kind, given))
    if best is None:
        return
    given, gain, cells = best
    if p.guard.epsilon is not None:
        learned = _noised_cells(p, table, column, kind, given, spec["columns"][column])
    else:
        learned = _cells(p, table, column, kind, given, cells, spec["columns"][column])
    if learned:
        spec["columns"][column] = {"kind": "conditional", "given": [given], "cells": learned,
                                   "otherwise": spec["columns"][column]}
        p.notes.append(f"{path}: learned given [{given}] (MI of its null-ness {gain:.4f} "
                       "nats, null as its own category); each cell has its own null share")


def _null_counts(p, table: str, column: str, kind: str, given: str) -> dict:
    """{(given value,): {is_null: people-counted Cell}} of a numeric extra's null-ness
    (under ε: noised person weights, one query per candidate)."""
    r = p.reader
    x, pid = _number(p, table, column, kind), r.col(table, "person_id", "key", "t")
    g = r.col(table, given, "text", "t")
    base = (f"SELECT {g} AS g0, CASE WHEN {x} IS NULL THEN 1 ELSE 0 END AS v, {pid} AS pid "
            f"FROM {r.rel(table)} AS t")
    cells = value_cells(r, base, 1)
    if p.guard.epsilon is None:
        return cells
    flat = {(g0, v): c for (g0,), per in cells.items() for v, c in per.items()}
    noised = p.guard.noise(f"/tables/{table}/columns/{column}/dependency[{given}]", flat)
    out: dict[tuple, dict] = {}
    for (g0, v), count in noised.items():
        out.setdefault((g0,), {})[v] = count
    return out


def _noised_cells(p, table: str, column: str, kind: str, given: str,
                  overall: dict) -> list[dict]:
    """Under ε: one cell per value of `given` from the noised histogram over the overall
    distribution's published quantiles (its nulls a bin of their own)."""
    r, path = p.reader, f"/tables/{table}/columns/{column}"
    edges = grid_of(overall)
    if len(edges) < 2:
        return []
    base = (f"SELECT {r.col(table, given, 'text', 't')} AS g0, "
            f"{_number(p, table, column, kind)} AS x, "
            f"{r.col(table, 'person_id', 'key', 't')} AS pid FROM {r.rel(table)} AS t")
    template = {"null_fraction": 0.0, "integer": overall.get("integer", False),
                **({"unit": overall["unit"]} if "unit" in overall else {})}
    cells = noised_cells(p, f"{path}/cells", binned_cells(p, base, edges, 1), edges, template,
                         overall)
    return [{"when": {given: value}, "distribution": dist}
            for (value,), dist in cells.items() if value is not None and dist is not None]


def _cells(p, table: str, column: str, kind: str, given: str, counts: dict,
           overall: dict) -> list[dict]:
    """One k-checked cell per value of `given`: its own summary, or always null."""
    r, path = p.reader, f"/tables/{table}/columns/{column}"
    g = r.col(table, given, "text", "t")
    summaries = summarize(r, f"SELECT {g} AS g0, {_number(p, table, column, kind)} AS x "
                             f"FROM {r.rel(table)} AS t", p.guard.k, 1)
    template = {"null_fraction": 0.0, "integer": overall.get("integer", False)}
    if "unit" in overall:
        template["unit"] = overall["unit"]
    out = []
    for (value,), summary in sorted(summaries.items(), key=lambda item: str(item[0])):
        cell_path = f"{path}/cells[{given}={value}]"
        size = _merged(counts.get((value,), {}))
        if value is None or size is None or not p.guard.cell_kept(cell_path, size):
            continue
        dist = _cell_distribution(p, cell_path, summary, template, overall)
        if dist is not None:
            out.append({"when": {given: value}, "distribution": dist})
    return out


def _cell_distribution(p, path: str, summary: Summary, template: dict, overall: dict):
    """A cell's distribution; a cell whose values are all null keeps the overall shape with
    a null share of one (the generator then writes only nulls there)."""
    if summary.n == 0:
        return {**overall, "null_fraction": 1.0}
    return p.guard.continuous(path, summary, template)


def _merged(cells: dict):
    """The null and non-null Cells of one given value as one Cell (its people counted as
    the larger part's, a lower bound of the distinct people behind the value)."""
    parts = list(cells.values())
    return sum(parts[1:], parts[0]) if parts else None


def _number(p, table: str, column: str, kind: str) -> str:
    """The column as a number (days for dates and times, as the extra's profile holds; text
    as text, whose null-ness alone is read)."""
    if kind == "string":
        return p.reader.col(table, column, "text", "t")
    if kind in ("date", "timestamp"):
        return f"{p.sql.seconds(p.reader.col(table, column, 'time'))} / 86400.0"
    return p.reader.col(table, column, "number", "t")
