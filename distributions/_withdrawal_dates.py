"""When the withdrawn stop: `engagement.withdrawal_at`, the quantiles of the fraction of its
term at which a withdrawn student enrollment's last result came in.

The generator drops (or leaves unsubmitted) a withdrawn student's work due after their
withdrawal, and the calibration of `withdrawal_rho` simulates the same; both drew the
withdrawal uniformly in 10–70 % of the term, whatever the source showed. Here the source's
own spread is learned: quantiles at fixed probabilities (a dict keyed by probability, so a
consortium merge averages them quantile by quantile), each over at least 2k withdrawn
enrollments. Under ε the default window is kept (a person's last date is not noised yet).
"""

from __future__ import annotations

from distributions._estimators import Missing
from pipeline.errors import SourceError

# interior probabilities only: the extremes rest on one person each
PROBABILITIES = (0.025, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.975)
NEEDED = {"learner_activity_result": ("response_date", "learner_activity_id", "person_id"),
          "learner_activity": ("course_offering_id",),
          "course_offering": ("academic_term_id",),
          "academic_term": ("term_begin_date", "term_end_date")}


def withdrawal_at_part(p, profile: dict, enrollments_sql) -> None:
    """Learn `engagement.withdrawal_at` where the source dates the withdrawn's results;
    `enrollments_sql()` selects pid, off, w per student enrollment (w 1.0 if withdrawn)."""
    if not all(p.reader.has(t, c) for t, cols in NEEDED.items() for c in cols):
        p.notes.append("/engagement/withdrawal_at: not estimated (the source lacks result "
                       "dates or term dates); withdrawals fall in 10–70 % of the term")
        return
    if p.guard.epsilon is not None:
        p.notes.append("/engagement/withdrawal_at: not estimated under ε; withdrawals fall in "
                       "10–70 % of the term")
        return
    try:
        row = p.reader.rows(_last_result_sql(p, enrollments_sql()))[0]
    except (Missing, SourceError) as error:
        p.notes.append(f"/engagement/withdrawal_at: not estimated ({error})")
        return
    if not row["n"] or row["n"] < 2 * p.guard.k:
        p.notes.append("/engagement/withdrawal_at: fewer than 2k withdrawn enrollments with "
                       "dated results; withdrawals fall in 10–70 % of the term")
        return
    values = p.reader.sql.pick(row["qs"], PROBABILITIES)
    profile["engagement"]["withdrawal_at"] = {
        str(q): round(float(v), 4) for q, v in zip(PROBABILITIES, values, strict=True)}
    p.notes.append(f"/engagement/withdrawal_at: the fraction of the term at which "
                   f"{row['n']} withdrawn enrollments' last result came in, by quantile")


def _last_result_sql(p, enrollments_sql: str) -> str:
    """Count and quantiles of each withdrawn enrollment's last response as a fraction of
    its term (clipped to 0..1: banked work dated before the term counts as its start)."""
    r, s, q = p.reader, p.reader.sql, p.reader.sql.ident
    when = s.seconds(r.col("learner_activity_result", "response_date", "time", "t"))
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "term"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "term"))
    return f"""
WITH res AS (
  SELECT t.{q('person_id')} AS pid, a.{q('course_offering_id')} AS off, MAX({when}) AS last,
    MIN({begin}) AS b, MIN({end}) AS e
  FROM {r.rel('learner_activity_result')} AS t JOIN {r.rel('learner_activity')} AS a
    ON t.{q('learner_activity_id')} = a.{q('learner_activity_id')}
  JOIN {r.rel('course_offering')} AS o ON a.{q('course_offering_id')} = o.{q('course_offering_id')}
  JOIN {r.rel('academic_term')} AS term ON o.{q('academic_term_id')} = term.{q('academic_term_id')}
  WHERE {when} IS NOT NULL GROUP BY 1, 2),
enr AS ({enrollments_sql}),
j AS (SELECT LEAST(GREATEST((res.last - res.b) / (res.e - res.b), 0), 1) AS x
  FROM enr JOIN res ON enr.pid = res.pid AND enr.off = res.off
  WHERE enr.w > 0 AND res.e > res.b)
SELECT COUNT(*) AS n, {s.quantiles('x', PROBABILITIES)} AS qs FROM j"""
