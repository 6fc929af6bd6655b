"""The field's yardstick beside ours: SDMetrics' single-table QualityReport (column shapes
and column pair trends, 0 to 1) on bounded samples of the widest tables, when the optional
`sdmetrics` extra is installed. Shown, not judged: it reads the same columns as our figures
so the two can be read against each other."""

from __future__ import annotations

import importlib.util
import warnings

from distributions._evaluate._context import Context
from distributions._evaluate._figures import Figure
from distributions._evaluate._sql import ORD, Side, q

SAMPLE = 2000  # rows per side and table
TABLES = 4  # the tables with the most compared columns


def available() -> bool:
    """Whether SDMetrics is installed (`pip install 'campus-synth[sdmetrics]'`)."""
    return importlib.util.find_spec("sdmetrics") is not None


def crosscheck_figures(ctx: Context) -> list[Figure]:
    """One informational figure per table: SDMetrics' QualityReport score."""
    if not available():
        return []
    # imported here: an optional extra that most installs do not carry (the single-table
    # report is the one whose metadata is a plain dict; its deprecation notice is noise here)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport

    tables = sorted((t for t in ctx.tables() if len(ctx.columns(t)) >= 2),
                    key=lambda t: (-len(ctx.columns(t)), t))[:TABLES]
    figures = []
    for table in tables:
        real, syn = (_sample(ctx, side, table) for side in (ctx.real, ctx.synthetic))
        if min(len(real), len(syn)) < 10:
            continue
        metadata = {"columns": {i.name: {"sdtype": "categorical" if i.kind == "categorical"
                                         else "numerical"} for i in ctx.columns(table)}}
        report = QualityReport()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report.generate(real, syn, metadata, verbose=False)
        properties = report.get_properties()
        figures.append(Figure("column", table, "sdmetrics_quality", float(report.get_score()),
                              columns=list(metadata["columns"]), direction="higher",
                              reference="real", note="SDMetrics QualityReport (cross-check, "
                              "not judged)", extra={row["Property"]: float(row["Score"])
                                                    for _, row in properties.iterrows()}))
    return figures


def _sample(ctx: Context, side: Side, table: str):
    infos = ctx.columns(table)
    cols = ", ".join(f"{i.label if i.kind == 'categorical' else i.value} AS {q(i.name)}"
                     for i in infos)
    # ordered by the key's digest, then every column: the same rows in either engine (the
    # sample holds no nested column, so no record's field to order by)
    order = ", ".join(f"{n} NULLS LAST" for n in range(1, len(infos) + 1))
    return side.frame(f"SELECT {cols} FROM {side.rel(table, limit=SAMPLE)} "
                      f"ORDER BY {ORD}, {order} LIMIT {SAMPLE}")
