"""The event-rate model: expected events per enrolled person per day, per tool.

rate(enrollment, day, tool) = tool rate × cip_family × course_level × day-in-term shape ×
engagement, where the day shape comes from the term's calendar (weekdays, breaks, the days
before exams, exam weeks, the quiet days after finals) unless the profile gives one by day.
This is the four-way table (CIP family × course level × day in term × tool) as a product of
its main effects, which is what a profile can estimate from real events without small cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pipeline.generate._engine import Engine

STUDENT, INSTRUCTOR = "student", "instructor"


@dataclass(frozen=True)
class Action:
    """One Caliper (type, action, object type) a tool emits, with its share."""

    type: str
    action: str
    object_type: str


@dataclass
class RateModel:
    """The profile's `events` section as arrays, indexed by tool number."""

    tools: tuple[str, ...]
    spec: dict
    rate: np.ndarray
    instructor_rate: np.ndarray
    adoption: np.ndarray
    actions: tuple[Action, ...]              # every distinct action of every tool
    mix: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]  # (tool, stream) → (cdf, action)
    diurnal_cdf: np.ndarray
    day_shapes: list[np.ndarray]             # per term row: multiplier of each day in term

    def tool_object(self, tool: int) -> str:
        return self.spec["tools"][self.tools[tool]]["object"]


def rate_model(engine: Engine) -> RateModel | None:
    """The engine's rate model, built once (None when the profile has no `events` section)."""
    if "rate_model" not in engine.facts:
        spec = engine.profile.get("events")
        engine.facts["rate_model"] = _build(engine, spec) if spec else None
    return engine.facts["rate_model"]


# the gradebook's own events: every profile gets these tools and actions, rate or not
GRADEBOOK_TOOLS = {
    "assignments": {"ed_app": "canvas", "object": "learner_activity", "adoption": 1.0,
                    "rate": 0.0, "student": []},
    "grades": {"ed_app": "canvas", "object": "course_offering", "adoption": 1.0, "rate": 0.0,
               "student": []},
}
SUBMITTED = Action("AssignableEvent", "Submitted", "AssignableDigitalResource")
GRADED = Action("GradeEvent", "Graded", "Attempt")


def _build(engine: Engine, spec: dict) -> RateModel:
    spec = {**spec, "tools": {**GRADEBOOK_TOOLS, **spec["tools"]}}
    tools = tuple(spec["tools"])
    actions: list[Action] = [SUBMITTED, GRADED]
    mix = {}
    for t, name in enumerate(tools):
        for stream in (STUDENT, INSTRUCTOR):
            mix[(t, stream)] = _mix(spec["tools"][name].get(stream) or [], actions)
    diurnal = np.asarray(spec["diurnal"], dtype=float)
    return RateModel(
        tools=tools, spec=spec,
        rate=np.array([spec["tools"][n]["rate"] for n in tools], dtype=float),
        instructor_rate=np.array([spec["tools"][n].get("instructor_rate", 0.0) for n in tools]),
        adoption=np.array([spec["tools"][n]["adoption"] for n in tools], dtype=float),
        actions=tuple(actions), mix=mix,
        diurnal_cdf=np.cumsum(diurnal) / diurnal.sum(),
        day_shapes=[day_shape(spec, term, engine.profile["calendar"])
                    for term in engine.facts["calendar"]],
    )


def _mix(items: list[dict], actions: list[Action]) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative shares, action numbers) of one tool's stream."""
    codes = []
    for item in items:
        action = Action(item["type"], item["action"], item["object_type"])
        if action not in actions:
            actions.append(action)
        codes.append(actions.index(action))
    shares = np.array([item["p"] for item in items], dtype=float)
    cdf = np.cumsum(shares) / shares.sum() if len(shares) else np.zeros(0)
    return cdf, np.array(codes, dtype=np.int64)


def day_shape(spec: dict, term: dict, calendar: dict) -> np.ndarray:
    """Multiplier of each day of a term, day 0 being its first day."""
    n_days = (term["end"] - term["begin"]).days + 1
    if spec.get("day_in_term"):
        given = np.asarray(spec["day_in_term"], dtype=float)
        return np.resize(given, n_days) if len(given) < n_days else given[:n_days]
    days = [term["begin"] + dt.timedelta(days=d) for d in range(n_days)]
    shape = np.array([spec["weekday"][day.weekday()] for day in days], dtype=float)
    return shape * _calendar_factors(spec.get("calendar_shape", {}), term, days)


def _calendar_factors(shape: dict, term: dict, days: list[dt.date]) -> np.ndarray:
    factors = np.ones(len(days))
    factors[:shape.get("first_days", 0)] *= shape.get("first_days_factor", 1.0)
    for week in term.get("exam_weeks", []):
        first = 7 * (week - 1)
        factors[first:first + 7] *= shape.get("exam_week_factor", 1.0)
        before = max(first - shape.get("pre_exam_days", 0), 0)
        factors[before:first] *= shape.get("pre_exam_factor", 1.0)
    tail = shape.get("after_finals_days", 0)
    if tail:
        factors[-tail:] *= shape.get("after_finals_factor", 1.0)
    for pause in term["breaks"]:
        inside = np.array([pause["first"] <= day <= pause["last"] for day in days])
        factors[inside] *= shape.get("break_factor", 1.0)
    return factors


def course_factor(model: RateModel, cip_family: np.ndarray, level: np.ndarray) -> np.ndarray:
    """The CIP-family × course-level multiplier of each course (1 where the profile is silent)."""
    cip = model.spec.get("cip_family", {})
    levels = model.spec.get("course_level", {})
    return (np.array([cip.get(str(c), 1.0) for c in cip_family], dtype=float)
            * np.array([levels.get(str(v), 1.0) for v in level], dtype=float))


def engagement_factor(model: RateModel, latent: np.ndarray) -> np.ndarray:
    """exp(σz − σ²/2): lognormal on the enrollment's latent engagement, mean 1."""
    sigma = float(model.spec["engagement_sigma"])
    return np.exp(sigma * latent - sigma * sigma / 2)
