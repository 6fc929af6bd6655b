"""report.html: one self-contained page (plotly.js inlined once, no network), the verdict
and the summary table first, then the plots.

The plots are plotly.js figures written as plain JSON (traces and a layout) and drawn by one
script at the page's end, the shared template given once: building them as plotly.py figure
objects, each validating its properties and deep-copying the template, took 8-17 s for a
report's hundred-odd plots at 20,000 FTE, longer than most families of figures."""

from __future__ import annotations

import html
import json

import plotly.io as pio
from plotly.colors import sequential
from plotly.offline import get_plotlyjs

COLORS = {"real": "#1f77b4", "profile": "#2ca02c", "synthetic": "#d62728"}
TEMPLATE = "plotly_white"
MARGIN = {"l": 50, "r": 20, "t": 50, "b": 50}
CONFIG = {"displaylogo": False, "responsive": True}
HEATMAP_SPACING = 0.2  # make_subplots' horizontal spacing, shared by the columns
# draws every plot: PLOTS holds {id, data, layout}, TEMPLATE the template they share
DRAW = ("for (const p of PLOTS) {p.layout.template = TEMPLATE; "
        "Plotly.newPlot(p.id, p.data, p.layout, CONFIG);}")
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
    out, shown_plots = [], []
    for title, kinds, limit in SECTIONS:
        mine = [p for p in plots if _plot_kind(p, report) in kinds]
        mine.sort(key=lambda p: p["id"] not in failed)
        if not mine:
            continue
        shown = mine[:limit]
        shown_plots += shown
        more = f" ({len(shown)} of {len(mine)}; failures first)" if len(mine) > limit else ""
        divs = "".join(_div(p) for p in shown)
        anchor = title.split()[0].lower()
        out.append(f"<h2 id='{anchor}'>{title}{more}</h2><div class='plots'>{divs}</div>")
    out.append(_draw(shown_plots))
    return "\n".join(out)


def _div(plot: dict) -> str:
    css = "plot heat" if plot["type"] == "heatmap" else "plot"
    return (f"<div class='{css}' data-plot='{html.escape(json.dumps(plot['type']))}'>"
            f"<div id='{html.escape(plot['id'])}' class='plotly-graph-div' "
            "style='height:100%;width:100%'></div></div>")


def _draw(plots: list[dict]) -> str:
    """The script drawing the plots, once plotly.js and every plot's div are in place."""
    figures = []
    for plot in plots:
        data, layout = _heatmap(plot) if plot["type"] == "heatmap" else _figure(plot)
        layout.update(title={"text": plot["title"]}, margin=MARGIN, legend={"orientation": "h"})
        figures.append({"id": plot["id"], "data": data, "layout": layout})
    template = pio.templates[TEMPLATE].to_plotly_json()
    return (f"<script>const TEMPLATE = {_js(template)};\nconst CONFIG = {_js(CONFIG)};\n"
            f"const PLOTS = {_js(figures)};\n{DRAW}</script>")


def _js(value) -> str:
    """JSON as a script's literal: no `</` that could end the script element early."""
    return json.dumps(value, default=_plain, separators=(",", ":")).replace("</", "<\\/")


def _plain(value):
    """numpy numbers and arrays as JSON's own."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _figure(plot: dict) -> tuple[list[dict], dict]:
    """Traces and layout of a bar chart, histogram, line chart or scatter plot."""
    kind, series = plot["type"], plot.get("series", {})
    data = []
    for name, values in series.items():
        color = COLORS.get(name.split(":")[0])
        if kind in ("bars", "histogram"):
            trace = {"type": "bar", "x": plot["x"], "y": values, "opacity": 0.7}
        elif kind == "lines":
            trace = {"type": "scatter", "x": values["x"], "y": values["y"], "mode": "lines",
                     "line": {"dash": "dot" if name.startswith("synthetic") else "solid"}}
            color = None  # a colour per tool, from the template's colorway
        else:
            trace = {"type": "scatter", "x": values["x"], "y": values["y"], "mode": "markers",
                     "marker": {"size": 4, "opacity": 0.5}}
        if color:
            trace.setdefault("marker", {})["color"] = color
        data.append({**trace, "name": name})
    layout = {"barmode": "overlay" if kind == "histogram" else "group",
              "yaxis": {"title": {"text": plot.get("ylabel", "share")}}}
    if plot.get("xlabel"):
        layout["xaxis"] = {"title": {"text": plot["xlabel"]}}
    return data, layout


def _heatmap(plot: dict) -> tuple[list[dict], dict]:
    """A panel per side, side by side, on one colour axis (make_subplots' layout)."""
    names = list(plot["panels"])
    spacing = HEATMAP_SPACING / len(names)
    width = (1 - spacing * (len(names) - 1)) / len(names)
    blues = [[i / (len(sequential.Blues) - 1), c] for i, c in enumerate(sequential.Blues)]
    data, layout = [], {"coloraxis": {"colorscale": blues, "cmin": 0, "cmax": 1},
                        "annotations": []}
    for i, name in enumerate(names):
        n = "" if i == 0 else str(i + 1)
        left = i * (width + spacing)
        data.append({"type": "heatmap", "z": plot["panels"][name], "x": plot["x"],
                     "y": plot["y"], "coloraxis": "coloraxis", "xaxis": f"x{n}",
                     "yaxis": f"y{n}"})
        layout[f"xaxis{n}"] = {"anchor": f"y{n}", "domain": [left, left + width]}
        layout[f"yaxis{n}"] = {"anchor": f"x{n}", "domain": [0.0, 1.0]}
        layout["annotations"].append({
            "text": name, "x": left + width / 2, "y": 1.0, "xref": "paper", "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False, "font": {"size": 16}})
    return data, layout
