"""How many of the gradebook's own events the source's event store holds (the profile's
`events.gradebook_events`).

The generator makes an AssignableEvent/Submitted per submitted result and a GradeEvent/Graded
per graded one, at the times the context store records. A source's event store may carry all
of them (Canvas Live Events), some, or none (a converted dataset whose clickstream never had
them): generated unconditionally, they add event types the source has not got (the hand-built
`events` source: Submitted and Graded were 6 % of the generated events and 0 % of the source's,
type/action TVD 0.06). Here, over the days each term's events cover: the gradebook events of
each kind / the results whose response (grading) date falls on those days, capped at 1.

Aggregate SQL in the source engine. The ratio rests on institutional coverage, not on a cell
of people, so no k rule applies to it; under ε it is not learned (a person's events and
results are not bounded here), and every gradebook event is generated, as before.
"""

from __future__ import annotations

from distributions._event_queries import DAY, GRADEBOOK, QUALIFIED, TABLE

PATH = "/events/gradebook_events"
RESULT, ACTIVITY = "learner_activity_result", "learner_activity"
KINDS = {"submitted": ("response_date", GRADEBOOK[0]), "graded": ("graded_date", GRADEBOOK[1])}


def gradebook_event_shares(q) -> dict | None:
    """{submitted, graded}: the share of the source's submitted (graded) results over the
    covered days that have their event; None (the generator's default: every one) when the
    source's results cannot tell. `q` is the EventQueries of the run (its CTEs)."""
    r = q.r
    if q.guard.epsilon is not None:  # a person's events and results are not bounded here
        q.p.notes.append(f"{PATH}: not learned under --epsilon: every submission and "
                         "grading gets its event")
        return None
    kinds = {k: v for k, v in KINDS.items() if r.has(RESULT, v[0])}
    if not kinds or not r.has(ACTIVITY, "course_offering_id") or not r.has(
            RESULT, "learner_activity_id"):
        q.p.notes.append(f"{PATH}: the source's results carry no dates to compare with: "
                         "every submission and grading gets its event")
        return None
    counts = _event_counts(q, kinds) | _result_counts(q, kinds)
    shares = {k: round(min(float(counts[f"{k}_events"] or 0) / float(counts[k]), 1.0), 4)
              for k in kinds if (counts[k] or 0) >= 1}
    if not shares:
        return None
    q.p.notes.append(f"{PATH}: share of submitted / graded results over the covered days "
                     f"with their event in {QUALIFIED}: " +
                     ", ".join(f"{k} {v:g}" for k, v in shares.items()))
    return shares


def _covered(q, epoch: str) -> str:
    """SQL: whether a time falls on a day its term's events cover (CTEs term, off, cov)."""
    day = f"FLOOR(({epoch} - term.b) / {DAY})"
    return f"({day} >= 0 AND {day} < cov.days)"


def _event_counts(q, kinds: dict) -> dict:
    s, r = q.s, q.r
    offering = q._field("course_offering", "udp_id")
    time = q._epoch(r.col(TABLE, "event_time", "time", "e"))
    sums = ", ".join(
        f"SUM(CASE WHEN e.{s.ident('type')} = '{t}' AND e.{s.ident('action')} = '{a}' "
        f"THEN 1 ELSE 0 END) AS {k}_events" for k, (_, (t, a)) in kinds.items())
    return q._rows(f"SELECT {sums} FROM {r.rel(TABLE)} AS e JOIN off ON {offering} = "
                   "off.offering JOIN term ON off.term = term.term JOIN cov ON off.term = "
                   f"cov.term WHERE {_covered(q, time)}")[0]


def _result_counts(q, kinds: dict) -> dict:
    r = q.r
    sums = ", ".join(
        f"SUM(CASE WHEN {_covered(q, q._epoch(r.col(RESULT, column, 'time', 'x')))} "
        f"THEN 1 ELSE 0 END) AS {k}" for k, (column, _) in kinds.items())
    return q._rows(f"SELECT {sums} FROM {r.rel(RESULT)} AS x JOIN {r.rel(ACTIVITY)} AS a "
                   "ON x.learner_activity_id = a.learner_activity_id JOIN off ON "
                   "a.course_offering_id = off.offering JOIN term ON off.term = term.term "
                   "JOIN cov ON off.term = cov.term")[0]
