"""The event store: tool shares, day-in-term and week-in-term curves by tool, the diurnal
curve, and events per enrollment against the final score. Each curve is compared as a
distribution (TVD) with the real source's; with a profile alone they are shown, not judged
(the profile's rate model is not a curve of the same events)."""

from __future__ import annotations

from distributions._evaluate._context import Context
from distributions._evaluate._figures import Figure, distance_figure, not_applicable, rescale
from distributions._evaluate._gates import EVENTS, count_if, event_frame
from distributions._evaluate._sql import HB, SPLITS, Side, q, split_rows
from distributions._evaluate._stats import mean_of, tvd

CURVE_TOOLS = 8  # tools drawn in the curve plots (the busiest)
SCATTER_POINTS = 1500


def event_figures(ctx: Context) -> list[Figure]:
    """Event-curve figures, against the real source's events when it has them."""
    if event_frame(ctx.synthetic) is None:
        return []
    sides = {"synthetic": ctx.synthetic}
    if ctx.real is not None and not ctx.real.has(EVENTS, "tool"):
        ctx.notes.append("events: the real event store has no `tool` column; curves are "
                         "by Caliper event type")
    if ctx.real is not None:
        if event_frame(ctx.real) is None:
            return [not_applicable("event", EVENTS, "event_tvd", "the real source has no "
                                   "event store with terms to compare with", column="tool")]
        sides = {"real": ctx.real, "synthetic": ctx.synthetic}
        _outside_note(ctx)
    curves = {name: _curves(ctx, side) for name, side in sides.items()}
    figures = _curve_figures(ctx, curves)
    figures += _activity_vs_score(ctx, sides)
    return figures


