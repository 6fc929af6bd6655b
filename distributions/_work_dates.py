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
- the due fraction of each rank of a kind in its course (its first, second, … assignment)
  gets its own distribution too (distributions/_due_positions.py), and the points possible
  their Spearman with the due fraction (distributions/_points_by_due.py);
- results of work without a due date get their own distribution, `undated.response_date`:
  when they came in, as a fraction of their term (an exam at the end of it), not an offset
  from a due date they do not have; published only with k distinct people behind it.

Under ε the due fractions are not noised (activities are institutional: no person stands
behind an assignment's due date); the response offset's candidate table is one noised query
(`dependency[...]`), its cells one more (`cells`, reserved once the due date has its
attribute) and the undated responses one (`undated/response_date`): each a noised,
person-weighted histogram over a public grid (`_noisy_continuous`).
"""

from __future__ import annotations

from distributions._day_resolution import day_resolution_part, score_step_part
from distributions._dependencies import best_given, parent_nodes, registry_nodes
from distributions._due_positions import due_positions
from distributions._estimators import (
    Missing,
    Summary,
    decile_bins,
    summarize,
    value_cells,
    value_counts,
)
from distributions._noisy_continuous import FRACTION_GRID, binned_cells, grid_of, noised_cells
from distributions._points_by_due import points_by_due
from distributions._term_work import term_work_part

ACTIVITY, GROUP, RESULT = "learner_activity", "learner_activity_group", "learner_activity_result"
BINS = 10  # the due fraction's bins for scoring candidates (null is one more)
MAX_CELLS = 64  # an attribute with more values (titles unique per course) is not a kind
NEEDED = {ACTIVITY: ("due_date", "course_offering_id"),
          "course_offering": ("academic_term_id",),
          "academic_term": ("term_begin_date", "term_end_date")}


def work_dates_part(p, profile: dict) -> None:
    """Due fractions given the activity's kind, response offsets given the same, and the
    responses of undated work (after the catalog and the extras: their learned names); the
    source's terms listed with their own offerings, activities and due fractions; which
    result dates are dates (_day_resolution.py)."""
    term_work_part(p, profile)
    day_resolution_part(p, profile)
    score_step_part(p, profile)
    if not all(p.reader.has(t, c) for t, cols in NEEDED.items() for c in cols):
        return
    _due_times(p, profile)
    given = _condition_due(p, profile)
    due_positions(p, profile, _kind(p, profile), _frame, _attribute, _fraction)
    points_by_due(p, profile, _frame, _fraction)
    if p.reader.has(RESULT, "response_date") and p.reader.has(RESULT, "learner_activity_id"):
        if given and p.reader.has(RESULT, "person_id"):
            _condition_response(p, profile, given)
        _undated_responses(p, profile)


MAX_TIMES = 24  # the commonest times of day work falls due; rarer ones are left out


def _due_times(p, profile: dict) -> None:
    """`due_time`: the times of day work falls due, in seconds after midnight, each with its
    share (the commonest MAX_TIMES). The generator once put every due date at 23:59: a
    converted source's dates at midnight came out a day late, and its days holding eight
    assignments each put the due dates at KS 0.066. Deadlines are the institution's: no
    person behind them, nothing suppressed or noised."""
    r = p.reader
    due = p.sql.seconds(r.col(ACTIVITY, "due_date", "time", "a"))
    rows = r.rows(f"SELECT {due} - FLOOR({due} / 86400) * 86400 AS v, COUNT(*) AS n "
                  f"FROM {r.rel(ACTIVITY)} AS a WHERE {due} IS NOT NULL GROUP BY 1 "
                  f"ORDER BY n DESC, v LIMIT {MAX_TIMES}")
    counts: dict[int, int] = {}
    for row in rows:
        second = int(round(float(row["v"]))) % 86400
        counts[second] = counts.get(second, 0) + int(row["n"])
    total = sum(counts.values())
    if not total:
        return
    profile["tables"][ACTIVITY]["due_time"] = {"kind": "categorical", "values": [
        {"value": v, "p": round(n / total, 6)} for v, n in counts.items()]}
    p.notes.append(f"/tables/{ACTIVITY}/due_time: the times of day work falls due "
                   f"({len(rows)} of them)")


def _candidates(p, profile: dict) -> list[str]:
    """The activity's text columns the profile draws (registry and extras) and its group's."""
    tables = profile["tables"]
    spec = tables[ACTIVITY]
    own = registry_nodes(p, ACTIVITY, spec) + sorted(
        c for c, e in spec.get("extras", {}).items() if e.get("type") == "string"
        and p.reader.has(ACTIVITY, c)
        and spec["columns"].get(c, {}).get("kind") in ("categorical", "conditional"))
    return own + parent_nodes(p, profile, ACTIVITY, (GROUP,))


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
    best = best_given(_candidates(p, profile), lambda given: _due_counts(p, given))
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


def _due_counts(p, given: str) -> dict:
    """The due fraction's deciles (undated: -1) per value of an activity attribute."""
    binned = (f"CASE WHEN a.cs_due IS NULL THEN -1 ELSE LEAST(FLOOR({_fraction()} * {BINS}), "
              f"{BINS - 1}) END")
    return _few(value_counts(p.reader, _frame(
        p, f"{_attribute(p, given)} AS g0, {binned} AS v", "." in given), 1))


def _kind(p, profile: dict) -> str | None:
    """The group attribute (a group's name: TMA, CMA, Exam) that tells most about the due
    fraction: the kind whose assignments are ranked in their course (an activity's own
    columns, titles numbered by position, would make every rank its own kind)."""
    best = best_given(parent_nodes(p, profile, ACTIVITY, (GROUP,)),
                      lambda given: _due_counts(p, given))
    return best[0] if best else None


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
    binned = decile_bins(overall, "(t.cs_response - w.cs_due) / 3600.0")
    if overall.get("kind") != "continuous" or overall.get("unit") != "hours_from_due" \
            or binned is None:
        return
    pid = p.reader.col(RESULT, "person_id", "text", "t")
    counts = value_cells(p.reader, _results(p, f"w.g0, {binned} AS v, {pid} AS pid", given,
                                            "w.cs_due IS NOT NULL"), 1)
    ahead = f"learner_activity_id.{given}"
    path = f"/tables/{RESULT}/columns/response_date"
    if p.guard.epsilon is not None:
        p.guard.reserve(f"{path}/cells")  # whether the noised table below picks it or not
        counts = _noised_counts(p, f"{path}/dependency[{ahead}]", counts)
    if best_given([ahead], lambda _: counts) is None:
        return
    if p.guard.epsilon is not None:
        _noised_response_cells(p, columns, given, ahead, overall)
    else:
        _response_cells(p, columns, given, ahead, overall, counts)


def _response_cells(p, columns: dict, given: str, ahead: str, overall: dict,
                    counts: dict) -> None:
    """The response offset's cells from their summaries, each k-checked on the people of
    its binned counts."""
    path = f"/tables/{RESULT}/columns/response_date"
    hours = "w.g0, (t.cs_response - w.cs_due) / 3600.0 AS x"
    summaries = summarize(p.reader, _results(p, hours, given, "w.cs_due IS NOT NULL"),
                          p.guard.k, 1)
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


def _noised_counts(p, query: str, counts: dict) -> dict:
    """{(group,): {value: count}} noised as one query (person weights), same shape."""
    flat = {(*g, v): c for g, per in counts.items() for v, c in per.items()}
    out: dict[tuple, dict] = {}
    for key, count in p.guard.noise(query, flat).items():
        out.setdefault(key[:-1], {})[key[-1]] = count
    return out


def _noised_response_cells(p, columns: dict, given: str, ahead: str, overall: dict) -> None:
    """Under ε: the response offset's cells from one noised histogram over the overall
    offset's published quantiles."""
    path = f"/tables/{RESULT}/columns/response_date"
    edges = grid_of(overall)
    if len(edges) < 2:
        return
    pid = p.reader.col(RESULT, "person_id", "key", "t")
    base = _results(p, f"w.g0, (t.cs_response - w.cs_due) / 3600.0 AS x, {pid} AS pid", given,
                    "w.cs_due IS NOT NULL")
    template = {k: overall[k] for k in ("unit", "integer") if k in overall}
    cells = noised_cells(p, f"{path}/cells", binned_cells(p, base, edges, 1), edges, template)
    learned = [{"when": {ahead: value}, "distribution": dist}
               for (value,), dist in cells.items() if value is not None and dist is not None]
    if learned:
        columns["response_date"] = {"kind": "conditional", "given": [ahead], "cells": learned,
                                    "otherwise": overall}
        p.notes.append(f"{path}: learned given [{ahead}] (the due date's attribute; cells "
                       "from a noised histogram)")


UNDATED = {"kind": "continuous", "family": "empirical", "unit": "fraction_of_term"}


def _undated_responses(p, profile: dict) -> None:
    """When results of work without a due date came in, as a fraction of their term: k
    distinct people behind it (under ε: a noised histogram over the term's 0..1)."""
    path = f"/tables/{RESULT}/undated/response_date"
    pid = p.reader.col(RESULT, "person_id", "key", "t") \
        if p.reader.has(RESULT, "person_id") else None
    if p.guard.epsilon is not None:
        if pid is None:
            return
        base = _results(p, f"{_fraction('t.cs_response', 'w')} AS x, {pid} AS pid", None,
                        "w.cs_due IS NULL")
        dist = noised_cells(p, path, binned_cells(p, base, FRACTION_GRID, 0), FRACTION_GRID,
                            UNDATED).get(())
        n = None
    else:
        base = _results(p, f"{_fraction('t.cs_response', 'w')} AS x", None, "w.cs_due IS NULL")
        summary = summarize(p.reader, base, p.guard.k).get((), Summary(0, 0))
        if not summary.n or not _enough_people(p, path, pid, summary.n):
            return
        dist, n = p.guard.continuous(path, summary, UNDATED), summary.n
    if dist is not None:
        profile["tables"][RESULT]["undated"] = {"response_date": dist}
        p.notes.append(f"{path}: results of work without a due date"
                       + (f" ({n:,})" if n is not None else "")
                       + " dated by their own distribution over the term")


def _enough_people(p, path: str, pid: str | None, rows: int) -> bool:
    """Whether k distinct people stand behind the undated results (no person column: the
    rows are counted instead)."""
    if pid is None:
        return True
    base = _results(p, f"{pid} AS pid", None, "w.cs_due IS NULL")
    people = p.reader.scalar(f"SELECT COUNT(DISTINCT pid) FROM ({base}) AS b")
    if int(people or 0) >= p.guard.k:
        return True
    p.guard.record(path, "suppressed", f"fewer than k={p.guard.k} people", rows)
    return False
