"""What each of the source's terms holds: its offerings, the activities of each and when they
fall due, learned per term (`calendar.terms`: the source's terms listed in order).

One distribution for every term spreads each term's work alike, and the plan deals the
courses' activity counts evenly over the terms. A source's terms differ: on the real-like
source (benchmarks/_real_like.py) one autumn held 23 assignments and the next 34, one spring
was due on average on day 125 of its term and another on day 144. Dated over four terms, the
generated due, response and graded dates sat at KS 0.051-0.054 at 30,000 students (0.069-0.072
at 3,000); remapping the generated fractions onto each source term's own and weighing each
term by its share of results took them to ~0.01 (measured on the generated rows in DuckDB).
So each listed term carries:

- its own name (`2013J`), where the source names its terms;
- its own dates where its type's would move them (`begins_on_or_after`, `starts_monday`,
  `weeks`, `days`: a converted source's terms of 240 and 268 days, not 34 and 38 weeks);
- `offerings_per_fte`: the term's course offerings over the source's FTE (a term of 4
  courses and one of 7 keep theirs; without a known FTE, the term type's);
- `activities`: learner activities per course offering in the term, zeros included;
- `due_date`: the dated activities' due fractions of the term (its quantiles; undated work
  keeps the table-wide null share).

Terms, courses and assignments are institutional: no person stands behind a count or a due
date, so nothing here is suppressed for being few or noised under ε (only the FTE the
offerings are scaled by is). The generator reads a listed term's fields for that term of the
run (pipeline/generate/_plan.py, _rules/due_positions.py); terms beyond the list keep the
pooled distributions. A consortium's merged calendar lists every institution's terms with
their own fields (distributions/_merge_terms.py).
"""

from __future__ import annotations

import datetime as dt

from distributions._calendar import MAX_TERM_WEEKS, season_of
from distributions._estimators import summarize, value_counts

ACTIVITY = "learner_activity"
PATH = "/calendar/terms"
TERM_NAME_MAX = 64  # the profile schema's longest term name
NEEDED = {ACTIVITY: ("course_offering_id",), "course_offering": ("academic_term_id",),
          "academic_term": ("term_begin_date", "term_end_date")}


def term_work_part(p, profile: dict) -> None:
    """List the source's terms with their offerings, activities per offering and due
    fractions (after the due date's own distribution: its family and unit)."""
    if not all(p.reader.has(t, c) for t, cols in NEEDED.items() for c in cols):
        return
    terms = _terms(p)
    if not terms or len(terms) != p.counts.get("academic_term", len(terms)):
        return  # a term without dates: the list would not line up with the run's terms
    types = profile["calendar"]["term_types"]
    if any(t["term_type"] not in types for t in terms):
        return
    counts = _activity_counts(p)
    dues = _due_fractions(p, profile)
    fte = getattr(p, "source_fte", None)
    listed = []
    for position, term in enumerate(terms):
        entry = {"term_type": term["term_type"], "year": term["begin"].year,
                 **own_dates(term, types[term["term_type"]])}
        if term["name"]:
            entry["name"] = term["name"]
        if fte and term["offerings"]:
            entry["offerings_per_fte"] = round(term["offerings"] / fte, 6)
        if counts.get(position):
            entry["activities"] = _categorical(counts[position])
        if dues.get(position) is not None:
            entry["due_date"] = dues[position]
        listed.append(entry)
    profile["calendar"]["terms"] = listed
    p.notes.append(f"{PATH}: the source's {len(listed)} term(s) listed in order, each on its "
                   "own dates and under its own name, with its offerings per FTE, activities "
                   "per offering and due fractions")


def _position(p) -> str:
    """SELECT term, position (0: the first term by begin date) of every dated term."""
    r = p.reader
    begin = p.sql.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    return (f"SELECT t.academic_term_id AS term, DENSE_RANK() OVER (ORDER BY {begin}, "
            f"t.academic_term_id) - 1 AS position FROM {r.rel('academic_term')} AS t "
            f"WHERE {begin} IS NOT NULL")


