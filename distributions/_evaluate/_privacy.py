"""Privacy against a real source, on bounded samples of the tables about people: the real
people are split in two halves, A (the "training" half) and B (held out).

- identical-match share: synthetic rows equal to some row of A, against B's share (the
  level that people who are alike reach without any copying);
- distance to closest record: the share of synthetic rows whose nearest real row lies in A
  rather than B (0.5 when the generator treats both halves alike; ties count half);
- nearest-neighbour distance ratio: mean of (closest / second closest distance in A) for
  synthetic rows, against B's; small ratios single out one real row.

The profile's privacy manifest (k, epsilon, budget, suppressions) is reported beside.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from distributions._evaluate._context import Context
from distributions._evaluate._figures import Figure
from distributions._evaluate._sql import ORD, Side
from distributions._merge_manifest import manifest_document, manifest_problem
from pipeline.errors import EvaluateError

SAMPLE = 3000
TABLES = 2  # the person tables with the most compared columns
PERSON = "person_id"


def privacy_figures(ctx: Context) -> list[Figure]:
    """Identical matches, DCR share and NNDR of the widest tables about people."""
    tables = [t for t in ctx.tables() if ctx.real.has(t, PERSON) and len(ctx.columns(t)) >= 1]
    tables = sorted(tables, key=lambda t: (-len(ctx.columns(t)), t))[:TABLES]
    figures = []
    for table in tables:
        figures += _table(ctx, table)
    return figures


def _sample(ctx: Context, side: Side, table: str, half: int | None) -> pd.DataFrame:
    infos = ctx.columns(table)
    cols = ", ".join(f"{i.label if i.kind == 'categorical' else i.value} AS c{n}"
                     for n, i in enumerate(infos))
    # ordered by the person's digest, then every column: the same rows in either engine
    order = ", ".join(f"c{n} NULLS LAST" for n in range(len(infos)))
    return side.frame(f"SELECT {cols} FROM {side.rel(table, half, SAMPLE)} "
                      f"ORDER BY {ORD}, {order} LIMIT {SAMPLE}")


def _encode(frames: list[pd.DataFrame]) -> list[np.ndarray]:
    """One-hot categories and range-scaled numbers (a missing number: 0 plus a flag)."""
    data = pd.concat(frames, keys=range(len(frames)))
    parts = []
    for column in data.columns:
        values = data[column]
        if values.dtype == object:
            parts.append(pd.get_dummies(values.astype(str), prefix=column, dtype=float))
            continue
        lo, hi = values.min(), values.max()
        scaled = (values - lo) / ((hi - lo) or 1.0)
        parts.append(pd.DataFrame({column: scaled.fillna(0.0),
                                   column + "_na": values.isna().astype(float)}))
    encoded = pd.concat(parts, axis=1).to_numpy(dtype=float)
    sizes = np.cumsum([0] + [len(f) for f in frames])
    return [encoded[sizes[i]:sizes[i + 1]] for i in range(len(frames))]


def _table(ctx: Context, table: str) -> list[Figure]:
    train, hold = (_sample(ctx, ctx.real, table, h) for h in (0, 1))
    syn = _sample(ctx, ctx.synthetic, table, None)
    if min(len(train), len(hold), len(syn)) < 10:
        return []
    columns = [i.name for i in ctx.columns(table)]
    common = {"columns": columns, "reference": "real",
              "extra": {"rows": {"train": len(train), "holdout": len(hold), "synthetic": len(syn)}}}
    match_syn, match_hold = _identical(train, syn), _identical(train, hold)
    x_train, x_hold, x_syn = _encode([train, hold, syn])
    near_train = NearestNeighbors(n_neighbors=2).fit(x_train)
    near_hold = NearestNeighbors(n_neighbors=1).fit(x_hold)
    d_train, _ = near_train.kneighbors(x_syn)
    d_hold, _ = near_hold.kneighbors(x_syn)
    closer = np.where(np.isclose(d_train[:, 0], d_hold[:, 0]), 0.5,
                      (d_train[:, 0] < d_hold[:, 0]).astype(float))
    dcr = float(closer.mean())
    dcr_limit = 0.5 + max(0.05, 3 * math.sqrt(0.25 / len(syn)))
    nndr_syn = _nndr(d_train)
    nndr_hold = _nndr(near_train.kneighbors(x_hold)[0])
    match_limit = match_hold * 1.5 + 0.01
    return [
        Figure("privacy", table, "identical_match_share", match_syn, match_hold, match_limit,
               bool(match_syn <= match_limit), **common),
        Figure("privacy", table, "dcr_share_closer_to_train", dcr, 0.5, dcr_limit,
               bool(dcr <= dcr_limit), **common),
        Figure("privacy", table, "nndr_mean", nndr_syn, nndr_hold, nndr_hold - 0.1,
               bool(nndr_syn >= nndr_hold - 0.1), direction="higher", **common),
    ]


def _identical(train: pd.DataFrame, other: pd.DataFrame) -> float:
    """Share of `other`'s rows equal, column for column, to some row of `train`."""
    seen = set(map(tuple, train.astype(str).to_numpy()))
    rows = list(map(tuple, other.astype(str).to_numpy()))
    return sum(r in seen for r in rows) / len(rows) if rows else 0.0


def _nndr(distances: np.ndarray) -> float:
    first, second = distances[:, 0], distances[:, 1]
    ratio = np.where(second > 0, first / np.where(second > 0, second, 1.0), 1.0)
    return float(ratio.mean())


def manifest_figures(path: Path) -> list[Figure]:
    """The profile's privacy manifest as figures: k, epsilon, the budget spent, the
    suppressions (shown; the budget is judged when the manifest states one)."""
    try:
        manifest = manifest_document(path)
    except (OSError, ValueError) as error:  # (not JSON, not text)
        raise EvaluateError(f"{path}: cannot read the privacy manifest: {error}") from None
    problem = manifest_problem(manifest)
    if problem:
        raise EvaluateError(f"{path}: not a privacy manifest campus-synth wrote: {problem}")
    note = f"from {path.name}"
    actions = manifest.get("actions") or []
    figures = [Figure("privacy", None, "manifest_k", manifest.get("k"), note=note,
                      extra={"k_counts": manifest.get("k_counts")}),
               Figure("privacy", None, "manifest_epsilon", manifest.get("epsilon"), note=note),
               Figure("privacy", None, "manifest_suppressed_or_merged_cells",
                      float(sum(1 for a in actions if isinstance(a, dict)
                                and a.get("action") in ("suppressed", "merged"))), note=note)]
    budget = manifest.get("budget")
    spent = budget.get("spent") if isinstance(budget, dict) else None
    total = manifest.get("epsilon")
    if isinstance(spent, int | float) and isinstance(total, int | float):
        figures.append(Figure("privacy", None, "manifest_budget_spent", float(spent), None,
                              float(total), bool(spent <= total + 1e-9), note=note))
    return figures
