"""Detection: can a classifier tell real parent rows from synthetic ones, once each row is
augmented with its children (how many, and the mean of their numbers)? scikit-learn's
HistGradientBoostingClassifier, ROC AUC by 3-fold cross-validation on bounded samples;
0.5 means indistinguishable. The floor is the same classifier telling the real source's two
halves apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from threadpoolctl import threadpool_limits

from distributions._evaluate._context import Context
from distributions._evaluate._figures import Figure, K, not_applicable
from distributions._evaluate._gates import EVENTS
from distributions._evaluate._sql import HB, Side, half_of, q

SAMPLE = 3000  # parent rows per side
TABLES = 3  # parent tables tried: those with the most child tables
CHILD_NUMBERS = 2  # numeric columns of each child averaged per parent
MIN_ROWS = 60
AUC_TOLERANCE = 0.6


def detection_figures(ctx: Context) -> list[Figure]:
    """ROC AUC of real-vs-synthetic classifiers on the busiest parent tables."""
    tables = set(ctx.tables())
    parents = {}
    for fk in ctx.keys.foreign:
        # the event store is no parent's row feature here: it has its own family (events)
        if fk.child != fk.parent and fk.child in tables and fk.parent in tables \
                and fk.child != EVENTS:
            parents.setdefault(fk.parent, []).append(fk)
    ranked = sorted(parents, key=lambda p: (-len(parents[p]), p))[:TABLES]
    return [_table(ctx, parent, parents[parent]) for parent in ranked]


def _table(ctx: Context, parent: str, fks: list) -> Figure:
    real = _features(ctx, ctx.real, parent, fks)
    syn = _features(ctx, ctx.synthetic, parent, fks)
    if min(len(real), len(syn)) < MIN_ROWS:
        return not_applicable("detection", parent, "roc_auc", "too few rows to train on")
    halves = [real[real["__half"] == h] for h in (0, 1)]
    floor = _auc(*halves) if min(len(h) for h in halves) >= MIN_ROWS else None
    value = _auc(real, syn)
    threshold = max(AUC_TOLERANCE, 0.5 + K * ((floor or 0.5) - 0.5))
    columns = [c for c in real.columns if c != "__half"]
    return Figure("detection", parent, "roc_auc", value, floor, threshold,
                  bool(value <= threshold), columns=columns, reference="real",
                  extra={"rows": {"real": len(real), "synthetic": len(syn)}})


def _features(ctx: Context, side: Side, parent: str, fks: list) -> pd.DataFrame:
    """A bounded sample of parent rows: compared columns, child counts, child means."""
    pk = fks[0].key
    sample = side.rel(parent, limit=SAMPLE)
    # features get plain aliases (f0, f1, ...; BigQuery allows no dots or spaces in them),
    # named after their table and column once in pandas
    names, cols = [], []
    for i in ctx.columns(parent):
        cols.append(f"{i.label if i.kind == 'categorical' else i.value} AS f{len(names)}")
        names.append("p." + i.name)
    joins, aggregates = [], []
    for n, fk in enumerate(fks):
        numbers = [i for i in ctx.columns(fk.child) if i.kind != "categorical"][:CHILD_NUMBERS]
        means = "".join(f", avg({i.value}) m{j}" for j, i in enumerate(numbers))
        joins.append(f"LEFT JOIN (SELECT {q(fk.column)} k, count(*) n{means} "
                     f"FROM {side.rel(fk.child)} WHERE {q(fk.column)} IN "
                     f"(SELECT {q(pk)} FROM {sample}) GROUP BY {q(fk.column)}) c{n} "
                     f"ON c{n}.k = p.{q(pk)}")
        name = f"{fk.child}.{fk.column}"
        aggregates.append(f"coalesce(c{n}.n, 0) AS f{len(names)}")
        names.append("n " + name)
        for j, i in enumerate(numbers):
            aggregates.append(f"c{n}.m{j} AS f{len(names)}")
            names.append("mean " + name + "." + i.name)
    select = ", ".join([f"{half_of('p.' + HB)} AS h", *cols, *aggregates])
    frame = side.frame(f"SELECT {select} FROM {sample} p {' '.join(joins)} "
                       f"ORDER BY p.{q(pk)}")
    return frame.set_axis(["__half", *names], axis=1)


def _auc(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Cross-validated ROC AUC of telling frame `a` (label 0) from frame `b` (label 1)."""
    data = pd.concat([a, b], ignore_index=True).drop(columns="__half")
    labels = np.r_[np.zeros(len(a)), np.ones(len(b))]
    for column in data.columns:
        if data[column].dtype == object:
            data[column] = data[column].astype("category")
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0,
                                           categorical_features="from_dtype")
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    # one OpenMP thread: on a busy small machine, more threads fight and a 3-fold fit of a
    # few thousand rows goes from about a second to most of a minute
    with threadpool_limits(limits=1):
        scores = cross_val_score(model, data, labels, cv=folds, scoring="roc_auc")
    return float(np.mean(scores))
