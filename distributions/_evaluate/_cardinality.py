"""Cardinality: for every foreign key, the distribution of children per parent row (zeros
included: a parent without children is a count of 0), compared by KS."""

from __future__ import annotations

from distributions._evaluate._context import Context
from distributions._evaluate._figures import Figure, distance_figure, not_applicable, rescale
from distributions._evaluate._keys import ForeignKey
from distributions._evaluate._sql import HB, SPLITS, Side, q, split_rows, split_sets
from distributions._evaluate._stats import (
    cdf_at,
    ks_at_points,
    ks_discrete,
    mean_of,
    quantile_points,
)

PLOT_MAX = 60  # counts above this share the last bar of the plot
MIN_PARENTS = 20  # fewer parent rows than this make no distribution: shown, not judged


def children_counts(ctx: Context, side: Side, fk: ForeignKey) -> list[dict[int, dict]]:
    """[split: {half of the parent: {children: parents with that many}}]."""
    # the children counted per key first (one pass over the child, a small result), then
    # joined to the parents
    sql = f"""
SELECT hb, n, count(*) FROM (
  SELECT p.{HB} hb, coalesce(c.n, 0) n
  FROM {side.keyed(fk.parent)} p LEFT JOIN (
    SELECT {q(fk.column)} k, count(*) n FROM {side.rel(fk.child)}
    WHERE {q(fk.column)} IS NOT NULL GROUP BY {q(fk.column)}) c
    ON c.k = p.{q(fk.key)})
GROUP BY {split_sets('n')}"""
    out: list[dict[int, dict]] = [{0: {}, 1: {}} for _ in range(SPLITS)]
    for split, half, (n, parents) in split_rows(side.rows(sql)):
        out[split][half][int(n)] = out[split][half].get(int(n), 0) + int(parents)
    return out


def _split_floor(splits: list[dict[int, dict]]) -> float | None:
    return mean_of(ks_discrete(s[0], s[1]) for s in splits)


def _merge(halves: dict[int, dict[int, int]]) -> dict[int, int]:
    total: dict[int, int] = {}
    for counts in halves.values():
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return total


def cardinality_figures(ctx: Context) -> list[Figure]:
    """Children-per-parent KS of every foreign key present on both sides."""
    figures = []
    tables = set(ctx.tables())
    for fk in ctx.keys.foreign:
        if fk.child == fk.parent or not {fk.child, fk.parent} <= tables:
            continue
        ref_splits = children_counts(ctx, ctx.reference, fk)
        syn_splits = ref_splits if ctx.real is None else children_counts(ctx, ctx.synthetic, fk)
        syn = _merge(syn_splits[0])
        if ctx.real is None:
            figures.append(_against_profile(ctx, fk, ref_splits, syn))
            continue
        real = _merge(ref_splits[0])
        figures.append(_figure(ctx, fk, real, syn, ref_splits, "real"))
    return [f for f in figures if f is not None]


def _figure(ctx: Context, fk: ForeignKey, ref: dict, syn: dict, splits: list,
            reference: str) -> Figure:
    halves = splits[0]
    sizes = ((sum(halves[0].values()), sum(halves[1].values())),
             (sum(ref.values()), sum(syn.values())))
    floor = _split_floor(splits)
    floor = rescale(floor, *sizes) if floor is not None else None
    plot = _plot(ctx, fk, {reference: ref, "synthetic": syn})
    if min(sizes[1]) < MIN_PARENTS:
        return not_applicable("cardinality", fk.child, "children_per_parent_ks",
                              f"fewer than {MIN_PARENTS} {fk.parent} rows: no distribution "
                              "to compare", column=fk.column, plot=plot,
                              extra={"parent": fk.parent, "mean_" + reference: _mean(ref),
                                     "mean_synthetic": _mean(syn)})
    return distance_figure("cardinality", fk.child, "children_per_parent_ks",
                           ks_discrete(ref, syn), floor, "children_ks", column=fk.column,
                           reference=reference, plot=plot,
                           extra={"parent": fk.parent, "mean_" + reference: _mean(ref),
                                  "mean_synthetic": _mean(syn)})


def _against_profile(ctx: Context, fk: ForeignKey, splits: list, syn: dict) -> Figure | None:
    """Profile mode: the profile's `rows.per_parent` of the child, for its layout parent."""
    if ctx.keys.layout_parent.get(fk.child) != fk.parent:
        return None
    spec = (ctx.profile or {}).get("tables", {}).get(fk.child, {}).get("rows", {})
    dist = spec.get("per_parent")
    if dist and dist.get("kind") == "conditional":  # given a parent column: its pooled counts
        dist = dist["otherwise"]
    if not dist:
        return not_applicable("cardinality", fk.child, "children_per_parent_ks",
                              "the profile has no children-per-parent distribution here",
                              column=fk.column, extra={"parent": fk.parent})
    halves = splits[0]
    sizes = ((sum(halves[0].values()), sum(halves[1].values())),
             (10**12, sum(syn.values())))  # the profile is the distribution itself
    floor = _split_floor(splits)
    floor = rescale(floor, *sizes) if floor is not None else None
    if dist.get("kind") == "categorical":
        ref = {float(v["value"]): v["p"] for v in dist["values"]}
        value = ks_discrete(ref, syn)
    elif dist.get("kind") == "continuous" and dist.get("quantiles"):
        points = quantile_points(dist["quantiles"], dist.get("max"))
        value = ks_at_points(points, cdf_at(syn, [v for v, _ in points]))
        ref = None
    else:
        return not_applicable("cardinality", fk.child, "children_per_parent_ks",
                              f"the profile's per_parent is a {dist.get('family', '?')} "
                              "family without quantiles", column=fk.column,
                              extra={"parent": fk.parent})
    plot = _plot(ctx, fk, {"profile": ref, "synthetic": syn} if ref else {"synthetic": syn})
    return distance_figure("cardinality", fk.child, "children_per_parent_ks", value, floor,
                           "children_ks", column=fk.column, reference="profile", plot=plot,
                           extra={"parent": fk.parent, "mean_synthetic": _mean(syn)})


def _mean(counts: dict) -> float | None:
    total = sum(counts.values())
    return sum(k * v for k, v in counts.items()) / total if total else None


def _plot(ctx: Context, fk: ForeignKey, sides: dict[str, dict]) -> str:
    top = min(PLOT_MAX, int(max((max(c) for c in sides.values() if c), default=0)))
    series = {}
    for name, counts in sides.items():
        total = sum(counts.values()) or 1
        bars = [0.0] * (top + 1)
        for n, parents in counts.items():
            bars[min(int(n), top)] += parents / total
        series[name] = bars
    return ctx.add_plot({"type": "bars", "title": f"{fk.child} per {fk.parent} "
                         f"({fk.column})", "x": list(range(top + 1)), "series": series,
                         "xlabel": "children per parent", "ylabel": "share of parents"})
