"""Per-column figures: 1 − TVD over categories (numbers binned at the reference's deciles,
nulls a category of their own), KS over numeric and date values, and the null share, each
against the split-half floor of the reference. Missing tables and columns fail."""

from __future__ import annotations

import numpy as np

from distributions._evaluate._context import NULL, ColumnInfo, Context
from distributions._evaluate._figures import (
    Figure,
    distance_figure,
    rescale,
    similarity_figure,
)
from distributions._evaluate._sql import HB, SPLITS, Side, half_of
from distributions._evaluate._stats import ks_counts, ks_halves, mean_of, shares, tvd
from distributions._privacy import sensitive_name

HISTOGRAM_BINS = 30


def column_figures(ctx: Context) -> list[Figure]:
    """Every compared column of every table on both sides (real-source mode)."""
    figures = _missing(ctx)
    for table in ctx.tables():
        infos = ctx.columns(table)
        if not infos:
            continue
        _sample_note(ctx, table)
        real, syn = (table_counts(ctx, side, table, infos) for side in (ctx.real, ctx.synthetic))
        numbers = [info for info in infos if info.kind != "categorical"]
        values = {"real": table_values(ctx.real, table, numbers),
                  "synthetic": table_values(ctx.synthetic, table, numbers, halves=False)}
        for info in infos:
            mine = None if info.kind == "categorical" else \
                {name: found[info.name] for name, found in values.items()}
            figures += compare_column(ctx, info, real[info.name], syn[info.name], mine)
    return figures


def _missing(ctx: Context) -> list[Figure]:
    """Tables and columns of the real source that the warehouse does not have."""
    figures = []
    for table in sorted(set(ctx.real.columns) - set(ctx.synthetic.columns)):
        figures.append(Figure("column", table, "table_present", 0.0, None, 1.0, False,
                              direction="higher", reference="real",
                              note="the real source has this table; the warehouse does not"))
    for table in ctx.tables():
        for name in ctx.real.columns[table]:
            # keys and sensitive columns (names, e-mails, free text) are left out on purpose
            if name not in ctx.synthetic.columns[table] and not ctx.keys.is_key(table, name) \
                    and not sensitive_name(name):
                figures.append(Figure("column", table, "column_present", 0.0, None, 1.0, False,
                                      column=name, direction="higher", reference="real",
                                      note="in the real source, not in the warehouse"))
    return figures


def table_counts(ctx: Context, side: Side, table: str,
                 infos: list[ColumnInfo]) -> dict[str, list[dict[int, dict]]]:
    """{column: [split: {half: {category label: rows}}]} of a table's columns on one side,
    in one scan (the whole side is the sum of any split's two halves). Each category's
    rows in half 0 of every split are counted beside its whole (half 1 is the rest)."""
    names = [f"c{n}" for n in range(len(infos))]
    labels = ", ".join(f"{info.label} {name}" for info, name in zip(infos, names, strict=True))
    halves = ", ".join(f"sum(CASE WHEN {half_of('hb', s)} = 0 THEN 1 ELSE 0 END)"
                       for s in range(SPLITS))
    rows = side.rows(
        f"SELECT {', '.join(names)}, count(*), {halves} "
        f"FROM (SELECT {HB} hb, {labels} FROM {side.sample(table)} s) "
        f"GROUP BY GROUPING SETS ({', '.join(f'({name})' for name in names)})")
    out = {info.name: [{0: {}, 1: {}} for _ in range(SPLITS)] for info in infos}
    width = len(names)
    for row in rows:  # one row per column and category (labels are never null)
        column = next(n for n, label in enumerate(row[:width]) if label is not None)
        label, n = row[column], int(row[width])
        for split, counts in zip(out[infos[column].name], row[width + 1:], strict=True):
            for half, count in ((0, int(counts)), (1, n - int(counts))):
                if count:  # a category absent from a half is not a zero of it
                    split[half][label] = count
    return out


def merged(halves: dict[int, dict[str, int]]) -> dict[str, int]:
    """The whole side's counts from its halves."""
    total: dict[str, int] = {}
    for counts in halves.values():
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return total


def split_floor(splits: list[dict[int, dict]], distance) -> float | None:
    """The mean over the splits of the distance between their two halves."""
    return mean_of(distance(s[0], s[1]) for s in splits)


def compare_column(ctx: Context, info: ColumnInfo, real_splits: list, syn_splits: list,
                   values: dict | None) -> list[Figure]:
    """1 − TVD, null share and (numbers, dates) KS of one column against the real source,
    from its category counts on each side and (numbers, dates) its value counts."""
    real = merged(real_splits[0])
    syn = merged(syn_splits[0])
    sizes = _sizes(real_splits[0], syn)
    plot = _plot(ctx, info, real, syn, values)
    sampled = _sampled(ctx, info.table)
    common = dict(column=info.name, reference="real", plot=plot, extra=sampled)
    floor = _floor(split_floor(real_splits, tvd), sizes)
    figures = [similarity_figure("column", info.table, "1-tvd", tvd(real, syn), floor, "tvd",
                                 **common)]
    null_real, null_syn = shares(real).get(NULL, 0.0), shares(syn).get(NULL, 0.0)
    null_floor = split_floor(real_splits, lambda a, b: abs(shares(a).get(NULL, 0.0)
                                                           - shares(b).get(NULL, 0.0)))
    figures.append(distance_figure("column", info.table, "null_share_diff",
                                   abs(null_real - null_syn), _floor(null_floor, sizes),
                                   "null_share", **{**common, "extra": {
                                       "real": null_real, "synthetic": null_syn, **sampled}}))
    if info.kind != "categorical":
        figures.append(ks_figure(info, values, **common))
    return figures


