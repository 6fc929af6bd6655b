"""An activity's points and due date where the source has none, read while the source is
read (a DuckDB source, through its `read_through`, like distributions/_supplied_keys.py).

A conversion from a system that marks on a fixed scale (the Open University's assessments,
scored out of 100) may leave UDP's `points_possible` out. Every score is read as a share of
its activity's points, so without them the profile kept the default's scores (published_score
KS 0.69 against a converted source's), the final scores' and the engagement model's inputs.

Each activity's points are read as its highest score rounded up to a round number: 1, 2, 2.5
or 5 times a power of ten (98 and 100 → 100, 9 → 10, 47 → 50), so a scale a few students top
out at comes back whole; an activity without a positive score takes the highest of all. Said
in a note; `evaluate --real` reads the source the same way, so its points are compared too.

An activity table without `due_date` is read as work without due dates (its column null): the
profile kept the default's due dates, so the run dated every activity the source left undated
and drew each result's submission from that date (response_date KS 0.067 against the
source's); read as undated, results are dated by their own distribution over the term, as the
source's undated work is (KS within the noise).

An academic_term table without `term_end_date` has each term's end read from its work: the
later of its latest due date and the 99th percentile of its results' response dates (a few
late or regraded results must not stretch a term past its weeks). Without an end, no term had
usable dates and the profile kept the default's calendar (every date figure failed). Without
`term_begin_date`, likewise its begin: the earlier of its earliest due date and the 5th
percentile of its response dates (work banked from an earlier term, submitted a year before,
must not start it a year early). A read date on the wrong side of a stored one is left out.
"""

from __future__ import annotations

from distributions._source_files import quoted
from pipeline.udp._sql_text import string_literal

ACTIVITY, RESULT = "learner_activity", "learner_activity_result"
KEY, POINTS, SCORE = "learner_activity_id", "points_possible", "published_score"
DUE = "due_date"
TERM, OFFERING = "academic_term", "course_offering"
BEGIN, END = "term_begin_date", "term_end_date"
TERM_KEY, OFFERING_KEY = "academic_term_id", "course_offering_id"
TERM_OF = f'CAST(o."{TERM_KEY}" AS VARCHAR)'  # an activity's term, through its offering
NOTE = (f"has no column {POINTS}: each activity's points are read as its highest "
        f"{SCORE} rounded up to a round number (1, 2, 2.5 or 5 times a power of ten); an "
        "activity without a positive score takes the highest of all")


def supply_work(source) -> None:
    """An activity's points and due date, each where the source lacks it (with a note)."""
    supply_points(source)
    activity = source.tables().get(ACTIVITY, {})
    if activity and DUE not in activity:
        source.read_through(ACTIVITY, DUE, "CAST(NULL AS TIMESTAMP)", "TIMESTAMP",
                            f"has no column {DUE}: its work is read as undated (results are "
                            "dated by their own distribution over the term)")
    supply_term_dates(source)


def supply_points(source) -> None:
    """Read `points_possible` through each activity's rounded highest score, where the
    source has scores but no points (with a note)."""
    tables = source.tables()
    activity, result = tables.get(ACTIVITY, {}), tables.get(RESULT, {})
    if POINTS in activity or KEY not in activity or not {KEY, SCORE} <= set(result):
        return
    score = f'TRY_CAST(r."{quoted(SCORE)}" AS DOUBLE)'
    scored = (f"FROM {source.relation(RESULT)} AS r WHERE isfinite({score}) AND {score} > 0")
    key = f'CAST(r."{quoted(KEY)}" AS VARCHAR)'
    if not source.query(f"SELECT 1 {scored} LIMIT 1").num_rows:
        return  # no score to read a scale from: the profile keeps the default's points
    per_activity = f"(SELECT {key} AS k, {_rounded_up(f'MAX({score})')} AS p {scored} GROUP BY 1)"
    highest = f"(SELECT {_rounded_up(f'MAX({score})')} {scored})"
    source.read_through(ACTIVITY, POINTS, f"COALESCE((SELECT s.p FROM {per_activity} AS s "
                        f"WHERE s.k = CAST(d.\"{quoted(KEY)}\" AS VARCHAR)), {highest})",
                        "DOUBLE", NOTE)


