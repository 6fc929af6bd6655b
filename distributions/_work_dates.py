"""When work is due and when its results come in, learned from the source's aggregates.

An assignment's due date is profiled as a fraction of its term and a result's response as
hours from its due date (`_institution.measure_base`). Drawn from one distribution each,
every kind of work lands on the same spread: in a converted dataset the tutor-marked
assignments are due early, the computer-marked ones late, and most exams have no due date
at all. Here:

- the due fraction takes as its `given` the activity's attribute (a text column of the
  activity or of its group) that tells most about it, scored by mutual information over its
  deciles with null as its own bin: each value gets its own quantiles and null share (rows of
  an institutional table, so no cell is suppressed for being few);
- the response offset follows the same attribute (through `learner_activity_id`) where that
  tells anything about it, each cell k-checked in people;
- results of work without a due date get their own distribution, `undated.response_date`:
  when they came in, as a fraction of their term (an exam at the end of it), not an offset
  from a due date they do not have.
"""

from __future__ import annotations

from distributions._dependencies import best_given, registry_nodes
from distributions._estimators import Missing, Summary, summarize, value_cells, value_counts

ACTIVITY, GROUP, RESULT = "learner_activity", "learner_activity_group", "learner_activity_result"
BINS = 10  # the due fraction's bins for scoring candidates (null is one more)
MAX_CELLS = 64  # an attribute with more values (titles unique per course) is not a kind
NEEDED = {ACTIVITY: ("due_date", "course_offering_id"),
          "course_offering": ("academic_term_id",),
          "academic_term": ("term_begin_date", "term_end_date")}


def work_dates_part(p, profile: dict) -> None:
    """Due fractions given the activity's kind, response offsets given the same, and the
    responses of undated work (after the catalog and the extras: their learned names)."""
    if not all(p.reader.has(t, c) for t, cols in NEEDED.items() for c in cols):
        return
    given = _condition_due(p, profile)
    if p.reader.has(RESULT, "response_date") and p.reader.has(RESULT, "learner_activity_id"):
        if given and p.reader.has(RESULT, "person_id"):
            _condition_response(p, profile, given)
        _undated_responses(p, profile)


def _candidates(p, profile: dict) -> list[str]:
    """The activity's text columns the profile draws (registry and extras) and its group's."""
    tables = profile["tables"]
    spec = tables[ACTIVITY]
    own = registry_nodes(p, ACTIVITY, spec) + sorted(
        c for c, e in spec.get("extras", {}).items() if e.get("type") == "string"
        and p.reader.has(ACTIVITY, c)
        and spec["columns"].get(c, {}).get("kind") in ("categorical", "conditional"))
    group = registry_nodes(p, GROUP, tables[GROUP]) \
        if GROUP in p.reader.tables and p.reader.has(ACTIVITY, "learner_activity_group_id") \
        else []
    return own + [f"learner_activity_group_id.{c}" for c in group]


def _frame(p, select: str, group: bool = False) -> str:
    """SELECT `select` over activities `a` with cs_due, cs_begin, cs_end (due, term begin,
    term end in seconds) beside them, of terms with a positive length; with `group`, the
    activity's group joined as `q`."""
    r, s = p.reader, p.sql
    due = s.seconds(r.col(ACTIVITY, "due_date", "time", "a"))
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "term"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "term"))
    join = (f"LEFT JOIN {r.rel(GROUP)} AS q ON a.learner_activity_group_id = "
            f"q.learner_activity_group_id" if group else "")
    return (f"SELECT {select} FROM (SELECT a.*, {due} AS cs_due, {begin} AS cs_begin, {end} "
            f"AS cs_end FROM "
            f"{r.rel(ACTIVITY)} AS a JOIN {r.rel('course_offering')} AS o ON "
            f"a.course_offering_id = o.course_offering_id JOIN {r.rel('academic_term')} AS term"
            f" ON o.academic_term_id = term.academic_term_id) AS a {join} "
            f"WHERE a.cs_end > a.cs_begin")


def _fraction(moment: str = "a.cs_due", frame: str = "a") -> str:
    """A time in seconds (beside the frame's term) as a fraction of its term, clipped to
    0..1 (the generator keeps work inside its term)."""
    begin, end = f"{frame}.cs_begin", f"{frame}.cs_end"
    return (f"CASE WHEN {moment} IS NULL THEN NULL ELSE LEAST(GREATEST(({moment} - {begin})"
            f" / ({end} - {begin}), 0), 1) END")


def _condition_due(p, profile: dict) -> str | None:
    """Condition the due fraction on the activity attribute that tells most about it (its
    deciles and its null-ness); the attribute, or None."""
    columns = profile["tables"][ACTIVITY]["columns"]
    overall = columns.get("due_date", {})
    if overall.get("kind") != "continuous" or overall.get("unit") != "fraction_of_term":
        return None
    binned = (f"CASE WHEN a.cs_due IS NULL THEN -1 ELSE LEAST(FLOOR({_fraction()} * {BINS}), "
              f"{BINS - 1}) END")
    best = best_given(_candidates(p, profile), lambda given: _few(value_counts(
        p.reader, _frame(p, f"{_attribute(p, given)} AS g0, {binned} AS v", "." in given),
        1)))
    if best is None:
        return None
    given, gain, _ = best
    path = f"/tables/{ACTIVITY}/columns/due_date"
    summaries = summarize(p.reader, _frame(p, f"{_attribute(p, given)} AS g0, "
                                              f"{_fraction()} AS x", "." in given), p.guard.k, 1)
    cells = [{"when": {given: value}, "distribution": _cell(p, f"{path}/cells[{given}={value}]",
                                                             summary, overall, people=False)}
             for (value,), summary in sorted(summaries.items(), key=lambda i: str(i[0]))
             if value is not None]
    cells = [c for c in cells if c["distribution"] is not None]
    if not cells:
        return None
    columns["due_date"] = {"kind": "conditional", "given": [given], "cells": cells,
                           "otherwise": overall}
    p.notes.append(f"{path}: learned given [{given}] (MI {gain:.4f} nats over its deciles, "
                   "undated as its own bin): each value its own quantiles and null share")
    return given