def _curves(ctx: Context, side: Side) -> list[dict]:
    """[split: {half: {"day": {(tool, day): n}, "week": ..., "hour": {hour: n},
    "tool": {tool: n}}}]."""
    # the person's halves: one digest per person, not one per event (the same digests as
    # the event store's sample, when it is split by the person too)
    people = side.digests(EVENTS, f"t.{q('person')}.udp_id")
    sql = f"""
SELECT hb, tool, d, hr, count(*) FROM (
  SELECT p.{HB} hb, f.tool, f.event_day - f.term_begin d, f.hr
  FROM {event_frame(side, _tool(ctx))} f JOIN {people} p ON p.k = f.person_id
  WHERE f.event_day BETWEEN f.term_begin AND f.term_end)
GROUP BY GROUPING SETS ((hb, tool, d), (hb, hr))"""
    out = [{h: {"day": {}, "week": {}, "hour": {}, "tool": {}} for h in (0, 1)}
           for _ in range(SPLITS)]
    for split, half, (tool, day, hour, n) in split_rows(side.rows(sql)):
        parts = out[split][half]
        if hour is not None:
            parts["hour"][int(hour)] = parts["hour"].get(int(hour), 0) + int(n)
            continue
        parts["day"][(tool, int(day))] = parts["day"].get((tool, int(day)), 0) + int(n)
        week = (tool, int(day) // 7)
        parts["week"][week] = parts["week"].get(week, 0) + int(n)
        parts["tool"][tool] = parts["tool"].get(tool, 0) + int(n)
    return out


def _outside_note(ctx: Context) -> None:
    """The real events outside their term, named in a note: the generator keeps every
    event inside its term (a converted VLE's clicks from before the start are not made),
    so the curves compare the days inside the term on both sides."""
    inside = count_if("f.event_day BETWEEN f.term_begin AND f.term_end")
    total, outside = ctx.real.rows(f"SELECT count(*), count(*) - {inside} "
                                   f"FROM {event_frame(ctx.real, _tool(ctx))} f")[0]
    if outside:
        ctx.notes.append(f"events: {int(outside):,} of the real source's {int(total):,} "
                         f"events ({outside / total:.1%}) fall outside their term (or have no "
                         "term); the generator keeps events inside the term, so the curves "
                         "compare the days inside it")


def _profile_diurnal(ctx: Context) -> dict[int, float] | None:
    """The profile's diurnal curve (24 weights by UTC hour, as the generator reads them)."""
    curve = ((ctx.profile or {}).get("events") or {}).get("diurnal")
    if isinstance(curve, list) and len(curve) == 24 and sum(curve) > 0:
        return dict(enumerate(float(x) for x in curve))
    return None


def _tool(ctx: Context) -> str:
    """The tool both sides name: `tool`, else the Caliper event type."""
    sides = [s for s in (ctx.real, ctx.synthetic) if s is not None]
    return "tool" if all(s.has(EVENTS, "tool") for s in sides) else '"type"'


def _whole(splits: list[dict], part: str) -> dict:
    total: dict = {}
    for h in (0, 1):
        for k, v in splits[0][h][part].items():
            total[k] = total.get(k, 0) + v
    return total


def _by_tool(counts: dict, tool: str) -> dict:
    return {k[1]: v for k, v in counts.items() if k[0] == tool}


def _curve_figures(ctx: Context, curves: dict) -> list[Figure]:
    syn = curves["synthetic"]
    ref_name = "real" if "real" in curves else "synthetic"
    ref = curves[ref_name]
    tools = sorted(_whole(ref, "tool"), key=lambda t: -_whole(ref, "tool")[t])
    figures = []
    specs = [("tool_share", "tool", None), ("diurnal", "hour", None)]
    specs += [(f"{part}_curve", part, tool) for tool in tools for part in ("week", "day")]
    for metric, part, tool in specs:
        pick = (lambda c, t=tool: _by_tool(c, t)) if tool else (lambda c: c)
        halves = [pick(ref[0][h][part]) for h in (0, 1)]
        whole, synthetic = pick(_whole(ref, part)), pick(_whole(syn, part))
        floor = mean_of(tvd(pick(split[0][part]), pick(split[1][part])) for split in ref)
        if floor is not None:
            floor = rescale(floor, (sum(halves[0].values()), sum(halves[1].values())),
                            (sum(whole.values()), sum(synthetic.values())))
        column = tool or part
        if ref_name == "synthetic" and metric == "diurnal" and _profile_diurnal(ctx):
            n = sum(synthetic.values())
            floor = None if floor is None else rescale(floor, (n // 2, n - n // 2), (10**12, n))
            figures.append(distance_figure("event", EVENTS, metric,
                                           tvd(_profile_diurnal(ctx), synthetic), floor,
                                           "event_tvd", column=column, reference="profile"))
            continue
        if ref_name == "synthetic":
            figures.append(not_applicable("event", EVENTS, metric, "no real events: shown, "
                                          "not judged", column=column))
            continue
        figures.append(distance_figure("event", EVENTS, metric, tvd(whole, synthetic), floor,
                                       "event_tvd", column=column, reference="real"))
    _curve_plots(ctx, curves, tools[:CURVE_TOOLS], figures)
    return figures


def _curve_plots(ctx: Context, curves: dict, tools: list[str], figures: list[Figure]) -> None:
    for part, label in (("day", "day in term"), ("week", "week in term")):
        series = {}
        for name, halves in curves.items():
            counts = _whole(halves, part)
            for tool in tools:
                mine = _by_tool(counts, tool)
                total = sum(mine.values()) or 1
                xs = sorted(mine)
                series[f"{name}: {tool}"] = {"x": xs, "y": [mine[x] / total for x in xs]}
        plot = ctx.add_plot({"type": "lines", "title": f"events by {label}, share per tool",
                             "series": series, "xlabel": label, "ylabel": "share of the tool"})
        for f in figures:
            if f.metric == f"{part}_curve":
                f.plot = plot
    series = {}
    for name, halves in curves.items():
        counts = _whole(halves, "hour")
        total = sum(counts.values()) or 1
        series[name] = {"x": list(range(24)), "y": [counts.get(h, 0) / total for h in range(24)]}
    plot = ctx.add_plot({"type": "lines", "title": "diurnal curve (UTC hour)", "series": series,
                         "xlabel": "hour", "ylabel": "share of events"})
    for f in figures:
        if f.metric == "diurnal":
            f.plot = plot


def _activity_frame(side: Side) -> str | None:
    """SQL of the graded enrollments: person, final score and the person's events in the
    course offering (counted from the events alone: their term plays no part)."""
    if not (side.has("course_grade", "course_section_id", "person_id", "le_final_score")
            and side.has("course_section", "course_section_id", "course_offering_id")):
        return None
    return f"""(SELECT g.person_id, g.le_final_score score, coalesce(e.n, 0) events
FROM {side.rel('course_grade')} g JOIN {side.rel('course_section')} s USING (course_section_id)
LEFT JOIN (SELECT person_id, course_offering_id, count(*) n FROM (
             SELECT e.{q('person')}.udp_id person_id,
                    e.{q('course_offering')}.udp_id course_offering_id
             FROM {side.rel(EVENTS)} e) x
           GROUP BY person_id, course_offering_id) e
  ON e.person_id = g.person_id AND e.course_offering_id = s.course_offering_id
WHERE g.le_final_score IS NOT NULL)"""


def _spearman(side: Side, frame: str, by_half: bool) -> dict:
    over = "PARTITION BY h " if by_half else ""
    group = ("h", " GROUP BY h") if by_half else ("NULL", "")
    rows = side.rows(f"""
SELECT {group[0]}, count(*), corr(rs, re) FROM (
  SELECT h, rank() OVER ({over}ORDER BY score) rs, rank() OVER ({over}ORDER BY events) re
  FROM (SELECT {side.half('person_id')} h, score, events FROM {frame}) x){group[1]}""")
    return {r[0]: (r[2], int(r[1])) for r in rows}


def _activity_vs_score(ctx: Context, sides: dict[str, Side]) -> list[Figure]:
    frames = {name: _activity_frame(side) for name, side in sides.items()}
    if any(f is None for f in frames.values()):
        return []
    # read three times (whole, halves, scatter): the events are counted once per side
    frames = {name: sides[name].materialize("activity", f"SELECT * FROM {frame} f")
              for name, frame in frames.items()}
    whole = {name: _spearman(sides[name], frame, False)[None] for name, frame in frames.items()}
    ref = "real" if "real" in sides else "synthetic"
    halves = _spearman(sides[ref], frames[ref], True)
    plot = _scatter(ctx, sides, frames)
    extra = {name: value for name, (value, _) in whole.items()}
    if ref == "synthetic":
        return [not_applicable("event", EVENTS, "activity_score_spearman", "no real events: "
                               "the warehouse's rho is shown, not judged", plot=plot,
                               column="events per enrollment ~ le_final_score", extra=extra)]
    (a, n_a), (b, n_b) = halves.get(0, (None, 0)), halves.get(1, (None, 0))
    (r, n_r), (s, n_s) = whole["real"], whole["synthetic"]
    floor = None if None in (a, b) else rescale(abs(a - b), (n_a, n_b), (n_r, n_s))
    value = None if None in (r, s) else abs(r - s)
    return [distance_figure("event", EVENTS, "activity_score_spearman_diff", value, floor,
                            "spearman", column="events per enrollment ~ le_final_score",
                            reference="real", plot=plot, extra=extra)]


def _scatter(ctx: Context, sides: dict[str, Side], frames: dict[str, str]) -> str:
    series = {}
    for name, frame in frames.items():
        side = sides[name]
        rows = side.rows(f"SELECT score, events FROM {frame} ORDER BY "
                         f"{side.order_key('person_id')}, score, events LIMIT {SCATTER_POINTS}")
        series[name] = {"x": [float(r[0]) for r in rows], "y": [int(r[1]) for r in rows]}
    return ctx.add_plot({"type": "scatter", "title": "events per enrollment vs final score",
                         "series": series, "xlabel": "le_final_score",
                         "ylabel": "events in the course offering"})
