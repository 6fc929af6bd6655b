"""Across tables: how a child's columns depend on its parent's attributes, one hop
(enrollment given its person) and two hops (a result given the course offering of its
activity, or the person of its enrollment), as the difference in Cramér's V between the
real source and the warehouse on the joined rows."""

from __future__ import annotations

from dataclasses import replace

from distributions._evaluate._context import ColumnInfo, Context
from distributions._evaluate._figures import Figure, distance_figure, rescale
from distributions._evaluate._keys import ForeignKey
from distributions._evaluate._pairs import association_floor, contingency, shown_if_sparse
from distributions._evaluate._sql import Side, q
from distributions._evaluate._stats import cramers_v

PARENT_ATTRIBUTES = 3  # categorical attributes of the ancestor, per path
CHILD_COLUMNS = 5  # compared columns of the child, per path
SAMPLE_ROWS = 50_000  # child rows read per path (associations settle long before this)
EVENTS = "expanded"  # the event store has its own family (_events.py)


def paths(ctx: Context) -> list[tuple[ForeignKey, ...]]:
    """Foreign-key paths of one and two hops from a child to an ancestor that has
    categorical attributes (self references and cycles left out)."""
    edges = [f for f in ctx.keys.foreign if f.child != f.parent]
    found = [(f,) for f in edges]
    direct = {(f.child, f.parent) for f in edges}
    # two hops only to an ancestor the child does not reach in one (a result's person is
    # its own foreign key; its activity's course offering is two hops away)
    found += [(f, g) for f in edges for g in edges
              if g.child == f.parent and g.parent not in (f.child, f.parent)
              and (f.child, g.parent) not in direct]
    tables = set(ctx.tables()) - {EVENTS}
    return [p for p in found if all(f.child in tables and f.parent in tables for f in p)]


def cross_table_figures(ctx: Context) -> list[Figure]:
    """Parent attribute × child column trends along every one- and two-hop path."""
    figures = []
    for path in paths(ctx):
        child, ancestor = path[0].child, path[-1].parent
        attrs = [i for i in ctx.columns(ancestor) if i.kind == "categorical"][:PARENT_ATTRIBUTES]
        cols = ctx.columns(child)[:CHILD_COLUMNS]
        if attrs and cols:
            figures += _path_figures(ctx, path, attrs, cols)
    return figures


def _joined(side: Side, path: tuple[ForeignKey, ...], attrs: list[ColumnInfo]) -> str:
    """The child's sampled rows with the ancestor's attributes as columns a__<name>."""
    child = path[0].child
    sql = f"{side.rel(child, limit=SAMPLE_ROWS)} t0"
    for i, fk in enumerate(path, start=1):
        sql += (f" LEFT JOIN {side.rel(fk.parent)} t{i} "
                f"ON t{i - 1}.{q(fk.column)} = t{i}.{q(fk.key)}")
    last = f"t{len(path)}"
    extra = ", ".join(f"{last}.{q(a.name)} AS {q('a__' + a.name)}" for a in attrs)
    return f"(SELECT t0.*, {extra} FROM {sql})"


def _path_figures(ctx: Context, path, attrs: list[ColumnInfo], cols: list[ColumnInfo]):
    child = path[0].child
    infos = [replace(a, name="a__" + a.name) for a in attrs] + cols
    pairs = [(i, len(attrs) + j) for i in range(len(attrs)) for j in range(len(cols))]
    labels = [i.label for i in infos]
    real = contingency(ctx.real, _joined(ctx.real, path, attrs), labels, pairs)
    syn = contingency(ctx.synthetic, _joined(ctx.synthetic, path, attrs), labels, pairs,
                      halves=False)
    route = [path[0].child] + [f.parent for f in path]
    figures = []
    for a, c in pairs:
        floor, n_a, n_b = association_floor(real, (a, c))
        tables = [real["whole"].get((a, c), {}), syn["whole"].get((a, c), {})]
        v = [None, None] + [cramers_v(t) for t in tables]
        n = [n_a, n_b] + [int(sum(t.values())) for t in tables]
        floor = None if floor is None else rescale(floor, (n[0], n[1]), (n[2], n[3]))
        value = None if None in v[2:] else abs(v[2] - v[3])
        attr = f"{route[-1]}.{attrs[a].name}"
        figures.append(shown_if_sparse(distance_figure(
            "cross_table", child, "trend_v_diff", value, floor, "trend_v",
            columns=[attr, infos[c].name], reference="real",
            extra={"path": route, "hops": len(path), "real": v[2], "synthetic": v[3]},
            note=None if value is not None else "association undefined (a constant column)"),
            tables[0]))
    return figures
