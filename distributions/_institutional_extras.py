"""Columns of institutional tables (no person behind a row) given another attribute.

An assessment's type (TMA, CMA, Exam) in a converted dataset follows its group (one group per
type); drawn on its own it pairs any title with any type. The Chow-Liu tree over extras
(`_dependencies.extra_dependency_part`) counts people, so it leaves tables without a person
column alone. Here each text extra of such a table, and each learnable registry text column
drawn per row (a group's name: only two modules of seven set CMAs), takes as its `given` the
text column of a parent row (one FK hop) it shares most information with, from row counts:
rows of institutional tables are not people, so no cell is suppressed for being few.

Numbers follow their row's kind too: every exam of that dataset weighs 100 and every CMA 0,
the TMAs share the other 100; drawn on its own, a group's weight averaged 37.6 for exams and
25.9 for CMAs. So each number of such a table that the generator draws from its
distribution (a group's weight, a numeric extra) takes as its `given` the table's own text
column it shares most information with over its deciles, each value its own quantiles.
"""

from __future__ import annotations

from distributions._course_shapes import broad_columns, significant
from distributions._dependencies import best_given, parent_nodes
from distributions._estimators import Cell, decile_bins, summarize, value_counts

# registry numbers of institutional tables drawn through their profile distribution (a rule
# that reads it with `engine.sample`, which draws a conditional's cells); extras always are
DRAWN_NUMBERS = {("learner_activity_group", "group_weight")}


def institutional_extra_part(p, profile: dict) -> None:
    """Condition each categorical text extra of a person-less table on a parent attribute."""
    for table, spec in sorted(profile["tables"].items()):
        entity = p.entities.get(table)
        if entity is None or table not in p.reader.tables or \
                any(c.name == "person_id" for c in entity.columns):
            continue
        # numbers first: they are learned given a text column that is still unconditional
        for column in _numbers(table, spec):
            if p.reader.has(table, column):
                _condition_number(p, spec["columns"], table, column)
        extras = spec.get("extras", {})
        for column in _texts(entity, spec):
            if spec["columns"].get(column, {}).get("kind") == "categorical" and \
                    p.reader.has(table, column):
                _condition(p, profile, table, column, broad=column not in extras)


def _texts(entity, spec: dict) -> list[str]:
    """The table's text extras and its learnable registry text columns drawn per row (a
    group's name: a course's kinds of work follow its module as its extras do)."""
    extras = [c for c, e in spec.get("extras", {}).items() if e.get("type") == "string"]
    learned = [c.name for c in entity.columns if c.type == "string" and c.learnable
               and c.keyed_by is None and not c.sensitive]
    return sorted(set(extras + learned))


def _numbers(table: str, spec: dict) -> list[str]:
    """The table's continuous columns drawn from their distribution as it stands (no unit
    relative to another column, no link to a partner column)."""
    extras = {c for c, e in spec.get("extras", {}).items() if e.get("type") != "string"}
    return [c for c, d in sorted(spec["columns"].items())
            if d.get("kind") == "continuous" and "unit" not in d
            and c not in spec.get("links", {})
            and (c in extras or (table, c) in DRAWN_NUMBERS)]


def _condition_number(p, columns: dict, table: str, column: str) -> None:
    """Condition a number on the own text column that tells most about its deciles."""
    overall = columns[column]
    x = p.reader.col(table, column, "number", "t")
    binned = decile_bins(overall, x)
    texts = [c for c, d in sorted(columns.items()) if c != column and p.reader.has(table, c)
             and _is_text(d)]
    if binned is None or not texts:
        return
    best = best_given(texts, lambda given: value_counts(p.reader, (
        f"SELECT {p.reader.col(table, given, 'text', 't')} AS g0, {binned} AS v "
        f"FROM {p.reader.rel(table)} AS t"), 1))
    if best is None:
        return
    given, gain, _ = best
    path = f"/tables/{table}/columns/{column}"
    summaries = summarize(p.reader, f"SELECT {p.reader.col(table, given, 'text', 't')} AS g0, "
                                    f"{x} AS x FROM {p.reader.rel(table)} AS t", p.guard.k, 1)
    cells = [{"when": {given: str(value)}, "distribution": p.guard.continuous(
                f"{path}/cells[{given}={value}]", summary, overall, people=False)}
             for (value,), summary in sorted(summaries.items(), key=lambda i: str(i[0]))
             if value is not None and summary.n]
    if cells:
        columns[column] = {"kind": "conditional", "given": [given], "cells": cells,
                           "otherwise": overall}
        p.notes.append(f"{path}: learned given [{given}] (MI {gain:.4f} nats over its deciles, "
                       "the own text column it shares most with; rows of an institutional "
                       "table): each value its own quantiles")


def _is_text(spec: dict) -> bool:
    """A categorical column of text values (what a conditional's cells match on)."""
    values = spec.get("values") if spec.get("kind") == "categorical" else None
    return bool(values) and all(isinstance(v["value"], str) for v in values
                                if v["value"] is not None)


def _condition(p, profile: dict, table: str, column: str, broad: bool) -> None:
    """`broad`: only given a layout parent's column whose values hold several parents (a
    registry column: `_course_shapes.broad_columns`)."""
    path = f"/tables/{table}/columns/{column}"
    parent = p.entities[table].layout.parent
    candidates = broad_columns(p, parent, parent_nodes(p, profile, table, (parent,))) \
        if broad else parent_nodes(p, profile, table)
    best = best_given(candidates, lambda given: _counts(p, table, column, given))
    if best is None or (broad and not significant(best[2])):
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
