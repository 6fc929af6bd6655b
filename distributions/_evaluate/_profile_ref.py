"""Profile mode: the warehouse's columns against the profile's own distributions —
categorical shares by 1 − TVD, continuous columns by KS against the stored quantiles. The
floor is the warehouse's own split-half noise at its size. A distribution the warehouse
cannot be read against (conditional, parametric, in another unit, a key drawn by name) is
reported as not applicable."""

from __future__ import annotations

from distributions._evaluate._columns import value_counts
from distributions._evaluate._context import Context, number
from distributions._evaluate._figures import (
    Figure,
    distance_figure,
    not_applicable,
    rescale,
    similarity_figure,
)
from distributions._evaluate._sql import HB, SPLITS, q, split_rows, split_sets
from distributions._evaluate._stats import ks_at_points, ks_counts, mean_of, quantile_points, tvd
from pipeline.udp._registry import REGISTRY
from pipeline.udp._schema import ORDINAL

NULL = "(null)"


def normalized(value) -> str:
    """One spelling for a category on both sides: numbers as %g, null as (null)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return str(value).lower()
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def profile_column_figures(ctx: Context) -> list[Figure]:
    """Every column distribution of the profile, read against the warehouse."""
    figures = []
    for table, spec in sorted((ctx.profile or {}).get("tables", {}).items()):
        for column, dist in sorted(spec.get("columns", {}).items()):
            figures.append(_column(ctx, table, column, dist))
    return figures


def _column(ctx: Context, table: str, column: str, dist: dict) -> Figure:
    common = {"column": column, "reference": "profile"}
    syn = ctx.synthetic
    if not syn.has(table, column):
        return Figure("column", table, "column_present", 0.0, None, 1.0, False,
                      direction="higher", note="the profile describes it; the warehouse "
                      "does not have it", **common)
    kind = dist.get("kind")
    if ctx.keys.is_key(table, column) or kind == "foreign_key":
        return not_applicable("column", table, "1-tvd", "a key column (its profile "
                              "distribution is over what it points at)", **common)
    if kind == "categorical":
        return _categorical(ctx, table, column, dist, common)
    if kind == "continuous" and dist.get("unit"):
        return not_applicable("column", table, "ks", f"profiled in {dist['unit']}, not on "
                              "the column's own scale", **common)
    if kind == "continuous" and dist.get("quantiles"):
        return _quantiles(ctx, table, column, dist, common)
    what = "conditional" if kind == "conditional" else f"a {dist.get('family')} family"
    return not_applicable("column", table, "1-tvd" if kind == "conditional" else "ks",
                          f"the profile holds {what}: no marginal to compare with", **common)


def _categorical(ctx: Context, table: str, column: str, dist: dict, common: dict) -> Figure:
    syn = ctx.synthetic
    unit = _draw_unit(syn, table, column)
    if unit is None:
        rows = syn.rows(f"SELECT hb, v, count(*) FROM (SELECT {HB} hb, {q(column)} v "
                        f"FROM {syn.sample(table)} s) GROUP BY {split_sets('v')}")
    else:  # rows sharing one draw go to the same half, and each counts once in n
        rows = syn.rows(f"SELECT {syn.split_bits('u')} hb, v, count(*) FROM (SELECT {unit} u, "
                        f"{q(column)} v FROM {syn.sample(table)} s) x GROUP BY 1, 2")
    found: list[dict] = [{0: {}, 1: {}} for _ in range(SPLITS)]
    for split, half, (value, n) in split_rows(rows):
        label = normalized(value)
        found[split][half][label] = found[split][half].get(label, 0) + int(n)
    halves = found[0]
    whole = {k: halves[0].get(k, 0) + halves[1].get(k, 0) for k in set(halves[0]) | set(halves[1])}
    reference: dict[str, float] = {}
    for item in dist["values"]:
        label = normalized(item["value"])
        reference[label] = reference.get(label, 0.0) + float(item["p"])
    labels = sorted(set(reference) | set(whole), key=lambda k: -reference.get(k, 0))
    n = sum(whole.values())
    total = n or 1
    plot = ctx.add_plot({"type": "bars", "title": f"{table}.{column}", "x": labels,
                         "series": {"profile": [reference.get(k, 0) for k in labels],
                                    "synthetic": [whole.get(k, 0) / total for k in labels]}})
    sizes = [(n // 2, n - n // 2)] * SPLITS if unit is None else _unit_halves(syn, table, unit)
    # the profile is the distribution itself: only the warehouse's own sampling noise counts,
    # each split's halves rescaled to the warehouse's independent draws (rows, or units)
    splits = [(tvd(s[0], s[1]), a, b) for s, (a, b) in zip(found, sizes, strict=True)]
    floor = mean_of(rescale(d, (a, b), (10**12, a + b)) for d, a, b in splits
                    if min(a, b) > 0 and d is not None)
    return similarity_figure("column", table, "1-tvd", tvd(reference, whole), floor, "tvd",
                             plot=plot, **common)


def _draw_unit(syn, table: str, column: str) -> str | None:
    """SQL of what one random draw of a registry column is shared by in the warehouse, or
    None when each row draws its own. A course recurring across terms draws its CIP family,
    credits, level and names once (keyed by its position in the term): its offerings agree
    on every such column, so 24 offerings of 6 courses are 6 draws, not 24. A column keyed
    by a parent row (a student's load in each of their terms) is one draw per parent."""
    try:
        keyed_by = REGISTRY[table].column(column).keyed_by
    except KeyError:  # not a registry column (an institution's extra): drawn per row
        return None
    if keyed_by is None:
        return None
    if keyed_by != ORDINAL:
        return q(keyed_by) if syn.has(table, keyed_by) else None
    together = [c.name for c in REGISTRY[table].columns
                if c.keyed_by == ORDINAL and syn.has(table, c.name)]
    return "concat(" + ", '|', ".join(f"coalesce(CAST({q(c)} AS VARCHAR), '')"
                                      for c in together) + ")"


def _unit_halves(syn, table: str, unit: str) -> list[tuple[int, int]]:
    """(units in half 0, units in half 1) of each split of the table's sample."""
    rows = syn.rows(f"SELECT {syn.split_bits('u')} hb, count(*) FROM (SELECT DISTINCT {unit} u "
                    f"FROM {syn.sample(table)} s) x GROUP BY 1")
    sizes = [[0, 0] for _ in range(SPLITS)]
    for split, half, (n,) in split_rows(rows):
        sizes[split][half] += int(n)
    return [(a, b) for a, b in sizes]


def _quantiles(ctx: Context, table: str, column: str, dist: dict, common: dict) -> Figure:
    syn = ctx.synthetic
    sql_type = syn.columns[table][column].upper()
    value = number(column, "temporal" if "TIME" in sql_type or sql_type == "DATE"
                   else "numeric")
    points = quantile_points(dist["quantiles"], dist.get("max"))
    shares = ", ".join(f"avg(CASE WHEN v <= {x!r} THEN 1.0 ELSE 0.0 END)" for x, _ in points)
    found = syn.rows(f"SELECT {shares} FROM (SELECT {value} v FROM {syn.sample(table)} s) x "
                     "WHERE v IS NOT NULL")[0]
    statistic = ks_at_points(points, [float(f) for f in found]) if found[0] is not None \
        else None
    values, counts, bits = value_counts(syn, table, value)
    floor = mean_of(ks_counts(values, counts * ((bits >> s) & 1 == 0), values,
                              counts * ((bits >> s) & 1 == 1)) for s in range(SPLITS))
    return distance_figure("column", table, "ks", statistic, floor, "ks", **common)
