"""Which of the source's timestamps are dates: every value at midnight UTC (`tables.<t>.dates`).

A source converted from day numbers (an Open University-style `date_submitted`: days from the
presentation's start) holds its results' response dates at midnight. The generator places a
response by its hours from the due date, so it wrote times of day the source never had, and a
classifier told a student's mean response time apart from the source's (person detection
0.87) partly on that. A column listed here is written at midnight of the day its moment falls
on. Only the fact that no value has a time of day is released: a property of the column, not
of any person's value.
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
