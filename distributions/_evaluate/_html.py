"""report.html: one self-contained page (plotly.js inlined once, no network), the verdict
and the summary table first, then the plots."""

from __future__ import annotations

import html
import json

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

COLORS = {"real": "#1f77b4", "profile": "#2ca02c", "synthetic": "#d62728"}
SECTIONS = (  # (title, plot types, how many at most: failed ones first)
    ("Distribution overlays", ("bars-column", "histogram"), 60),
    ("Conditional heatmaps (worst pairs)", ("heatmap",), 8),
    ("Children per parent", ("bars-cardinality",), 40),
    ("Event curves", ("lines",), 10),
    ("Score vs activity", ("scatter",), 2),
)
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
h1{margin-bottom:4px} .verdict{font-size:1.4em;font-weight:bold}
.pass{color:#1a7f37} .fail{color:#cf222e} .na{color:#888}
table{border-collapse:collapse;font-size:13px;margin:8px 0 24px}
th,td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:8px} .plot{width:560px;height:360px}
.heat{width:1000px;height:420px} p.note{color:#555;max-width:70em}
"""


def render(report: dict, plots: list[dict]) -> str:
    """The report page from report.json's document and the plots' data."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>campus-synth "
             f"evaluation</title><style>{STYLE}</style>",
             f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>",
             _header(report), _kinds(report), _worst_pairs(report), _summary(report),
             _plots(report, plots), "</body></html>"]
    return "\n".join(parts)


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _verdict(passed) -> str:
    if passed is None:
        return "<span class='na'>n/a</span>"
    return "<span class='pass'>pass</span>" if passed else "<span class='fail'>FAIL</span>"


def _header(report: dict) -> str:
    against = report.get("real") or report.get("profile")
    word = "PASSED" if report["passed"] else "FAILED"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.get("notes", []))
    css = "pass" if report["passed"] else "fail"
    return (f"<h1>campus-synth evaluation</h1><p class='verdict {css}'>{word}</p>"
            f"<p>Synthetic warehouse <code>{html.escape(str(report['synthetic']))}"
            f"</code> against the {report['reference']} <code>{html.escape(str(against))}</code>."
            "</p><p class='note'>Each figure is a distance between the warehouse and its "
            "reference (or a similarity 1 − distance), shown beside the <b>noise floor</b>: the "
            "same figure between two random halves of the reference's people, rescaled to the "
            "compared sizes. A figure fails when it is beyond max(tolerance, 3 × floor). Gates "
            "must be exactly 1. <i>n/a</i>: no reference to judge by.</p>"
            + (f"<details><summary>Notes ({len(report['notes'])})</summary><ul>{notes}</ul>"
               "</details>" if notes else ""))


def _kinds(report: dict) -> str:
    rows = "".join(f"<tr><td>{kind}</td><td class='num'>{c['passed']}</td><td class='num'>"
                   f"{c['failed']}</td><td class='num'>{c['not_applicable']}</td></tr>"
                   for kind, c in report["summary"].items() if sum(c.values()))
    return ("<h2>By kind</h2><table id='kinds'><tr><th>kind</th><th>passed</th><th>failed"
            f"</th><th>n/a</th></tr>{rows}</table>")


def _name(f: dict) -> str:
    column = f.get("column") or " × ".join(f.get("columns", [])[:3])
    if len(f.get("columns", [])) > 3:
        column += f" … ({len(f['columns'])} columns)"
    return ".".join(x for x in (f.get("table"), column) if x)


def _row(f: dict) -> str:
    plot = f" <a href='#{f['plot']}'>plot</a>" if f.get("plot") else ""
    note = f"<br><small class='na'>{html.escape(f['note'])}</small>" if f.get("note") else ""
    return (f"<tr><td>{f['kind']}</td><td>{html.escape(_name(f))}{note}</td><td>{f['metric']}"
            f"{plot}</td><td class='num'>{_fmt(f['value'])}</td><td class='num'>"
            f"{_fmt(f['floor'])}</td><td class='num'>{_fmt(f['threshold'])}</td>"
            f"<td>{_verdict(f['passed'])}</td></tr>")


