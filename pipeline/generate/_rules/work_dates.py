"""When results come in and are graded, from the profile's dates relative to due dates.

A result of dated work comes in at its due date plus an offset drawn from the profile's
`response_date` (hours from due; given the activity's kind where the source showed that it
matters); a result of work without a due date at a point of its term drawn from the
profile's `undated.response_date` (a fraction of the term: an exam sat at its end), or,
with a profile that has none, from the middle of the term. Both draws take the lateness
copula's score, so the less engaged come in later. Grading follows the response by the
profile's `graded_date` delay. Every date stays inside its term (and before a withdrawal);
a source holding them as dates (the profile's `dates`) gets them at midnight of their day.
"""

from __future__ import annotations

import numpy as np

from pipeline.generate._engine import Engine
from pipeline.generate._rules.calendar import term_dates

RESULT = "learner_activity_result"
NAT = np.iinfo(np.int64).min  # datetime64's NaT


def response_seconds(engine: Engine, rows: np.ndarray, core: dict,
                     late_z: np.ndarray) -> np.ndarray:
    """Seconds of each result's response, as if it were submitted: inside its term, before
    a withdrawal (`late_z`: the lateness copula's standard-normal scores)."""
    begin = seconds(term_dates(engine, "begin", core["terms"]))
    end = seconds(term_dates(engine, "end", core["terms"])) + 86399
    undated = np.isnat(core["due"])
    due = np.where(undated, (begin + end) // 2, seconds(core["due"]))
    hours = engine.draw_normal(engine.distribution(RESULT, "response_date"), RESULT, rows, late_z)
    response = due + (np.asarray(hours, dtype=float) * 3600).astype(np.int64)
    spec = engine.profile["tables"][RESULT].get("undated", {}).get("response_date")
    if spec is not None and undated.any():
        fraction = np.asarray(engine.draw_normal(spec, RESULT, rows[undated], late_z[undated]),
                              dtype=float)
        span = end[undated] - begin[undated]
        response[undated] = begin[undated] + (fraction * span).astype(np.int64)
    # a withdrawn student's late work comes in before the withdrawal, or not at all
    withdrawal = core["withdrawal"]
    last = np.where(np.isfinite(withdrawal), np.minimum(withdrawal - 1, end), end).astype(np.int64)
    return _at_day(engine, "response_date", np.clip(response, begin, np.maximum(last, begin)))


def graded_dates(engine: Engine, rows: np.ndarray, core: dict, response: np.ndarray,
                 graded: np.ndarray) -> np.ndarray:
    """When each result was graded (NaT where it was not): after its response, in its term."""
    end = seconds(term_dates(engine, "end", core["terms"])) + 86399
    delay = engine.sample(RESULT, "graded_date", rows)
    graded_at = _at_day(engine, "graded_date",
                        np.minimum(response + (delay * 3600).astype(np.int64), end))
    return np.where(graded, graded_at, NAT).view("datetime64[s]")


def _at_day(engine: Engine, column: str, moments: np.ndarray) -> np.ndarray:
    """Seconds at midnight of their day where the source holds the column as dates (the
    profile's `dates`): a day's floor stays inside the term, before a withdrawal and in
    order (a response's day before its grading's), since flooring keeps order."""
    if column not in engine.profile["tables"][RESULT].get("dates", ()):
        return moments
    return moments - np.mod(moments, 86400)


def seconds(dates: np.ndarray) -> np.ndarray:
    """Seconds since the epoch of datetime64 values (NaT: int64's minimum)."""
    return dates.astype("datetime64[s]").view(np.int64)
