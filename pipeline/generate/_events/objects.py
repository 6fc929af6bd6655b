"""What events act on: real rows of the context store, or a tool's own objects.

A tool names one object kind. Context-store kinds (a page, a file, an assignment, ...) are
picked among the rows that belong to the event's course, found from the layouts' offsets
(a course's pages are a contiguous run of rows), so an object is always a row of the course
the event is in. Tool-side kinds (an LTI tool, a video, a reading) have ids of their own.
"""

from __future__ import annotations

import numpy as np

from pipeline.generate._engine import Engine, narrow_ints
from pipeline.generate._events.rates import RateModel
from pipeline.generate._random import stream_key, uniform

OFFERING = "course_offering"
KINDS = ("learner_activity", "learner_activity_result", "wiki_page", "module_item", "file",
         "discussion", "quiz", OFFERING, "lti_tool", "media", "reading")
ENTITY_KINDS = KINDS[:8]
PER_COURSE = {"media": 24, "reading": 12}  # tool-side objects a course has
OBJECT_SLOTS = 32  # object row of a tool-side object: offering × slots + its number


def kind_code(name: str) -> int:
    return KINDS.index(name)


def object_picker(engine: Engine, model: RateModel) -> ObjectPicker:
    """The engine's object picker, built once (outside any block's memo)."""
    if "object_picker" not in engine.facts:
        with engine.scratch():
            engine.facts["object_picker"] = ObjectPicker(engine, model)
    return engine.facts["object_picker"]


class ObjectPicker:
    """Per course and tool: whether the course uses the tool, and which objects it has."""

    def __init__(self, engine: Engine, model: RateModel):
        n_offerings = engine.n_rows(OFFERING)
        offerings = np.arange(n_offerings, dtype=np.int64)
        self.kind = np.array([kind_code(model.tool_object(t)) for t in range(len(model.tools))])
        self.first = np.zeros((n_offerings, len(model.tools)), dtype=np.int64)
        self.count = np.ones((n_offerings, len(model.tools)), dtype=np.int64)
        for t, kind in enumerate(self.kind):
            name = KINDS[kind]
            if name in ENTITY_KINDS and name != OFFERING:
                self.first[:, t], self.count[:, t] = content_span(engine, name, offerings)
            elif name in PER_COURSE:
                self.first[:, t] = offerings * OBJECT_SLOTS
                self.count[:, t] = PER_COURSE[name]
            elif name == OFFERING:
                self.first[:, t] = offerings
            else:  # an LTI tool: the object is the tool itself
                self.first[:, t] = t
        adopted = np.stack([uniform(stream_key(engine.seed, "events", "adoption", name),
                                    offerings) < model.adoption[t]
                            for t, name in enumerate(model.tools)], axis=1)
        self.usable = adopted & (self.count > 0)
        # kept for the whole job (offerings × tools): int32 where the rows allow
        self.first, self.count = narrow_ints(self.first), narrow_ints(self.count)

    def available(self, offerings: np.ndarray) -> np.ndarray:
        """(len(offerings), tools): 1 where the course uses the tool and has its objects."""
        return self.usable[offerings].astype(float)

    def pick(self, tool: np.ndarray, offering: np.ndarray, u: np.ndarray):
        """(object kind, object row) of events of `tool` in `offering`."""
        first, count = self.first[offering, tool], self.count[offering, tool]
        return self.kind[tool], first + np.minimum((u * count).astype(np.int64), count - 1)


def content_span(engine: Engine, key: str, offerings: np.ndarray):
    """(first row, number of rows) of table `key` inside each offering, following the layout
    parents up to course_offering (children of consecutive parents are consecutive)."""
    if key == OFFERING:
        return offerings, np.ones(len(offerings), dtype=np.int64)
    parent = engine.registry[key].layout.parent
    parent_first, parent_count = content_span(engine, parent, offerings)
    offsets = engine.layouts[key].offsets
    first = offsets[parent_first]
    return first, offsets[parent_first + parent_count] - first
