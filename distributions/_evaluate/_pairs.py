"""Pairs of columns within a table: the difference in association between the real source
and the warehouse — Cramér's V over categories (numbers binned at deciles) and Spearman's
rho between two numeric or date columns. All contingency tables of a table come from one
GROUPING SETS query per side; the ranks of the Spearman pairs from one more."""

from __future__ import annotations

from itertools import combinations

from distributions._evaluate._context import ColumnInfo, Context
from distributions._evaluate._figures import Figure, distance_figure, rescale
from distributions._evaluate._sql import HB, SPLITS, Side, half_of
from distributions._evaluate._stats import chance_v, cramers_v, mean_of, too_sparse

MAX_COLUMNS = 12  # per table: 66 pairs at most
PAIR_ROWS = 50_000  # rows read per table: associations settle long before this
HEATMAPS = 8  # conditional heatmaps of the worst pairs


def pair_figures(ctx: Context) -> list[Figure]:
    """Association differences for every column pair of every table (real-source mode)."""
    figures: list[Figure] = []
    tables: dict[tuple, dict] = {}
    for table in ctx.tables():
        infos = ctx.columns(table)[:MAX_COLUMNS]
        if len(infos) < 2:
            continue
        real = _contingency(ctx, ctx.real, table, infos, halves=True)
        syn = _contingency(ctx, ctx.synthetic, table, infos, halves=False)
        ranks = _spearman(ctx, table, infos)
        for a, b in combinations(range(len(infos)), 2):
            pair = (infos[a].name, infos[b].name)
            if (a, b) in ranks:
                ha, hb, r, s, n_a, n_b, n_r, n_s = ranks[(a, b)]
                floor = None if None in (ha, hb) else abs(ha - hb)
                figures.append(_figure(table, pair, "spearman_diff", "spearman", floor, r, s,
                                       n_a, n_b, n_r, n_s))
                continue
            floor, n_a, n_b = association_floor(real, (a, b))
            whole_r, whole_s = real["whole"].get((a, b), {}), syn["whole"].get((a, b), {})
            figure = _figure(table, pair, "cramers_v_diff", "cramers_v", floor,
                             cramers_v(whole_r), cramers_v(whole_s),
                             n_a, n_b, _n(whole_r), _n(whole_s), chance_v(whole_r))
            figures.append(shown_if_sparse(figure, whole_r))
            tables[(table, *pair)] = {"real": whole_r, "synthetic": whole_s}
    _heatmaps(ctx, figures, tables)
    return figures


def _n(table: dict) -> int:
    return int(sum(table.values()))


def at_least_chance(floor: float | None, chance: float | None) -> float | None:
    """The split-half floor, raised to the V chance alone gives where that is larger (a
    small table: the halves of a nil association both say 0)."""
    if chance is None:
        return floor
    return chance if floor is None else max(floor, chance)


def shown_if_sparse(figure: Figure, table: dict) -> Figure:
    """A Cramér's V figure over too sparse a table, or whose threshold no difference of V
    can pass (a table so small that chance alone moves V by a third): kept, not judged."""
    if figure.passed is not None and too_sparse(table):
        figure.passed, figure.threshold = None, None
        figure.note = (f"{_n(table):,} rows over {len({k[0] for k in table})} × "
                       f"{len({k[1] for k in table})} categories: too sparse to judge")
    elif figure.passed is not None and figure.threshold >= 1.0:
        figure.passed, figure.threshold = None, None
        figure.note = (f"{_n(table):,} rows: chance alone moves V by {figure.floor:.2f}, "
                       "too few to judge")
    return figure


def _figure(table: str, pair: tuple, metric: str, key: str, floor, real, syn,
            n_a, n_b, n_r, n_s, chance: float | None = None) -> Figure:
    """A pair's figure; `floor` is the halves' mean difference, rescaled here, and at least
    `chance` (a Cramér's V's: what chance alone gives the real table, `chance_v`)."""
    known = None not in (real, syn)
    if floor is not None:
        floor = rescale(floor, (n_a, n_b), (n_r, n_s))
    floor = at_least_chance(floor, chance)
    value = abs(real - syn) if known else None
    return distance_figure("pair", table, metric, value, floor, key, columns=list(pair),
                           reference="real", extra={"real": real, "synthetic": syn},
                           note=None if known else "association undefined (a constant column)")


def _contingency(ctx: Context, side: Side, table: str, infos: list[ColumnInfo],
                 halves: bool) -> dict:
    """{half or None: {(i, j): {(label_i, label_j): rows}}} for every pair (i, j)."""
    pairs = list(combinations(range(len(infos)), 2))
    return contingency(side, side.rel(table, limit=PAIR_ROWS),
                       [info.label for info in infos], pairs, halves)