def _summary(report: dict) -> str:
    order = {False: 0, True: 1, None: 2}
    figures = sorted(report["figures"], key=lambda f: order[f["passed"]])
    rows = "".join(_row(f) for f in figures)
    return ("<h2>Summary: every figure (failures first)</h2><table id='summary'><tr><th>kind"
            "</th><th>figure</th><th>metric</th><th>value</th><th>noise floor</th>"
            f"<th>threshold</th><th>verdict</th></tr>{rows}</table>")


def _worst_pairs(report: dict) -> str:
    pairs = [f for f in report["figures"] if f["kind"] in ("pair", "cross_table")
             and f["value"] is not None and f["threshold"] is not None]
    pairs.sort(key=lambda f: f["value"] - f["threshold"], reverse=True)
    if not pairs:
        return ""
    rows = "".join(_row(f) for f in pairs[:10])
    return ("<h2>Worst pairs</h2><table id='worst-pairs'><tr><th>kind</th><th>pair</th><th>"
            "metric</th><th>value</th><th>noise floor</th><th>threshold</th><th>verdict</th>"
            f"</tr>{rows}</table>")


def _plot_kind(plot: dict, report: dict) -> str:
    if plot["type"] == "bars":
        return "bars-cardinality" if plot.get("xlabel") == "children per parent" else \
            "bars-column"
    return plot["type"]


def _plots(report: dict, plots: list[dict]) -> str:
    failed = {f.get("plot") for f in report["figures"] if f["passed"] is False}
    out = []
    for title, kinds, limit in SECTIONS:
        mine = [p for p in plots if _plot_kind(p, report) in kinds]
        mine.sort(key=lambda p: p["id"] not in failed)
        if not mine:
            continue
        shown = mine[:limit]
        more = f" ({len(shown)} of {len(mine)}; failures first)" if len(mine) > limit else ""
        divs = "".join(_div(p) for p in shown)
        anchor = title.split()[0].lower()
        out.append(f"<h2 id='{anchor}'>{title}{more}</h2><div class='plots'>{divs}</div>")
    return "\n".join(out)


def _div(plot: dict) -> str:
    figure = _figure(plot)
    figure.update_layout(title=plot["title"], margin={"l": 50, "r": 20, "t": 50, "b": 50},
                         template="plotly_white", legend={"orientation": "h"})
    css = "plot heat" if plot["type"] == "heatmap" else "plot"
    body = pio.to_html(figure, full_html=False, include_plotlyjs=False, div_id=plot["id"],
                       config={"displaylogo": False}, default_width="100%",
                       default_height="100%")
    return f"<div class='{css}' data-plot='{html.escape(json.dumps(plot['type']))}'>{body}</div>"


def _figure(plot: dict) -> go.Figure:
    kind, series = plot["type"], plot.get("series", {})
    if kind == "heatmap":
        return _heatmap(plot)
    figure = go.Figure()
    for name, data in series.items():
        color = COLORS.get(name.split(":")[0])
        if kind in ("bars", "histogram"):
            figure.add_bar(x=plot["x"], y=data, name=name, marker_color=color, opacity=0.7)
        elif kind == "lines":
            figure.add_scatter(x=data["x"], y=data["y"], name=name, mode="lines",
                               line={"dash": "dot" if name.startswith("synthetic") else "solid"})
        else:
            figure.add_scatter(x=data["x"], y=data["y"], name=name, mode="markers",
                               marker={"size": 4, "opacity": 0.5, "color": color})
    figure.update_layout(barmode="overlay" if kind == "histogram" else "group",
                         xaxis_title=plot.get("xlabel"), yaxis_title=plot.get("ylabel", "share"))
    return figure


def _heatmap(plot: dict) -> go.Figure:
    names = list(plot["panels"])
    figure = make_subplots(rows=1, cols=len(names), subplot_titles=names)
    for i, name in enumerate(names, start=1):
        figure.add_heatmap(z=plot["panels"][name], x=plot["x"], y=plot["y"], row=1, col=i,
                           coloraxis="coloraxis")
    figure.update_layout(coloraxis={"colorscale": "Blues", "cmin": 0, "cmax": 1})
    return figure
