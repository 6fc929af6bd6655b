"""Structure gates of the synthetic warehouse, each a share that must be exactly 1: primary
keys unique, foreign keys resolving, events inside their term and their enrollment, grades
consistent with scores and enrollments."""

from __future__ import annotations

from distributions._evaluate._context import Context
from distributions._evaluate._figures import Figure, gate
from distributions._evaluate._sql import Side, q

EVENTS = "expanded"


def gate_figures(ctx: Context) -> list[Figure]:
    """Every gate the warehouse's tables allow."""
    syn = ctx.synthetic
    figures = [_pk(ctx, table, pk) for table, pk in sorted(ctx.keys.primary.items())
               if syn.has(table, *pk)]
    figures += [_fk(ctx, fk) for fk in ctx.keys.foreign
                if syn.has(fk.child, fk.column) and syn.has(fk.parent, fk.key)]
    figures += _events(ctx)
    figures += _grades(ctx)
    return figures


def _share(ctx: Context, sql: str) -> float | None:
    good, total = ctx.synthetic.rows(sql)[0]
    return None if not total else float(good) / float(total)


def _pk(ctx: Context, table: str, pk: tuple[str, ...]) -> Figure:
    cols = ", ".join(q(c) for c in pk)
    not_null = " AND ".join(f"{q(c)} IS NOT NULL" for c in pk)
    rel = ctx.synthetic.rel(table)
    value = _share(ctx, f"SELECT (SELECT count(*) FROM (SELECT DISTINCT {cols} FROM {rel} "
                        f"WHERE {not_null})), count(*) FROM {rel}")
    return gate(table, "primary_key_unique", 1.0 if value is None else value,
                columns=list(pk))


def _fk(ctx: Context, fk) -> Figure:
    syn = ctx.synthetic
    value = _share(ctx, f"""
SELECT count(p.k), count(c.{q(fk.column)}) FROM {syn.rel(fk.child)} c
LEFT JOIN (SELECT DISTINCT {q(fk.key)} k FROM {syn.rel(fk.parent)}) p
  ON c.{q(fk.column)} = p.k""")
    return gate(fk.child, "foreign_key_resolves", 1.0 if value is None else value,
                column=fk.column, extra={"parent": fk.parent})


def count_if(condition: str) -> str:
    """SQL counting the rows where a condition holds (0 over no rows)."""
    return f"coalesce(sum(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)"


def event_frame(syn: Side, tool: str = "tool") -> str | None:
    """SQL of the events with their person, course offering, UTC day and hour (days since
    the epoch; hour of the day), tool and term bounds (days since the epoch), when the side
    has what it takes. `tool` names the tool: campus-synth's own `tool` column, or (when a
    side lacks it) the Caliper event type both sides have."""
    if not (syn.has(EVENTS, "event_time", "person", "course_offering")
            and syn.has("course_offering", "course_offering_id", "academic_term_id")
            and syn.has("academic_term", "academic_term_id", "term_begin_date",
                        "term_end_date")):
        return None
    micros = _micros(syn, "e.event_time", syn.columns[EVENTS]["event_time"])
    # day and hour by arithmetic on the epoch: a time zone conversion per event (DuckDB's
    # cast of a TIMESTAMPTZ to a DATE) costs several times the whole scan
    return f"""(SELECT e.person.udp_id person_id, e.course_offering.udp_id course_offering_id,
       CAST(FLOOR({micros} / 86400000000) AS BIGINT) event_day,
       MOD(CAST(FLOOR({micros} / 3600000000) AS BIGINT), 24) hr, e.{tool} tool,
       o.term_begin, o.term_end
FROM {syn.rel(EVENTS)} e
LEFT JOIN (SELECT o.course_offering_id, unix_date(CAST(t.term_begin_date AS DATE)) term_begin,
                  unix_date(CAST(t.term_end_date AS DATE)) term_end
           FROM {syn.rel('course_offering')} o
           LEFT JOIN {syn.rel('academic_term')} t ON t.academic_term_id = o.academic_term_id) o
  ON o.course_offering_id = e.course_offering.udp_id)"""


def _micros(side: Side, column_sql: str, sql_type: str) -> str:
    """Microseconds since the epoch of a timestamp column (a zoned one as it is)."""
    if sql_type.upper() == "TIMESTAMP WITH TIME ZONE":
        return f"unix_micros({column_sql})"
    return f"unix_micros(CAST({column_sql} AS TIMESTAMP))"


