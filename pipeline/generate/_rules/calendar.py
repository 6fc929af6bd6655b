"""Academic terms and sessions from the profile's calendar: real dates, breaks, finals."""

from __future__ import annotations

import datetime as dt

import numpy as np

from distributions._term_list import TERM_CONTENTS, term_list
from pipeline.generate._column_values import Labels
from pipeline.generate._engine import Engine, rule
from pipeline.generate._plan import Flat, count_rule
from pipeline.udp._schema import Table


def academic_calendar(calendar: dict, n_terms: int) -> list[dict]:
    """The first `n_terms` terms, in order, with their dates and breaks (a listed term's
    name, the source's own, and its contents too: its offerings per FTE, activities per
    offering and due fractions, for a source's terms, or a consortium's institutions',
    differ in size and in their work)."""
    return [{**_term(t["term_type"], t["year"], t["spec"]),
             **{k: t[k] for k in TERM_CONTENTS + ("name",) if k in t}}
            for t in term_list(calendar, n_terms)]


def _term(term_type: str, year: int, spec: dict) -> dict:
    month, day = map(int, spec["begins_on_or_after"].split("-"))
    begin = dt.date(year, month, day)
    if spec.get("starts_monday", True):  # the first Monday, unless the source says otherwise
        begin += dt.timedelta(days=(7 - begin.weekday()) % 7)
    weeks = int(spec["weeks"])
    # a listed term's own length in days (a source's term of 240 days), else whole weeks
    end = begin + dt.timedelta(days=int(spec.get("days", 7 * weeks - 3)))
    return {
        "name": f"{term_type} {year}", "term_type": term_type, "year": year,
        "begin": begin,
        "instr_end": min(begin + dt.timedelta(days=7 * (weeks - 1) - 3), end),
        "end": end,
        "weeks": weeks,
        "breaks": [_break(begin, b) for b in spec.get("breaks", [])],
        "exam_weeks": [min(int(e["week"]), weeks) for e in spec.get("exams", [])],
    }


def _break(begin: dt.date, spec: dict) -> dict:
    first = begin + dt.timedelta(days=7 * (int(spec["week"]) - 1) + int(spec.get("first_day", 0)))
    return {"name": spec["name"], "first": first,
            "last": first + dt.timedelta(days=int(spec["days"]) - 1)}


@count_rule("terms")
def plan_terms(engine: Engine, table: Table) -> Flat:
    """Rows of academic_term: the calendar's first `--terms` terms."""
    engine.facts["calendar"] = academic_calendar(engine.profile["calendar"], engine.facts["terms"])
    return Flat(len(engine.facts["calendar"]))


@count_rule("sessions")
def plan_sessions(engine: Engine, table: Table, parents: np.ndarray) -> np.ndarray:
    """Sessions per term: one per session of the profile's calendar."""
    return np.full(len(parents), len(engine.profile["calendar"]["sessions"]))


def term_dates(engine: Engine, field: str, terms: np.ndarray) -> np.ndarray:
    """A date field of each term row, as datetime64[D]."""
    values = np.array([t[field] for t in engine.facts["calendar"]], dtype="datetime64[D]")
    return values[terms]


_TERM_FIELDS = {
    "term_begin_date": "begin", "instr_begin_date": "begin", "le_term_begin_date": "begin",
    "term_end_date": "end", "le_term_end_date": "end", "instr_end_date": "instr_end",
}


@rule("calendar")
def calendar_column(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Term and session columns, from the calendar's dates."""
    if table.name == "academic_session":
        return _session_column(engine, column, rows)
    terms = engine.facts["calendar"]
    if column in _TERM_FIELDS:
        return term_dates(engine, _TERM_FIELDS[column], rows)
    if column == "term_year":
        return np.array([t["year"] for t in terms], dtype=np.int64)[rows]
    fixed = {"name": [t["name"] for t in terms], "term_type": [t["term_type"] for t in terms],
             "session_type": [engine.profile["calendar"]["session_type"]] * len(terms),
             "session_name": [engine.profile["calendar"]["sessions"][0]["name"]] * len(terms)}
    return Labels(rows.astype(np.int32), tuple(fixed[column]))


def _session_column(engine: Engine, column: str, rows: np.ndarray):
    sessions = engine.profile["calendar"]["sessions"]
    terms = engine.parent_rows("academic_session", rows)
    ordinal = engine.ordinal("academic_session", rows)
    if column in ("name", "session_type"):
        return Labels(ordinal.astype(np.int32), tuple(s[column] for s in sessions))
    begin = term_dates(engine, "begin", terms)
    first_week = np.array([s["first_week"] for s in sessions])[ordinal]
    weeks = np.array([s.get("weeks") or 0 for s in sessions])[ordinal]
    start = begin + (7 * (first_week - 1)).astype("timedelta64[D]")
    term_instr_end = term_dates(engine, "instr_end", terms)
    term_end = term_dates(engine, "end", terms)
    # a full-term session (weeks null) spans the term; a part ends with its last week,
    # its exams the week after, never past the term's own dates
    stop = np.where(weeks == 0, term_instr_end,
                    np.minimum(start + (7 * weeks - 3).astype("timedelta64[D]"), term_instr_end))
    if column in ("begin_date", "instr_begin_date"):
        return start
    if column == "instr_end_date":
        return stop
    return np.where(weeks == 0, term_end, np.minimum(stop + np.timedelta64(7, "D"), term_end))
