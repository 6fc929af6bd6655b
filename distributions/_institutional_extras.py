"""Text extras of institutional tables (no person behind a row) given a parent row's attribute.

An assessment's type (TMA, CMA, Exam) in a converted dataset follows its group (one group per
type); drawn on its own it pairs any title with any type. The Chow-Liu tree over extras
(`_dependencies.extra_dependency_part`) counts people, so it leaves tables without a person
column alone. Here each text extra of such a table takes as its `given` the text column of a
parent row (one FK hop) it shares most information with, from row counts: rows of
institutional tables are not people, so no cell is suppressed for being few.
"""

from __future__ import annotations

from distributions._dependencies import best_given, parent_nodes
from distributions._estimators import Cell, value_counts


def institutional_extra_part(p, profile: dict) -> None:
    """Condition each categorical text extra of a person-less table on a parent attribute."""
    for table, spec in sorted(profile["tables"].items()):
        entity = p.entities.get(table)
        if entity is None or table not in p.reader.tables or \
                any(c.name == "person_id" for c in entity.columns):
            continue
        for column, extra in sorted(spec.get("extras", {}).items()):
            if extra.get("type") == "string" and \
                    spec["columns"].get(column, {}).get("kind") == "categorical":
                _condition(p, profile, table, column)


def _condition(p, profile: dict, table: str, column: str) -> None:
    path = f"/tables/{table}/columns/{column}"
    best = best_given(parent_nodes(p, profile, table),
                      lambda given: _counts(p, table, column, given))
    if best is None:
        return
    given, gain, counts = best
    overall = profile["tables"][table]["columns"][column]
    cells = []
    for (value,), per in sorted(counts.items(), key=lambda item: str(item[0])):
        dist = None if value is None else p.guard.categorical(
            f"{path}/cells[{given}={value}]", {v: Cell(float(n)) for v, n in per.items()},
            text=True, nodata=False)
        if dist is not None:
            cells.append({"when": {given: str(value)}, "distribution": dist})
    if cells:
        profile["tables"][table]["columns"][column] = {
            "kind": "conditional", "given": [given], "cells": cells, "otherwise": overall}
        p.notes.append(f"{path}: learned given [{given}] (MI {gain:.4f} nats, the parent "
                       "attribute it shares most with; rows of an institutional table)")


def _counts(p, table: str, column: str, given: str) -> dict:
    """{(parent value,): {value: rows}} of the extra against one parent attribute."""
    r = p.reader
    fk, parent_column = given.split(".", 1)
    parent = p.entities[table].parent_of(fk)
    pk = p.entities[parent].primary_key[0]
    base = (f"SELECT {r.col(parent, parent_column, 'text', 'q')} AS g0, "
            f"{r.col(table, column, 'text', 't')} AS v FROM {r.rel(table)} AS t "
            f"LEFT JOIN {r.rel(parent)} AS q ON t.{r.sql.ident(fk)} = q.{r.sql.ident(pk)}")
    return value_counts(r, base, 1)
