"""A scenario input read off the event draws: an enrollment's active days per week.

`active_days_per_week` of a student enrollment is the number of distinct days on which it
has any event in its course, over the days the run's events cover (the first `--event-days`
days of the term, or all of it), divided by the weeks those days span — exactly what
`mart_taskforce.level1_aggregated` reports as `num_view_days` averaged over those weeks:

- drawn events: a cell (enrollment × day × tool) has events when its count uniform lies
  above Poisson P(0), so the days are read off the very rates and uniforms the event stream
  draws (pipeline/generate/_events/streams.py), without generating any event;
- submissions: each submitted result is an event of the student at its response time, so
  its day counts too (graded events are the teacher's);
- days are UTC dates counted from the term's first day, as the mart dates events; a
  withdrawal ends the drawn events (the rates are zero after it), not the weeks counted.

It is computed before the scores, so a `score` effect can read it (`2 *
active_days_per_week`); the events it counts follow engagement, event rates and withdrawal,
which therefore cannot read it.
"""

from __future__ import annotations

import numpy as np

from pipeline.generate._engine import Engine
from pipeline.generate._events.objects import object_picker
from pipeline.generate._events.rates import rate_model
from pipeline.generate._events.streams import DAY, Enrollments, active_days, enrollments
from pipeline.generate._rules.enrollment import KEY as ENROLLMENT
from pipeline.generate._rules.gradebook import RESULT, submitted_dates
from pipeline.generate._scenario_gen import scenario_input

CHUNK = 2_000  # enrollments at a time: enrollment × day × tool arrays stay ~30 MB
WEEK = 7


@scenario_input("active_days_per_week", ENROLLMENT)
def active_days_per_week(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Distinct event days per covered week of each enrollment row (0 for non-students)."""
    return engine.memo(("active_days_per_week",), rows, lambda: _per_week(engine, rows))


def _per_week(engine: Engine, rows: np.ndarray) -> np.ndarray:
    model = rate_model(engine)
    out = np.zeros(len(rows))
    if model is None or not len(rows):
        return out
    unique, inverse = np.unique(rows, return_inverse=True)
    found = np.zeros(len(unique))
    for first in range(0, len(unique), CHUNK):
        part = unique[first:first + CHUNK]
        with engine.scratch():  # a nested computation: the block's memo stays as it was
            found[first:first + CHUNK] = _range_per_week(engine, model, int(part[0]),
                                                         int(part[-1]) + 1)[part - part[0]]
    return found[inverse]


def _range_per_week(engine: Engine, model, start: int, stop: int) -> np.ndarray:
    scale, day_limit = engine.facts["event_settings"]
    block = enrollments(engine, model, start, stop, day_limit)
    window = np.array([len(s) for s in model.day_shapes], dtype=np.int64)[block.term]
    if day_limit is not None:
        window = np.minimum(window, day_limit)
    width = int(window.max(initial=0))
    days = active_days(engine, model, block, object_picker(engine, model), 0, width, scale)
    days |= _submission_days(engine, block, window, width)
    weeks = np.maximum(-(-window // WEEK), 1)
    return np.where(block.stream == 1, days.sum(axis=1) / weeks, 0.0)


def _submission_days(engine: Engine, block: Enrollments, window: np.ndarray,
                     width: int) -> np.ndarray:
    """enrollment × day: whether the enrollment submitted work that day (inside the window)."""
    offsets = engine.layouts[RESULT].offsets
    r0, r1 = int(offsets[block.rows[0]]), int(offsets[block.rows[-1] + 1])
    days = np.zeros((len(block.rows), width), dtype=bool)
    if r1 <= r0:
        return days
    results = engine.rows(r0, r1)
    local = engine.parent_rows(RESULT, results) - block.rows[0]
    response = submitted_dates(engine, results)
    has_time = ~np.isnat(response)
    day = (response[has_time].astype(np.int64) - block.begin[local[has_time]]) // DAY
    local = local[has_time]
    inside = (day >= 0) & (day < window[local])
    days[local[inside], day[inside]] = True
    return days