def ks_figure(info: ColumnInfo, values: dict, **common) -> Figure:
    """KS of a numeric or date column on bounded samples (`values`: each side's
    `value_counts`), its floor the mean KS between the real source's halves over every
    split."""
    ref_values, ref_counts, bits = values["real"]
    syn_values, syn_counts, _ = values["synthetic"]
    value = ks_counts(ref_values, ref_counts, syn_values, syn_counts)
    first = (bits & 1) == 0  # split 0's halves: the sizes the floor is rescaled from
    sizes = (int(ref_counts[first].sum()), int(ref_counts[~first].sum()))
    floor = mean_of(ks_halves(ref_values, ref_counts, bits, SPLITS))
    whole = (int(ref_counts.sum()), int(syn_counts.sum()))
    floor = rescale(floor, sizes, whole) if floor is not None and min(sizes) else None
    return distance_figure("column", info.table, "ks", value, floor, "ks", **common)


def value_counts(side: Side, table: str, value_sql: str, halves: bool = True):
    """(values, counts, split bits) of a numeric expression over the table's sample,
    nulls left out: one row per distinct value (and split bits, with `halves`)."""
    return _counted(side, table, [value_sql], halves)[0]


def table_values(side: Side, table: str, infos: list[ColumnInfo], halves: bool = True
                 ) -> dict[str, tuple]:
    """{column: `value_counts`} of a table's numeric and date columns, in one query."""
    found = _counted(side, table, [info.value for info in infos], halves)
    return {info.name: counts for info, counts in zip(infos, found, strict=True)}


def _counted(side: Side, table: str, exprs: list[str], halves: bool) -> list[tuple]:
    if not exprs:
        return []
    bits = HB if halves else "0"
    names = [f"v{n}" for n in range(len(exprs))]
    values = ", ".join(f"{e} {name}" for e, name in zip(exprs, names, strict=True))
    sets = ", ".join(f"(hb, {name})" for name in names)
    # a null value's group is null in every v: left out, like the null values themselves
    found = side.arrow(f"SELECT hb, {', '.join(names)}, count(*) n FROM (SELECT {bits} hb, "
                       f"{values} FROM {side.sample(table)} s) GROUP BY GROUPING SETS ({sets})")
    hb, n = found.column("hb").to_numpy().astype(int), found.column("n").to_numpy()
    out = []
    for name in names:
        column = found.column(name)
        keep = column.is_valid().to_numpy(zero_copy_only=False)
        out.append((column.to_numpy(zero_copy_only=False)[keep].astype(float),
                    n[keep].astype(float), hb[keep]))
    return out


def _sampled(ctx: Context, table: str) -> dict:
    """{"sample": {side: [rows read, rows in the table]}} when a side's figures come from
    a sample of its table (the floor's halves are halves of that sample, so the sampling
    error is inside the floor); else nothing."""
    sides = {"real": ctx.real, "synthetic": ctx.synthetic}
    sizes = {name: [side.sampled_rows(table), side.rows_in[table]] for name, side in sides.items()}
    return {"sample": sizes} if any(n < total for n, total in sizes.values()) else {}


def _sample_note(ctx: Context, table: str) -> None:
    sample = _sampled(ctx, table).get("sample")
    if sample:
        shown = "; ".join(f"{name} {n:,} of {total:,}" for name, (n, total) in sample.items())
        ctx.notes.append(f"{table}: column figures read a deterministic sample of its rows "
                         f"({shown}); the floor comes from halves of the same sample, so it "
                         "holds the sampling error")


def _sizes(halves: dict[int, dict[str, int]], syn: dict[str, int]) -> tuple:
    a, b = sum(halves[0].values()), sum(halves[1].values())
    return (a, b), (a + b, sum(syn.values()))


def _floor(value: float | None, sizes: tuple) -> float | None:
    return None if value is None else rescale(value, *sizes)


def _plot(ctx: Context, info: ColumnInfo, real: dict, syn: dict, values: dict | None) -> str:
    """A distribution overlay: shares by category, or a histogram of the values."""
    title = f"{info.table}.{info.name}"
    if info.kind == "categorical":
        labels = sorted(set(real) | set(syn), key=lambda k: -real.get(k, syn.get(k, 0)))
        pr, ps = shares(real), shares(syn)
        return ctx.add_plot({"type": "bars", "title": title, "x": labels,
                             "series": {"real": [pr.get(k, 0) for k in labels],
                                        "synthetic": [ps.get(k, 0) for k in labels]}})
    return ctx.add_plot(histogram(info, values, title))


def histogram(info: ColumnInfo, values: dict, title: str) -> dict:
    """Shares of each side's values (`value_counts` of a bounded sample) in equal-width
    bins over their common range."""
    present = [v for v, _, _ in values.values() if len(v)]
    if not present:
        return {"type": "bars", "title": title, "x": [], "series": {}}
    lo = float(min(v.min() for v in present))
    hi = float(max(v.max() for v in present))
    width = (hi - lo) / HISTOGRAM_BINS or 1.0
    series = {}
    for name, (found, counts, _) in values.items():
        bins = np.minimum(np.floor((found - lo) / width), HISTOGRAM_BINS - 1).astype(int)
        total = counts.sum() or 1.0
        series[name] = (np.bincount(bins, counts, HISTOGRAM_BINS) / total).tolist()
    centers = [lo + width * (i + 0.5) for i in range(HISTOGRAM_BINS)]
    return {"type": "histogram", "title": title, "x": centers, "series": series,
            "temporal": info.kind == "temporal"}