def supply_term_dates(source) -> None:
    """Read `term_begin_date` and `term_end_date` through the first and last dates of each
    term's work, each where academic_term has no such column (with a note); a term without
    dated work stays without that date."""
    tables = source.tables()
    term, offering, activity = (tables.get(name, {}) for name in (TERM, OFFERING, ACTIVITY))
    if TERM_KEY not in term or not {TERM_KEY, OFFERING_KEY} <= set(offering) \
            or OFFERING_KEY not in activity:
        return
    for column, first, share, other, keeps, words in (
            (BEGIN, "MIN", 0.05, END, "<", ("begin", "first", "earliest", "5th", "earlier")),
            (END, "MAX", 0.99, BEGIN, ">", ("end", "last", "latest", "99th", "later"))):
        if column in source.tables()[TERM]:
            continue
        read = _by_term(_term_dates(source, first, share))
        # a read date on the wrong side of the stored other one would be a fatal source error
        if other in source.tables()[TERM]:
            read = f"CASE WHEN {read} {keeps} {_time('d', other)} THEN {read} END"
        source.read_through(TERM, column, read, "TIMESTAMP",
                            "has no column {}: each term's {} is read as the {} date of its "
                            "work (its {} due date or the {} percentile of its results' "
                            "response dates, whichever is {})".format(column, *words))


def _term_dates(source, first: str, share: float) -> dict[str, object]:
    """Per term (its key as text) the first or last (`first`: MIN or MAX) of its work's due
    dates and the `share` quantile of its results' response dates; terms without either
    are left out. One query, read once: the terms are few, and a subquery in the table's
    relation would scan the results again in every query that reads academic_term."""
    dates = [f"SELECT {TERM_OF} AS k, {first}({_time('a', DUE)}) AS e "
             f"{_work_of_terms(source)} GROUP BY 1"]
    tables = source.tables()
    if "response_date" in tables.get(RESULT, {}) and KEY in tables[ACTIVITY]:
        dates.append(f"SELECT {TERM_OF}, QUANTILE_DISC({_time('r', 'response_date')}, "
                     f"{share}) {_work_of_terms(source)} JOIN "
                     f"{source.relation(RESULT)} AS r ON CAST(r.\"{KEY}\" AS VARCHAR) = "
                     f"CAST(a.\"{KEY}\" AS VARCHAR) GROUP BY 1")
    rows = source.query(f"SELECT k, {first}(e) AS e FROM ({' UNION ALL '.join(dates)}) "
                        "WHERE k IS NOT NULL GROUP BY k HAVING e IS NOT NULL").to_pylist()
    return {row["k"]: row["e"] for row in rows}


def _by_term(dates: dict[str, object]) -> str:
    """SQL over academic_term (alias d): each term's date from `dates`, NULL for the rest."""
    cases = " ".join(f"WHEN {string_literal(key)} THEN TIMESTAMP "
                     f"{string_literal(date.isoformat(sep=' '))}"
                     for key, date in sorted(dates.items()))
    if not cases:
        return "CAST(NULL AS TIMESTAMP)"
    return f'(CASE CAST(d."{TERM_KEY}" AS VARCHAR) {cases} END)'


def _work_of_terms(source) -> str:
    """SQL: FROM each activity joined to its offering (alias a, o)."""
    return (f"FROM {source.relation(ACTIVITY)} AS a JOIN {source.relation(OFFERING)} AS o ON "
            f"CAST(o.\"{OFFERING_KEY}\" AS VARCHAR) = CAST(a.\"{OFFERING_KEY}\" AS VARCHAR)")


def _time(alias: str, column: str) -> str:
    """SQL: the column as a timestamp, NULL where its text is no time (through text, so a
    number stored there is unreadable, not an error)."""
    return f'TRY_CAST(CAST({alias}."{quoted(column)}" AS VARCHAR) AS TIMESTAMP)'


def _rounded_up(x: str) -> str:
    """SQL: positive `x` rounded up to 1, 2, 2.5 or 5 times a power of ten (a hair of
    tolerance, so 100 stays 100 whatever log10's last bit)."""
    power = f"POWER(10, FLOOR(LOG10({x}) + 1e-9))"
    mantissa = f"({x}) / {power}"
    steps = " ".join(f"WHEN {mantissa} <= {m} + 1e-9 THEN {m}" for m in (1, 2, 2.5, 5))
    return f"(CASE {steps} ELSE 10 END) * {power}"
