"""Event blocks: runs of enrollment rows, generated and written a week of term at a time.

A block is a range of course_section_enrollment rows. Its events are drawn one week of term
days at a time (days 7(w-1) .. 7w-1 of each enrollment's term for week w; memory is bounded
by the block, never by the institution), ordered by date, tool, course and time, and returned
as one record batch per week: one Parquet file per block and week of term. Not one per date:
a small run's dates hold a few hundred events each, and a file's fixed cost (a footer, a
compressor per column) then outweighed its rows; and when terms overlap, two weeks of term
of one block hold events of the same date, so a file per (block, date) was written twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pipeline.generate._engine import Engine
from pipeline.generate._events.build import event_batch
from pipeline.generate._events.compact import compact
from pipeline.generate._events.objects import kind_code, object_picker
from pipeline.generate._events.rates import GRADED, SUBMITTED, RateModel, rate_model
from pipeline.generate._events.streams import (
    DAY,
    Protos,
    drawn_events,
    enrollments,
    gradebook_events,
)
from pipeline.generate._plan import Block
from pipeline.generate._rules.enrollment import KEY as ENROLLMENT
from pipeline.udp._event_schema import QUALIFIED_NAME

ENROLLMENTS_PER_ROW_BLOCK = 5  # an event block spans block_rows / 5 enrollments
WEEK = 7


@dataclass(frozen=True)
class EventSettings:
    """How much of the event store a run generates."""

    scale: float = 1.0             # multiplies every drawn rate (not the gradebook's events)
    days: int | None = None        # only the first `days` days of each term


def event_blocks(engine: Engine, block_rows: int, first_index: int = 0) -> list[Block]:
    """The enrollment-row ranges of the event store (none without an event model)."""
    if rate_model(engine) is None:
        return []
    size = max(block_rows // ENROLLMENTS_PER_ROW_BLOCK, 100)
    n = engine.n_rows(ENROLLMENT)
    return [Block(QUALIFIED_NAME, first_index + i, start, min(start + size, n))
            for i, start in enumerate(range(0, n, size))]


def event_weeks(engine: Engine, block: Block, settings: EventSettings) -> int:
    """How many weeks of term (files) a block can write, for progress reporting."""
    model = rate_model(engine)
    terms = engine.parent_rows("course_offering", engine.parent_rows(
        "course_section", engine.fk_rows(ENROLLMENT, "course_section_id",
                                         np.array([block.start, block.stop - 1]))))
    engine.clear()
    first, last = sorted(int(t) for t in terms)  # rows need not follow term order
    days = max(len(model.day_shapes[t]) for t in range(first, last + 1))
    return -(-min(days, settings.days or days) // WEEK)


def generate_events(engine: Engine, block: Block,
                    settings: EventSettings) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(week of term, from 1; its batch) for every week with events of the block's
    enrollments."""
    model = rate_model(engine)
    try:
        picker = object_picker(engine, model)
        rows = enrollments(engine, model, block.start, block.stop, settings.days)
        results, result_day = gradebook_events(engine, rows, _codes(model), settings.days)
        engine.clear()
        last_day = max(int(rows.days.max(initial=0)), int(result_day.max(initial=-1)) + 1)
        for first_day in range(0, last_day, WEEK):
            week = drawn_events(engine, model, rows, picker, first_day, WEEK, settings.scale)
            in_week = np.flatnonzero((result_day >= first_day) & (result_day < first_day + WEEK))
            protos = Protos.concat([week, results.take(in_week)])
            if len(protos):
                yield first_day // WEEK + 1, _week_batch(engine, model, protos)
            engine.clear()
    finally:
        engine.clear()


def _codes(model: RateModel) -> dict:
    """Numbers of the gradebook's tools, actions, object kinds and the teacher's role."""
    roles = list(model.spec["roles"])
    teacher = "Teacher" if "Teacher" in roles else next(
        (r for r in roles if model.spec["roles"][r]["stream"] == "instructor"), roles[0])
    return {"assignments": model.tools.index("assignments"),
            "grades": model.tools.index("grades"),
            "submitted": model.actions.index(SUBMITTED), "graded": model.actions.index(GRADED),
            "learner_activity": kind_code("learner_activity"),
            "learner_activity_result": kind_code("learner_activity_result"),
            "teacher_role": roles.index(teacher)}


def _cluster_key(protos: Protos, dates: np.ndarray) -> np.ndarray:
    """One int64 that orders events by date, tool, course and second of the day (9 + 6 +
    24 + 17 bits); a stable sort on it keeps the drawing order among equals."""
    key = (dates - dates.min()).astype(np.int64) << 6 | protos.tool.astype(np.int64)
    key = key << 24 | protos.offering.astype(np.int64)
    return key << 17 | (protos.time % DAY).astype(np.int64)


def _week_batch(engine: Engine, model: RateModel, protos: Protos) -> pa.RecordBatch:
    """A week's events as one batch, clustered as the warehouse clusters them: date, then
    tool and course, then time (runs of equal values make the Parquet small and quick to
    write); each dictionary holds only the values its rows use, sorted (canonical bytes)."""
    order = np.argsort(_cluster_key(protos, protos.time // DAY), kind="stable")
    # compact holds the only reference to the batch, so each column's non-canonical copy
    # (its dictionary names every distinct object of the week) is freed as it goes
    return compact(event_batch(engine, model, protos.take(order)))