def contingency(side: Side, relation: str, labels: list[str],
                pairs: list[tuple[int, int]], halves: bool = True) -> dict:
    """Contingency tables of label pairs over a relation in one GROUPING SETS query:
    {"whole": {(i, j): {(label_i, label_j): rows}}, "splits": [split: {half: {(i, j): ...}}]}
    (no splits when `halves` is false). Each cell's rows in half 0 of every split are counted
    beside its whole (half 1 is the rest), not grouped by the split bits: a sixteenth of
    the groups, and of the rows for Python to read."""
    names = [f"c{i}" for i in range(len(labels))]
    selects = ", ".join(f"{label} c{i}" for i, label in enumerate(labels))
    sets = ", ".join(f"({names[a]}, {names[b]})" for a, b in pairs)
    source = f"{HB} hb, {selects}" if halves else selects
    counts = ["count(*)"] + [f"sum(CASE WHEN {half_of('hb', s)} = 0 THEN 1 ELSE 0 END)"
                             for s in range(SPLITS if halves else 0)]
    rows = side.rows(f"SELECT {', '.join(names)}, {', '.join(counts)} FROM (SELECT {source} "
                     f"FROM {relation}) GROUP BY GROUPING SETS ({sets})")
    out: dict = {"whole": {}, "splits": [{0: {}, 1: {}} for _ in range(SPLITS if halves else 0)]}
    width = len(names)
    for row in rows:  # one row per pair and cell (labels are never null: "(null)" is one)
        a, b = (i for i, label in enumerate(row[:width]) if label is not None)
        pair, cell, n = (a, b), (row[a], row[b]), int(row[width])
        out["whole"].setdefault(pair, {})[cell] = n
        for s, split in enumerate(out["splits"]):
            first = int(row[width + 1 + s])
            for half, count in ((0, first), (1, n - first)):
                if count:  # a cell absent from a half is not a zero of it
                    split[half].setdefault(pair, {})[cell] = count
    return out


def association_floor(table: dict, pair: tuple[int, int]) -> tuple[float | None, int, int]:
    """Mean over the splits of |V(half 0) − V(half 1)| for a pair; the halves' sizes."""
    diffs = []
    for split in table["splits"]:
        v = [cramers_v(split[h].get(pair, {})) for h in (0, 1)]
        diffs.append(None if None in v else abs(v[0] - v[1]))
    first = table["splits"][0]
    return mean_of(diffs), _n(first[0].get(pair, {})), _n(first[1].get(pair, {}))


def _spearman(ctx: Context, table: str, infos: list[ColumnInfo]) -> dict:
    """{(i, j): (rho half 0, rho half 1, rho real, rho synthetic, n0, n1, n_real, n_syn)}
    for the pairs of numeric or date columns."""
    numeric = [i for i, info in enumerate(infos) if info.kind != "categorical"]
    pairs = list(combinations(numeric, 2))
    if not pairs:
        return {}
    results = {}
    for name, side, partition in (("real", ctx.real, True), ("real", ctx.real, False),
                                  ("synthetic", ctx.synthetic, False)):
        results[(name, partition)] = _ranks(ctx, side, table, infos, numeric, pairs, partition)
    out = {}
    for k, pair in enumerate(pairs):
        halves = results[("real", True)]
        out[pair] = (halves.get(0, {}).get(k), halves.get(1, {}).get(k),
                     results[("real", False)][None][k], results[("synthetic", False)][None][k],
                     halves.get(0, {}).get("n", 0), halves.get(1, {}).get("n", 0),
                     results[("real", False)][None]["n"],
                     results[("synthetic", False)][None]["n"])
    return out


def _ranks(ctx: Context, side: Side, table: str, infos, numeric, pairs, partition: bool):
    over = "PARTITION BY h " if partition else ""
    # NULLS LAST: both engines then rank the values alike (a constant shift either way)
    ranks = ", ".join(
        f"CASE WHEN v{i} IS NULL THEN NULL ELSE "
        f"rank() OVER ({over}ORDER BY v{i} NULLS LAST) END r{i}" for i in numeric)
    values = ", ".join(f"{infos[i].value} v{i}" for i in numeric)
    corrs = ", ".join(f"corr(r{a}, r{b})" for a, b in pairs)
    group = ("h", " GROUP BY h") if partition else ("NULL", "")
    rows = side.rows(
        f"SELECT {group[0]}, count(*), {corrs} FROM (SELECT h, {ranks} FROM ("
        f"SELECT {half_of(HB)} h, {values} FROM {side.rel(table, limit=PAIR_ROWS)})){group[1]}")
    out = {}
    for row in rows:
        half = None if row[0] is None else int(row[0])
        values = {k: (None if v is None else float(v)) for k, v in enumerate(row[2:])}
        out[half] = {**values, "n": int(row[1])}
    return out


def _heatmaps(ctx: Context, figures: list[Figure], tables: dict) -> None:
    """Conditional heatmaps (share of the second column given the first) of the worst
    Cramér's V pairs, real beside synthetic."""
    ranked = sorted((f for f in figures if f.metric == "cramers_v_diff" and f.value is not None),
                    key=lambda f: f.value - (f.threshold or 0), reverse=True)
    for figure in ranked[:HEATMAPS]:
        data = tables[(figure.table, *figure.columns)]
        rows = sorted({k[0] for d in data.values() for k in d})
        cols = sorted({k[1] for d in data.values() for k in d})
        panels = {}
        for name, counts in data.items():
            matrix = []
            for r in rows:
                total = sum(counts.get((r, c), 0) for c in cols) or 1
                matrix.append([counts.get((r, c), 0) / total for c in cols])
            panels[name] = matrix
        figure.plot = ctx.add_plot({
            "type": "heatmap", "title": f"{figure.table}: {figure.columns[1]} given "
            f"{figure.columns[0]}", "x": cols, "y": rows, "panels": panels})