def _few(counts: dict) -> dict:
    """The counts, or Missing (the candidate is skipped) when they have too many values."""
    if len(counts) > MAX_CELLS:
        raise Missing(f"more than {MAX_CELLS} values")
    return counts


def _attribute(p, candidate: str) -> str:
    """SQL text of an activity attribute: its own column (alias a) or its group's (q)."""
    if "." not in candidate:
        return p.reader.col(ACTIVITY, candidate, "text", "a")
    return p.reader.col(GROUP, candidate.split(".", 1)[1], "text", "q")


def _cell(p, path: str, summary: Summary, overall: dict, people: bool) -> dict | None:
    """A cell's distribution; a cell whose values are all null keeps the overall shape with
    a null share of one (the generator then writes only nulls there)."""
    if summary.n == 0:
        return {**overall, "null_fraction": 1.0} if summary.total else None
    return p.guard.continuous(path, summary, overall, people=people)


def _results(p, select: str, given: str | None, where: str) -> str:
    """SELECT `select` over results `t` joined to their activity's frame `w` (aid, cs_due,
    cs_begin, cs_end, and g0: the activity attribute `given`) and their response time `r`
    in seconds."""
    r = p.reader
    attribute = f", {_attribute(p, given)} AS g0" if given else ""
    activities = _frame(p, f"a.learner_activity_id AS aid, a.cs_due, a.cs_begin, a.cs_end"
                           f"{attribute}", bool(given) and "." in given)
    response = p.sql.seconds(r.col(RESULT, "response_date", "time", "t"))
    return (f"SELECT {select} FROM (SELECT t.*, {response} AS cs_response FROM "
            f"{r.rel(RESULT)} AS t) AS t JOIN ({activities}) AS w ON t.learner_activity_id = "
            f"w.aid WHERE t.cs_response IS NOT NULL AND {where}")


def _condition_response(p, profile: dict, given: str) -> None:
    """Condition the response offset (hours from due) on the due date's attribute, reached
    through the result's activity, where it tells anything (over the offset's deciles);
    cells k-checked in the people behind them."""
    columns = profile["tables"][RESULT]["columns"]
    overall = columns.get("response_date", {})
    edges = sorted({v for q, v in overall.get("quantiles", {}).items()
                    if float(q) in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)})
    if overall.get("kind") != "continuous" or overall.get("unit") != "hours_from_due" \
            or not edges:
        return
    hours = "(t.cs_response - w.cs_due) / 3600.0"
    pid = p.reader.col(RESULT, "person_id", "text", "t")
    binned = " + ".join(f"CASE WHEN {hours} >= {e!r} THEN 1 ELSE 0 END" for e in edges)
    counts = value_cells(p.reader, _results(p, f"w.g0, {binned} AS v, {pid} AS pid", given,
                                            "w.cs_due IS NOT NULL"), 1)
    ahead = f"learner_activity_id.{given}"
    if best_given([ahead], lambda _: counts) is None:
        return
    path = f"/tables/{RESULT}/columns/response_date"
    summaries = summarize(p.reader, _results(p, f"w.g0, {hours} AS x", given,
                                             "w.cs_due IS NOT NULL"), p.guard.k, 1)
    cells = []
    for (value,), summary in sorted(summaries.items(), key=lambda i: str(i[0])):
        cell_path = f"{path}/cells[{ahead}={value}]"
        per = list(counts.get((value,), {}).values())
        if value is None or not per or not p.guard.cell_kept(cell_path, sum(per[1:], per[0])):
            continue
        dist = p.guard.continuous(cell_path, summary, overall)
        if dist is not None:
            cells.append({"when": {ahead: value}, "distribution": dist})
    if cells:
        columns["response_date"] = {"kind": "conditional", "given": [ahead], "cells": cells,
                                    "otherwise": overall}
        p.notes.append(f"{path}: learned given [{ahead}] (the due date's attribute)")


def _undated_responses(p, profile: dict) -> None:
    """When results of work without a due date came in, as a fraction of their term."""
    path = f"/tables/{RESULT}/undated/response_date"
    base = _results(p, f"{_fraction('t.cs_response', 'w')} AS x", None, "w.cs_due IS NULL")
    summary = summarize(p.reader, base, p.guard.k).get((), Summary(0, 0))
    if not summary.n:
        return
    dist = p.guard.continuous(path, summary, {"kind": "continuous", "family": "empirical",
                                              "unit": "fraction_of_term"})
    if dist is not None:
        profile["tables"][RESULT]["undated"] = {"response_date": dist}
        p.notes.append(f"{path}: results of work without a due date ({summary.n:,}) dated "
                       "by their own distribution over the term")
