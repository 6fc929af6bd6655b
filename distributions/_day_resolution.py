"""Which of the source's timestamps are dates: every value at midnight UTC (`tables.<t>.dates`).

A source converted from day numbers (an Open University-style `date_submitted`: days from the
presentation's start) holds its results' response dates at midnight. The generator places a
response by its hours from the due date, so it wrote times of day the source never had, and a
classifier told a student's mean response time apart from the source's (person detection
0.87) partly on that. A column listed here is written at midnight of the day its moment falls
on. Only the fact that no value has a time of day is released: a property of the column, not
of any person's value.

Scores have a resolution too (`tables.learner_activity_result.score_step`): a source whose
every score is a whole number of points (an Open University-style 0-100 mark) got scores
like 95.37, a giveaway of every synthetic row. The largest of SCORE_STEPS that (nearly) every
source score is a multiple of is kept, and the generator rounds its scores to it.
"""

from __future__ import annotations

# timestamps whose moment the generator computes itself (pipeline/generate/_rules/work_dates.py)
COLUMNS = (("learner_activity_result", "response_date"),
           ("learner_activity_result", "graded_date"))


def day_resolution_part(p, profile: dict) -> None:
    """List each of COLUMNS whose every non-null source value falls at midnight UTC."""
    for table, column in COLUMNS:
        if table not in profile["tables"] or not p.reader.has(table, column):
            continue
        seconds = p.sql.seconds(p.reader.col(table, column, "time", "t"))
        row = p.reader.rows(
            f"SELECT COUNT({seconds}) AS n, SUM(CASE WHEN FLOOR({seconds} / 86400) * 86400 "
            f"<> {seconds} THEN 1 ELSE 0 END) AS timed FROM {p.reader.rel(table)} AS t")[0]
        if int(row["n"] or 0) and not int(row["timed"] or 0):
            dates = profile["tables"][table].setdefault("dates", [])
            dates.append(column)
            p.notes.append(f"/tables/{table}/dates: {column} holds dates (every value at "
                           "midnight UTC): generated at midnight of the day it falls on")


RESULT, SCORE = "learner_activity_result", "published_score"
SCORE_STEPS = (1.0, 0.5, 0.25, 0.1)  # points: whole, halves, quarters, tenths
OFF_STEP = 0.001  # the share of scores off the step that is taken for dirt, not resolution


def score_step(reader) -> tuple[float, int, int] | None:
    """(the largest of SCORE_STEPS that all but OFF_STEP of the source's scores are
    multiples of, the scores, those off it), or None."""
    if not reader.has(RESULT, SCORE):
        return None
    x = reader.col(RESULT, SCORE, "number", "t")
    off = ", ".join(f"SUM(CASE WHEN ABS({x} / {step} - ROUND({x} / {step})) > 0.000001 "
                    f"THEN 1 ELSE 0 END) AS off{i}" for i, step in enumerate(SCORE_STEPS))
    row = reader.rows(f"SELECT COUNT({x}) AS n, {off} FROM {reader.rel(RESULT)} AS t")[0]
    n = int(row["n"] or 0)
    for i, step in enumerate(SCORE_STEPS):
        if n and int(row[f"off{i}"] or 0) <= OFF_STEP * n:
            return step, n, int(row[f"off{i}"] or 0)
    return None


def spread_scores(sql, score: str, points: str, step: float) -> str:
    """SQL for each score spread evenly over its step (the scores of one value and points
    at even places across [score - step/2, score + step/2]): the quantiles of scores on a
    step sit on its values, and the generator's inverse CDF, drawn between them and rounded,
    gave each value a share that swung with where the quantiles fell (1.2 % to 2.5 % where
    the source's shares ran smoothly 2.0-2.3 %). Which row gets which place is immaterial:
    the spread values are the same set."""
    cell = f"PARTITION BY {sql.text(score)}, {sql.text(points)}"  # BigQuery: no FLOAT64 keys
    return (f"({score} + {step} * ((ROW_NUMBER() OVER ({cell}) - 0.5) / "
            f"COUNT(*) OVER ({cell}) - 0.5))")


def score_step_part(p, profile: dict) -> None:
    """`score_step` (see score_step) with a note, where the source's scores have one."""
    found = score_step(p.reader) if RESULT in profile["tables"] else None
    if found:
        step, n, off = found
        profile["tables"][RESULT]["score_step"] = step
        p.notes.append(f"/tables/{RESULT}/score_step: {SCORE} is a multiple of {step:g} "
                       f"point(s) ({n - off:,} of {n:,} scores): generated scores are "
                       "rounded to it, and its quantiles are of the scores spread over it")
