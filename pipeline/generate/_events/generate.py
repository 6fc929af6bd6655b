"""Event blocks: runs of enrollment rows, generated a week at a time, written a day at a time.

A block is a range of course_section_enrollment rows. Its events are drawn one week of term
days at a time (memory is bounded by the block, never by the institution), sorted by time,
and cut into one record batch per event date, so the output is partitioned by date.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pipeline.generate._engine import Engine
from pipeline.generate._events.build import event_batch
from pipeline.generate._events.compact import DaySlicer
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


def event_days(engine: Engine, block: Block, settings: EventSettings) -> int:
    """How many event dates (files) a block can write, for progress reporting."""
    model = rate_model(engine)
    terms = engine.parent_rows("course_offering", engine.parent_rows(
        "course_section", engine.fk_rows(ENROLLMENT, "course_section_id",
                                         np.array([block.start, block.stop - 1]))))
    engine.clear()
    days = [len(model.day_shapes[t]) for t in range(int(terms[0]), int(terms[1]) + 1)]
    return sum(min(d, settings.days or d) for d in days)


def generate_events(engine: Engine, block: Block,
                    settings: EventSettings) -> Iterator[tuple[str, pa.RecordBatch]]:
    """(event date, batch) for every date with events of the block's enrollments."""
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
            yield from _by_date(engine, model, protos)
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


def _by_date(engine: Engine, model: RateModel, protos: Protos):
    if not len(protos):
        return
    dates = protos.time // DAY
    # clustered as the warehouse clusters them: date, then tool and course, then time (runs of
    # equal values make the Parquet small and quick to write)
    order = np.argsort(_cluster_key(protos, dates), kind="stable")
    protos, dates = protos.take(order), dates[order]
    batch = event_batch(engine, model, protos)  # a week at once: per-batch costs amortised
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(dates)) + 1, [len(dates)]])
    days = DaySlicer(batch, cuts)  # each day's file holds only its own dictionary values
    for i, start in enumerate(cuts[:-1]):
        yield str(np.datetime64(int(dates[start]), "D")), days.slice(i)
