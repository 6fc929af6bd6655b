"""Across tables: how a child's columns depend on its parent's attributes, one hop
(enrollment given its person) and two hops (a result given the course offering of its
activity, or the person of its enrollment), as the difference in Cramér's V between the
real source and the warehouse on the joined rows."""

from __future__ import annotations

from dataclasses import replace

from distributions._evaluate._context import ColumnInfo, Context
from distributions._evaluate._figures import Figure, distance_figure, rescale
from distributions._evaluate._keys import ForeignKey
from distributions._evaluate._pairs import (
    association_floor,
    at_least_chance,
    contingency,
    shown_if_sparse,
)
from distributions._evaluate._sql import HB, Side, q
from distributions._evaluate._stats import chance_v, cramers_v

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
    """Parent attribute × child column trends along every one- and two-hop path. Each
    child's sample is joined to every ancestor its paths reach and labelled once per side
    (a join and labelling per path was most of this family's time at 20,000 FTE)."""
    routes: dict[str, list[tuple]] = {}  # child -> [(path, ancestor attributes)]
    for path in paths(ctx):
        child, ancestor = path[0].child, path[-1].parent
        attrs = [i for i in ctx.columns(ancestor) if i.kind == "categorical"][:PARENT_ATTRIBUTES]
        if attrs and ctx.columns(child)[:CHILD_COLUMNS]:
            routes.setdefault(child, []).append((path, attrs))
    found = {child: _child_figures(ctx, child, mine) for child, mine in routes.items()}
    # in the order of the paths, as one query per path gave them
    return [figure for path in paths(ctx) for figure in found.get(path[0].child, {}).get(path, [])]


def _joined(side: Side, child: str, routes: list[tuple]) -> str:
    """The child's sampled rows with each route's ancestor attributes as columns
    a<route>__<name>: one LEFT JOIN per distinct hop (routes share their first hops)."""
    sql = f"{side.rel(child, limit=SAMPLE_ROWS)} t0"
    aliases: dict[tuple, str] = {(): "t0"}
    extra = []
    for n, (path, attrs) in enumerate(routes):
        for hop in range(1, len(path) + 1):
            if path[:hop] in aliases:
                continue
            alias, fk = f"t{len(aliases)}", path[hop - 1]
            sql += (f" LEFT JOIN {side.rel(fk.parent)} {alias} "
                    f"ON {aliases[path[:hop - 1]]}.{q(fk.column)} = {alias}.{q(fk.key)}")
            aliases[path[:hop]] = alias
        extra += [f"{aliases[path]}.{q(a.name)} AS {q(_attribute(n, a))}" for a in attrs]
    return f"(SELECT t0.*, {', '.join(extra)} FROM {sql})"


def _attribute(route: int, attr: ColumnInfo) -> str:
    return f"a{route}__{attr.name}"


def _child_figures(ctx: Context, child: str, routes: list[tuple]) -> dict[tuple, list[Figure]]:
    """{path: its figures} of one child's routes. Each side's sample of the child is joined
    to its ancestors and labelled once (a temporary table in DuckDB); then one contingency
    query per route (one with every route's grouping sets outgrows DuckDB's memory cap)."""
    cols = ctx.columns(child)[:CHILD_COLUMNS]
    infos, pairs_by_path = [], {}
    for n, (path, attrs) in enumerate(routes):
        first = len(infos)
        infos += [replace(a, name=_attribute(n, a)) for a in attrs]
        pairs_by_path[path] = [(first + i, j) for i in range(len(attrs)) for j in range(len(cols))]
    last = len(infos)
    labels = [i.label for i in infos + cols]
    tables = {}
    for side in (ctx.real, ctx.synthetic):
        labelled = _labelled(side, child, routes, labels)
        found = [_contingency(side, labelled, [(a, last + c) for a, c in mine],
                              halves=side is ctx.real) for mine in pairs_by_path.values()]
        tables[side.name] = _merged(found)
    out = {}
    for path, attrs in routes:
        first = pairs_by_path[path][0][0]
        out[path] = [_figure(path, attrs[a - first], cols[c], (a, last + c), tables["real"],
                             tables["synthetic"]) for a, c in pairs_by_path[path]]
    return out


def _labelled(side: Side, child: str, routes: list[tuple], labels: list[str]) -> str:
    """The joined sample's split bits and labels (c0, c1, ...), made once."""
    selects = ", ".join(f"{label} c{i}" for i, label in enumerate(labels))
    return side.materialize(f"cross_{child}",
                            f"SELECT {HB}, {selects} FROM {_joined(side, child, routes)} j")


def _contingency(side: Side, labelled: str, pairs: list[tuple[int, int]], halves: bool) -> dict:
    """`contingency` of some pairs of the labelled columns (c<i>), keyed by their i."""
    used = sorted({i for pair in pairs for i in pair})
    local = {i: n for n, i in enumerate(used)}
    found = contingency(side, labelled, [f"c{i}" for i in used],
                        [(local[a], local[b]) for a, b in pairs], halves)

    def back(tables: dict) -> dict:
        return {(used[a], used[b]): table for (a, b), table in tables.items()}
    return {"whole": back(found["whole"]),
            "splits": [{h: back(split[h]) for h in (0, 1)} for split in found["splits"]]}


def _merged(found: list[dict]) -> dict:
    """Contingency tables of disjoint pairs, as one."""
    out = {"whole": {}, "splits": [{0: {}, 1: {}} for _ in found[0]["splits"]]}
    for part in found:
        out["whole"].update(part["whole"])
        for mine, theirs in zip(out["splits"], part["splits"], strict=True):
            for half in (0, 1):
                mine[half].update(theirs[half])
    return out


def _figure(path, attr: ColumnInfo, col: ColumnInfo, pair: tuple, real: dict,
            syn: dict) -> Figure:
    """One trend figure: the difference in Cramér's V of an ancestor attribute and a child
    column, real against synthetic, beside the real halves' floor."""
    child, route = path[0].child, [path[0].child] + [f.parent for f in path]
    floor, n_a, n_b = association_floor(real, pair)
    tables = [real["whole"].get(pair, {}), syn["whole"].get(pair, {})]
    v = [cramers_v(t) for t in tables]
    n = [int(sum(t.values())) for t in tables]
    floor = None if floor is None else rescale(floor, (n_a, n_b), (n[0], n[1]))
    floor = at_least_chance(floor, chance_v(tables[0]))
    value = None if None in v else abs(v[0] - v[1])
    return shown_if_sparse(distance_figure(
        "cross_table", child, "trend_v_diff", value, floor, "trend_v",
        columns=[f"{route[-1]}.{attr.name}", col.name], reference="real",
        extra={"path": route, "hops": len(path), "real": v[0], "synthetic": v[1]},
        note=None if value is not None else "association undefined (a constant column)"),
        tables[0])