def _events(ctx: Context) -> list[Figure]:
    """Events inside their term and inside an enrollment of their person in their course
    offering: one scan of the events for both."""
    syn = ctx.synthetic
    frame = event_frame(syn)
    if frame is None:
        return []
    term = count_if("e.course_offering_id IS NOT NULL AND "
                    "e.event_day BETWEEN e.term_begin AND e.term_end")
    if not (syn.has("course_section_enrollment", "course_section_id", "person_id") and
            syn.has("course_section", "course_section_id", "course_offering_id")):
        good, total = syn.rows(f"SELECT {term}, count(e.course_offering_id) FROM {frame} e")[0]
        return [gate(EVENTS, "events_inside_term", _ratio(good, total))]
    both = "e.person_id IS NOT NULL AND e.course_offering_id IS NOT NULL"
    row = syn.rows(f"""
SELECT {term}, count(e.course_offering_id), {count_if('m.person_id IS NOT NULL')},
       {count_if(both)} FROM {frame} e
LEFT JOIN (SELECT DISTINCT n.person_id, s.course_offering_id
           FROM {syn.rel('course_section_enrollment')} n
           JOIN {syn.rel('course_section')} s USING (course_section_id)) m
  ON m.person_id = e.person_id AND m.course_offering_id = e.course_offering_id""")[0]
    return [gate(EVENTS, "events_inside_term", _ratio(row[0], row[1])),
            gate(EVENTS, "events_inside_enrollment", _ratio(row[2], row[3]),
                 note="the event's person is enrolled in its course offering")]


def _ratio(good, total) -> float | None:
    return None if not total else float(good) / float(total)


def _grades(ctx: Context) -> list[Figure]:
    syn = ctx.synthetic
    figures = []
    if syn.has("course_grade", "course_section_id", "person_id") and \
            syn.has("course_section_enrollment", "course_section_id", "person_id"):
        value = _share(ctx, f"""
SELECT count(n.person_id), count(*) FROM {syn.rel('course_grade')} g
LEFT JOIN (SELECT DISTINCT course_section_id, person_id
           FROM {syn.rel('course_section_enrollment')}) n USING (course_section_id, person_id)""")
        figures.append(gate("course_grade", "grade_has_enrollment", value))
    bands = _bands(ctx)
    if bands and syn.has("course_grade", "final_grade", "le_final_score"):
        origin = bands.pop("_from")
        cases = " OR ".join(f"(final_grade = '{g}' AND le_final_score >= {lo!r} AND "
                            f"le_final_score <= {hi!r})" for g, (lo, hi) in bands.items())
        value = _share(ctx, f"SELECT {count_if(cases)}, count(*) FROM "
                            f"{syn.rel('course_grade')} WHERE final_grade IS NOT NULL")
        figures.append(gate("course_grade", "grade_matches_score", value,
                            columns=["final_grade", "le_final_score"],
                            note="the letter's score band: " + origin))
    return figures


def _bands(ctx: Context) -> dict:
    """Score band of each letter grade: the profile's grading scheme, else the real
    source's observed range per letter."""
    scheme = (ctx.profile or {}).get("grading_scheme")
    if scheme:
        ordered = sorted(scheme, key=lambda g: g["min_score"])
        bands = {}
        for i, grade in enumerate(ordered):
            upper = ordered[i + 1]["min_score"] if i + 1 < len(ordered) else float("inf")
            bands[grade["grade"]] = (float(grade["min_score"]),
                                     upper - 1e-9 if upper != float("inf") else 1e9)
        return {**bands, "_from": "the profile's grading scheme"}
    if ctx.real is None or not ctx.real.has("course_grade", "final_grade", "le_final_score"):
        return {}
    rows = ctx.real.rows(f"SELECT final_grade, min(le_final_score), max(le_final_score) "
                           f"FROM {ctx.real.rel('course_grade')} WHERE final_grade IS NOT NULL "
                           "AND le_final_score IS NOT NULL GROUP BY 1")
    # letters ordered by score; a letter's band reaches from the highest real score of the
    # letter below to the lowest real score of the letter above (the outer ones open-ended):
    # a score is inconsistent only where the source gave that score another letter
    rows = sorted((float(lo), float(hi), g.replace("'", "''")) for g, lo, hi in rows)
    bands = {}
    for i, (_, _, grade) in enumerate(rows):
        low = -1e9 if i == 0 else rows[i - 1][1]
        high = 1e9 if i == len(rows) - 1 else rows[i + 1][0]
        bands[grade] = (low, high)
    return {**bands, "_from": "the real source's letters, each up to its neighbours' scores"} \
        if bands else {}