def _terms(p) -> list[dict]:
    """Each dated term in order of its begin date: its type (or season), year and
    number of course offerings."""
    r = p.reader
    s = p.sql
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "t"))
    kind = r.col_or_null("academic_term", "term_type", "text", "t")
    name = r.col_or_null("academic_term", "name", "text", "t")
    rows = r.rows(
        f"SELECT {kind} AS term_type, {name} AS name, {begin} AS b, {end} AS e, "
        f"COUNT(o.course_offering_id) AS n "
        f"FROM {r.rel('academic_term')} AS t LEFT JOIN {r.rel('course_offering')} AS o "
        f"ON o.academic_term_id = t.academic_term_id WHERE {begin} IS NOT NULL "
        f"AND {end} IS NOT NULL GROUP BY t.academic_term_id, {kind}, {name}, {begin}, {end} "
        f"ORDER BY {begin}, t.academic_term_id")
    return [{"term_type": row["term_type"] or season_of(row["b"]),
             "name": _term_name(row["name"]),
             "begin": dt.datetime.fromtimestamp(row["b"], dt.UTC).date(),
             "end": dt.datetime.fromtimestamp(row["e"], dt.UTC).date(),
             "offerings": int(row["n"])} for row in rows]


def _term_name(value) -> str | None:
    """A term's own name ('2013J', 'Fall 2024'), kept as the source spells it: a label of
    the institution's calendar, no person behind it; a blank or over-long one is left out
    (the generator then names the term by its type and year)."""
    text = str(value).strip() if value is not None else ""
    return text if 0 < len(text) <= TERM_NAME_MAX else None


def own_dates(term: dict, spec: dict) -> dict:
    """The fields a listed term needs beside its type's (`spec`) to begin and end on its
    own dates: the generator begins a term on its type's month-day (the first Monday from
    it, unless `starts_monday` is false) and ends it `weeks` × 7 − 3 days later, or `days`
    later where the term lists them (a source's presentations of 240 and 241 days)."""
    begin, end = term["begin"], term["end"]
    out: dict = {}
    monday = spec.get("starts_monday", True)
    if begin.strftime("%m-%d") != spec["begins_on_or_after"] or \
            (monday and begin.weekday() != 0):
        out.update(begins_on_or_after=begin.strftime("%m-%d"), starts_monday=False)
    days = (end - begin).days
    weeks = min(max(round((days + 3) / 7), 2), MAX_TERM_WEEKS)
    if weeks != spec["weeks"]:
        out["weeks"] = weeks
    if days != 7 * weeks - 3 and 0 < days <= 7 * MAX_TERM_WEEKS:
        out["days"] = days
    return out


def _activity_counts(p) -> dict[int, dict[int, int]]:
    """{term position: {activities per offering: offerings}}, zeros included."""
    r = p.reader
    base = (f"SELECT k.position AS g0, COUNT(a.course_offering_id) AS v "
            f"FROM {r.rel('course_offering')} AS o JOIN ({_position(p)}) AS k "
            f"ON o.academic_term_id = k.term LEFT JOIN {r.rel(ACTIVITY)} AS a "
            f"ON a.course_offering_id = o.course_offering_id "
            f"GROUP BY o.course_offering_id, k.position")
    return {int(g[0]): {int(v): int(n) for v, n in counts.items()}
            for g, counts in value_counts(r, base, 1).items() if g[0] is not None}


def _due_fractions(p, profile: dict) -> dict[int, dict]:
    """{term position: due-fraction distribution of its dated activities}."""
    overall = profile["tables"][ACTIVITY]["columns"].get("due_date", {})
    overall = overall.get("otherwise", overall) if overall.get("kind") == "conditional" \
        else overall
    if overall.get("kind") != "continuous" or overall.get("unit") != "fraction_of_term" \
            or not p.reader.has(ACTIVITY, "due_date"):
        return {}
    r, s = p.reader, p.sql
    due = s.seconds(r.col(ACTIVITY, "due_date", "time", "a"))
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "t"))
    base = (f"SELECT k.position AS g0, LEAST(GREATEST(({due} - {begin}) / ({end} - {begin}), "
            f"0), 1) AS x FROM {r.rel(ACTIVITY)} AS a JOIN {r.rel('course_offering')} AS o "
            f"ON a.course_offering_id = o.course_offering_id JOIN {r.rel('academic_term')} "
            f"AS t ON o.academic_term_id = t.academic_term_id JOIN ({_position(p)}) AS k "
            f"ON t.academic_term_id = k.term WHERE {end} > {begin} AND {due} IS NOT NULL")
    template = {k: overall[k] for k in ("family", "unit") if k in overall}
    out = {}
    for (position,), summary in summarize(r, base, p.guard.k, 1).items():
        if position is not None and summary.n:
            out[int(position)] = p.guard.continuous(f"{PATH}/{position}/due_date", summary,
                                                    template, people=False)
    return out


def _categorical(counts: dict[int, int]) -> dict:
    """A count distribution of institutional rows: each value's share, as they are."""
    total = sum(counts.values())
    return {"kind": "categorical", "values": [{"value": v, "p": round(n / total, 6)}
                                              for v, n in sorted(counts.items())]}
