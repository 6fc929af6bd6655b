"""The academic calendar from academic_term (and academic_session) dates: the first term, per
term type its start, length, breaks and successor, and the sessions inside a term. Calendar
facts of the institution, no people: aggregate SQL in the source engine."""

from __future__ import annotations

from distributions._estimators import Missing, Reader, keep_default

MAX_TERM_WEEKS = 60  # a term longer than this is not a term (the schema's limit too)


def calendar_part(p, profile: dict) -> None:
    """The calendar from academic_term (and academic_session) dates."""
    keep_default(p, "/calendar", lambda: build_calendar(p, profile))


def term_rows(r: Reader) -> list[dict]:
    """Each term's type and begin/end dates (institution calendar facts, no people)."""
    s = r.sql
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "t"))
    kind = r.col_or_null("academic_term", "term_type", "text", "t")
    session = r.col_or_null("academic_term", "session_type", "text", "t")
    return r.rows(f"SELECT {kind} AS term_type, {session} AS session_type, {begin} AS b, "
                  f"{end} AS e FROM {r.rel('academic_term')} AS t WHERE {begin} IS NOT NULL "
                  f"AND {end} IS NOT NULL ORDER BY b")


def session_rows(r: Reader) -> list[dict]:
    """Per session name: its offset from the term start and its length, in days."""
    s = r.sql
    sb = s.seconds(r.col("academic_session", "begin_date", "time", "x"))
    se = s.seconds(r.col("academic_session", "instr_end_date", "time", "x"))
    tb = s.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    te = s.seconds(r.col("academic_term", "instr_end_date", "time", "t"))
    name = r.col("academic_session", "name", "text", "x")
    kind = r.col("academic_session", "session_type", "text", "x")
    return r.rows(
        f"SELECT {name} AS name, MAX({kind}) AS session_type, COUNT(*) AS n, "
        f"AVG(({sb} - {tb}) / 86400.0) AS offset_days, AVG(({se} - {sb}) / 86400.0) AS days, "
        f"AVG(({te} - {se}) / 86400.0) AS to_end FROM {r.rel('academic_session')} AS x "
        f"JOIN {r.rel('academic_term')} AS t ON x.academic_term_id = t.academic_term_id "
        f"WHERE {name} IS NOT NULL GROUP BY 1")


def build_calendar(p, profile: dict) -> None:
    """first_term, per term type its start, length and successor, and the sessions."""
    terms = [_term(row) for row in term_rows(p.reader)]
    if not terms:
        raise Missing("academic_term has no usable begin and end dates")
    _name_untyped_terms(p, terms)
    default = p.default["calendar"]
    calendar = profile["calendar"]
    calendar["first_term"] = {"term_type": terms[0]["term_type"], "year": terms[0]["begin"].year}
    calendar["term_types"] = _term_types(terms, default["term_types"])
    types = [t["session_type"] for t in terms if t["session_type"]]
    if types:
        calendar["session_type"] = max(set(types), key=types.count)
    p.notes.append("/calendar: exams at the default's share of each term; date-bound breaks "
                   "kept only for a term beginning within three weeks of the default's start")
    if p.reader.has("academic_session", "name"):
        sessions = [_session(row) for row in session_rows(p.reader)]
        if sessions:
            calendar["sessions"] = sorted(sessions, key=lambda s: (s["weeks"] is not None,
                                                                   s["first_week"], s["name"]))


# A term without a type is named by the month it begins in: what a registrar would call it.
_SEASON_BY_MONTH = {**dict.fromkeys(range(1, 6), "Spring"), **dict.fromkeys((6, 7), "Summer"),
                    **dict.fromkeys(range(8, 13), "Fall")}


def season_of(begin_seconds: float) -> str:
    """The term type of a term without one, by the month it begins in (as the calendar
    names it)."""
    import datetime as dt

    return _SEASON_BY_MONTH[dt.datetime.fromtimestamp(begin_seconds, dt.UTC).month]


def _name_untyped_terms(p, terms: list[dict]) -> None:
    """Give every term without a term_type the season its begin month names, with a note:
    the dates carry the calendar, the type is only its label."""
    untyped = [t for t in terms if t["term_type"] is None]
    for term in untyped:
        term["term_type"] = _SEASON_BY_MONTH[term["begin"].month]
    if untyped:
        p.notes.append(f"/calendar: {len(untyped)} of {len(terms)} term(s) have no term_type; "
                       "each is named by the month it begins in (Jan-May Spring, Jun-Jul "
                       "Summer, Aug-Dec Fall)")


def _term(row: dict) -> dict:
    import datetime as dt

    begin = dt.datetime.fromtimestamp(row["b"], dt.UTC).date()
    end = dt.datetime.fromtimestamp(row["e"], dt.UTC).date()
    return {"term_type": row["term_type"], "session_type": row["session_type"],
            "begin": begin, "end": end}


def _term_types(terms: list[dict], default: dict) -> dict:
    successors: dict[str, list[str]] = {}
    new_year: dict[str, bool] = {}
    for a, b in zip(terms, terms[1:], strict=False):
        successors.setdefault(a["term_type"], []).append(b["term_type"])
        new_year[b["term_type"]] = new_year.get(b["term_type"], False) or \
            b["begin"].year > a["begin"].year
    names = list(dict.fromkeys(t["term_type"] for t in terms))
    out = {}
    for name in names:
        mine = [t for t in terms if t["term_type"] == name]
        following = successors.get(name) or [default.get(name, {}).get("next", names[0])]
        nxt = max(set(following), key=following.count)
        nxt = nxt if nxt in names else names[0]
        weeks = round(sum((t["end"] - t["begin"]).days for t in mine) / len(mine) / 7)
        spec = {"begins_on_or_after": min(t["begin"].strftime("%m-%d") for t in mine),
                "weeks": min(max(weeks, 2), MAX_TERM_WEEKS), "next": nxt,
                "year_offset": int(new_year.get(name, default.get(name, {}).get(
                    "year_offset", 0)))}
        if any(t["begin"].weekday() != 0 for t in mine):  # not all on a Monday: the date
            spec["starts_monday"] = False
        _keep_breaks(spec, default.get(name, {}))
        out[name] = spec
    for name, spec in out.items():  # a cycle that never changes year would repeat a year
        if spec["next"] == name:
            spec["year_offset"] = 1
    return out


def _keep_breaks(spec: dict, default: dict) -> None:
    """Breaks are dates (Labor Day, Thanksgiving): kept only when the term begins within
    three weeks of the default's start for its type. Exams sit at the same fraction of the
    term as in the default (Finals in the last week, however long the term)."""
    default_weeks = default.get("weeks") or spec["weeks"]
    near = "begins_on_or_after" in default and \
        abs(_day_of_year(spec["begins_on_or_after"]) -
            _day_of_year(default["begins_on_or_after"])) <= 21
    spec["breaks"] = [b for b in default.get("breaks", []) if near and b["week"] <= spec["weeks"]]
    spec["exams"] = [{**e, "week": max(1, min(round(e["week"] * spec["weeks"] / default_weeks),
                                              spec["weeks"]))}
                     for e in default.get("exams", [])]


def _day_of_year(month_day: str) -> int:
    month, day = map(int, month_day.split("-"))
    return (month - 1) * 31 + day


def _session(row: dict) -> dict:
    spans = row["offset_days"] < 7 and row["to_end"] <= 1
    weeks = None if spans else max(round((row["days"] + 3) / 7), 1)
    return {"name": row["name"], "session_type": row["session_type"] or "Regular",
            "first_week": max(round(row["offset_days"] / 7) + 1, 1), "weeks": weeks}
