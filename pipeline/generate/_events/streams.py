"""Which events happen: counts per (enrollment × day × tool), and the gradebook's own events.

Events are first drawn as `Protos`: numbers only (who, when, which tool and action, which
object row). Counts are Poisson draws from the rate model, keyed by the cell
(enrollment row, day, tool), so an event depends on nothing but its cell, whichever block or
worker draws it. Submissions and gradings are not drawn: they are read off the block's
learner_activity_result rows, so each result with a response date has its submission event
at that very time, and each graded result its grade event by the section's teacher.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from pipeline.generate._engine import Engine
from pipeline.generate._events.objects import ObjectPicker
from pipeline.generate._events.rates import (
    INSTRUCTOR,
    STUDENT,
    RateModel,
    course_factor,
    engagement_factor,
)
from pipeline.generate._random import stream_key, uniform
from pipeline.generate._rules.calendar import term_dates
from pipeline.generate._rules.enrollment import KEY as ENROLLMENT
from pipeline.generate._rules.enrollment import activity_latent, enrollment_people
from pipeline.generate._rules.gradebook import RESULT, result_core, withdrawal_dates
from pipeline.generate._scenario_effects import apply_effects, effect_tools

MAX_DAYS = 512          # day-in-term slots per enrollment in a cell number
MAX_PER_CELL = 63       # events per cell are capped (a Poisson tail beyond is noise)
DAY = 86_400
RESULT_KEYS = np.uint64(1 << 60)  # event keys of submissions and gradings start here


@dataclass
class Protos:
    """Events as numbers, one array per field (all the same length)."""

    key: np.ndarray          # uint64, unique per event: the seed of its id
    time: np.ndarray         # seconds since the epoch (UTC)
    person: np.ndarray       # person row of the actor
    offering: np.ndarray     # course_offering row
    role: np.ndarray         # index into the profile's roles
    tool: np.ndarray         # index into the event tools
    action: np.ndarray       # index into the event actions
    kind: np.ndarray         # object kind (see objects.KINDS)
    object_row: np.ndarray   # row of the object in its kind
    generated: np.ndarray    # 0 none, 1 Attempt, 2 Score
    result_row: np.ndarray   # learner_activity_result row behind a generated object
    score: np.ndarray        # Score.scoreGiven (NaN elsewhere)

    def __len__(self) -> int:
        return len(self.key)

    def take(self, index: np.ndarray) -> Protos:
        return Protos(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list[Protos]) -> Protos:
        return Protos(*(np.concatenate([getattr(p, f.name) for p in parts])
                        for f in fields(Protos)))


@dataclass
class Enrollments:
    """What the events of a block of enrollment rows need to know about each of them."""

    rows: np.ndarray
    person: np.ndarray
    section: np.ndarray
    offering: np.ndarray
    term: np.ndarray
    role: np.ndarray          # index into the profile's roles (events.roles)
    stream: np.ndarray        # 0 none, 1 student, 2 instructor
    begin: np.ndarray         # seconds of the term's first day
    days: np.ndarray          # days with events: the term, cut at a withdrawal
    factor: np.ndarray        # course factor × engagement (students)
    tool_factor: np.ndarray | None = None  # enrollment × tool: a scenario's per-tool effects


def enrollments(engine: Engine, model: RateModel, start: int, stop: int,
                day_limit: int | None) -> Enrollments:
    """The enrollment rows [start, stop) with their course, term, role and event window."""
    rows = engine.rows(start, stop)
    section = engine.fk_rows(ENROLLMENT, "course_section_id", rows)
    offering = engine.parent_rows("course_section", section)
    term = engine.parent_rows("course_offering", offering)
    role, stream = _roles(engine, model, rows)
    begin = term_dates(engine, "begin", term).astype("datetime64[s]").astype(np.int64)
    n_days = np.array([len(s) for s in model.day_shapes], dtype=np.int64)[term]
    if day_limit is not None:
        n_days = np.minimum(n_days, day_limit)
    factor = _course_factors(engine, model, offering)
    student = stream == 1
    if student.any():
        withdrawal = withdrawal_dates(engine, rows[student], term[student])
        last = np.floor((withdrawal - begin[student]) / DAY)  # the day it happens: none
        n_days[student] = np.minimum(n_days[student], np.where(np.isinf(last), MAX_DAYS, last))
        factor[student] *= apply_effects(engine, "event_rate", rows[student], engagement_factor(
            model, activity_latent(engine, rows[student])))  # a scenario's effect, if any
    return Enrollments(rows, enrollment_people(engine, rows), section, offering, term, role,
                       stream, begin, np.maximum(n_days, 0), factor,
                       _tool_factors(engine, model, rows, student))


def _tool_factors(engine: Engine, model: RateModel, rows: np.ndarray,
                  student: np.ndarray) -> np.ndarray | None:
    """A scenario's event_rate effects restricted to tools, as an enrollment × tool matrix
    of multipliers on students' rates (None without any: the rates stay as they are)."""
    tools = effect_tools(engine, "event_rate", model.tools)
    if not tools or not student.any():
        return None
    matrix = np.ones((len(rows), len(model.tools)))
    for tool in tools:
        t = model.tools.index(tool)
        matrix[student, t] = apply_effects(engine, "event_rate", rows[student],
                                           matrix[student, t], tool=tool)
    return matrix


def _roles(engine: Engine, model: RateModel, rows: np.ndarray):
    roles = model.spec["roles"]
    names = tuple(roles)
    labels = engine.column(ENROLLMENT, "role", rows)
    to_role = np.array([names.index(c) if c in names else -1 for c in labels.categories] + [-1])
    role = to_role[labels.codes]
    streams = np.array([{STUDENT: 1, INSTRUCTOR: 2}.get(roles[n]["stream"], 0) for n in names]
                       + [0])
    return role, streams[role]


def _course_factors(engine: Engine, model: RateModel, offering: np.ndarray) -> np.ndarray:
    unique, inverse = np.unique(offering, return_inverse=True)
    cip = engine.column("course_offering", "cip_family", unique)
    level = engine.column("course_offering", "course_level", unique)
    return course_factor(model, cip.decode(), level.decode())[inverse].astype(float)


def drawn_events(engine: Engine, model: RateModel, block: Enrollments, picker: ObjectPicker,
                 first_day: int, n_days: int, scale: float) -> Protos:
    """The Poisson events of days [first_day, first_day + n_days) of every enrollment."""
    if scale == 0:  # no drawn events (`--event-scale 0`): skip the enrollment × day × tool rates
        none = np.zeros(0, dtype=np.int64)
        return _from_cells(engine, model, block, picker, none.astype(np.uint64), none,
                           first_day + none, none)
    n_tools = len(model.tools)
    lam, cells, active, u = _cell_draws(engine, model, block, picker, first_day, n_days, scale)
    counts = _poisson(u, lam.ravel()[active])
    nonzero = counts > 0
    active, counts = active[nonzero], counts[nonzero]
    cell_index = np.repeat(active, counts)
    ordinal = np.arange(len(cell_index)) - np.repeat(np.cumsum(counts) - counts, counts)
    key = cells.ravel()[cell_index].astype(np.uint64) * np.uint64(MAX_PER_CELL + 1) \
        + ordinal.astype(np.uint64)
    e, rest = np.divmod(cell_index, n_days * n_tools)
    d, tool = np.divmod(rest, n_tools)
    return _from_cells(engine, model, block, picker, key, e, first_day + d, tool)


def active_days(engine: Engine, model: RateModel, block: Enrollments, picker: ObjectPicker,
                first_day: int, n_days: int, scale: float) -> np.ndarray:
    """enrollment × day: whether `drawn_events` gives the enrollment any event that day (a
    cell has events when its uniform lies above Poisson P(0) = exp(-λ)), without drawing
    them: the same rates, cells and uniforms."""
    lam, _, active, u = _cell_draws(engine, model, block, picker, first_day, n_days, scale)
    has_events = np.zeros(lam.size, dtype=bool)
    has_events[active] = _poisson_positive(u, lam.ravel()[active])
    return has_events.reshape(lam.shape).any(axis=2)


def _cell_draws(engine, model, block, picker, first_day, n_days, scale):
    """(λ per enrollment × day × tool, cell numbers, flat indices of cells with λ > 0, their
    count uniforms): what an event depends on, keyed by its cell alone."""
    n_tools = len(model.tools)
    day = first_day + np.arange(n_days)
    lam = _rates(model, block, picker, day) * scale              # enrollment × day × tool
    cells = ((block.rows[:, None, None] * MAX_DAYS + day[None, :, None]) * n_tools
             + np.arange(n_tools)[None, None, :])
    active = np.flatnonzero(lam > 0)
    return lam, cells, active, uniform(_key(engine, "count"), cells.ravel()[active])


def _rates(model: RateModel, block: Enrollments, picker: ObjectPicker, day: np.ndarray):
    shape = np.zeros((len(block.rows), len(day)))
    for term in np.unique(block.term):
        rows = block.term == term
        days = model.day_shapes[term]
        inside = day < len(days)
        shape[np.ix_(rows, inside)] = days[day[inside]]
    shape[day[None, :] >= block.days[:, None]] = 0.0
    per_tool = np.where((block.stream == 1)[:, None], model.rate[None, :],
                        np.where((block.stream == 2)[:, None], model.instructor_rate[None, :], 0))
    per_tool = per_tool * picker.available(block.offering)
    if block.tool_factor is not None:  # a scenario's per-tool effects, if any
        per_tool = per_tool * block.tool_factor
    return (shape * block.factor[:, None])[:, :, None] * per_tool[:, None, :]


def _poisson_positive(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Whether the Poisson count of `_poisson` is above zero (its first step alone)."""
    return u > np.exp(-lam)


def _poisson(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson counts by inversion, iterating only over the cells still below their uniform."""
    k = np.zeros(len(u), dtype=np.int64)
    p = np.exp(-lam)
    cdf = p.copy()
    pending = np.flatnonzero(u > cdf)
    while len(pending) and k[pending[0]] < MAX_PER_CELL:
        k[pending] += 1
        p[pending] *= lam[pending] / k[pending]
        cdf[pending] += p[pending]
        pending = pending[u[pending] > cdf[pending]]
    return k


def _from_cells(engine, model, block, picker, key, e, day, tool) -> Protos:
    """Times, actions and objects of drawn events (each from its own key's uniforms)."""
    hour = np.searchsorted(model.diurnal_cdf, uniform(_key(engine, "hour"), key), side="right")
    second = (uniform(_key(engine, "second"), key) * 3600).astype(np.int64)
    time = block.begin[e] + day * DAY + np.minimum(hour, 23) * 3600 + second
    action = _actions(model, tool, block.stream[e], uniform(_key(engine, "action"), key))
    kind, object_row = picker.pick(tool, block.offering[e], uniform(_key(engine, "object"), key))
    n = len(key)
    return Protos(key, time, block.person[e], block.offering[e], block.role[e], tool, action,
                  kind, object_row, np.zeros(n, np.int8), np.full(n, -1), np.full(n, np.nan))


def _actions(model: RateModel, tool: np.ndarray, stream: np.ndarray, u: np.ndarray):
    """Each event's action, from its tool and stream's mix: the number of cumulative shares
    below its uniform, all groups at once."""
    cdf, codes = _mix_table(model)
    group = tool * 2 + (stream == 2)
    choice = (cdf[group] < u[:, None]).sum(axis=1)
    return codes[group, np.minimum(choice, codes.shape[1] - 1)]


def _mix_table(model: RateModel) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative shares, action codes) per tool × stream, padded to the longest mix."""
    width = max(len(codes) for _, codes in model.mix.values()) or 1
    cdf = np.ones((2 * len(model.tools), width))
    codes = np.zeros((2 * len(model.tools), width), dtype=np.int64)
    for (t, name), (shares, actions) in model.mix.items():
        row = t * 2 + (name != STUDENT)
        cdf[row, :len(shares)], codes[row, :len(actions)] = shares, actions
        if len(actions):
            codes[row, len(actions):] = actions[-1]
    return cdf, codes


def _key(engine: Engine, name: str) -> int:
    return stream_key(engine.seed, "event_store.expanded", name)


def gradebook_events(engine: Engine, block: Enrollments, codes: dict,
                     day_limit: int | None) -> tuple[Protos, np.ndarray]:
    """A submission event per submitted result and a grade event per graded one, for the
    block's student enrollments, at the times the context store records; with each event's
    day in its term."""
    offsets = engine.layouts[RESULT].offsets
    r0, r1 = int(offsets[block.rows[0]]), int(offsets[block.rows[-1] + 1])
    if r1 <= r0:
        return _empty(), np.zeros(0, dtype=np.int64)
    rows = engine.rows(r0, r1)
    local = engine.parent_rows(RESULT, rows) - block.rows[0]
    activity = result_core(engine, rows)["activities"]
    response = engine.column(RESULT, "response_date", rows).astype("datetime64[s]")
    graded = engine.column(RESULT, "graded_date", rows).astype("datetime64[s]")
    score = np.asarray(engine.column(RESULT, "published_score", rows), dtype=float)
    response_day, graded_day = _day_in_term(block, local, response), \
        _day_in_term(block, local, graded)
    submitted, scored = _inside(response_day, day_limit), _inside(graded_day, day_limit)
    shares = engine.profile["events"].get("gradebook_events", {})
    submitted = _kept(engine, "submitted", shares, rows, submitted)
    scored = _kept(engine, "graded", shares, rows, scored)
    # a source of students alone has no teacher to grade: no grading events
    if engine.layouts[ENROLLMENT].staff.n_rows == 0:
        scored = scored[:0]
    protos = Protos.concat([
        _submissions(block, codes, rows, local, activity, response, submitted),
        _gradings(engine, block, codes, rows, local, graded, score, scored)])
    return protos, np.concatenate([response_day[submitted], graded_day[scored]])


def _kept(engine: Engine, kind: str, shares: dict, rows: np.ndarray,
          done: np.ndarray) -> np.ndarray:
    """The results of `done` whose `kind` event is generated: each with the profile's share
    of the source's results that have it (all without one), keyed by its result row."""
    share = float(shares.get(kind, 1.0))
    if share >= 1.0:
        return done
    return done[uniform(_key(engine, f"gradebook_{kind}"), rows[done]) < share]


def _day_in_term(block: Enrollments, local: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Day in its enrollment's term of each time; -1 where there is none (NaT)."""
    has_time = ~np.isnat(times)
    seconds = np.where(has_time, times.astype(np.int64), 0)
    return np.where(has_time, (seconds - block.begin[local]) // DAY, -1)


def _inside(day: np.ndarray, day_limit: int | None) -> np.ndarray:
    """Rows with a time, and (with a day limit) on one of the days the run covers."""
    keep = day >= 0
    if day_limit is not None:
        keep &= day < day_limit
    return np.flatnonzero(keep)


def _submissions(block, codes, rows, local, activity, response, done) -> Protos:
    n = len(done)
    return Protos(RESULT_KEYS + rows[done].astype(np.uint64) * np.uint64(2),
                  response[done].astype(np.int64), block.person[local[done]],
                  block.offering[local[done]], block.role[local[done]],
                  np.full(n, codes["assignments"]), np.full(n, codes["submitted"]),
                  np.full(n, codes["learner_activity"]), activity[done],
                  np.ones(n, np.int8), rows[done], np.full(n, np.nan))


def _gradings(engine, block, codes, rows, local, graded, score, done) -> Protos:
    n = len(done)
    teacher = _teachers(engine, block.section[local[done]])
    return Protos(RESULT_KEYS + rows[done].astype(np.uint64) * np.uint64(2) + np.uint64(1),
                  graded[done].astype(np.int64), teacher, block.offering[local[done]],
                  np.full(n, codes["teacher_role"]), np.full(n, codes["grades"]),
                  np.full(n, codes["graded"]), np.full(n, codes["learner_activity_result"]),
                  rows[done], np.full(n, 2, np.int8), rows[done], score[done])


def _teachers(engine: Engine, sections: np.ndarray) -> np.ndarray:
    """Person row of each section's teacher (its first staff enrollment)."""
    layout = engine.layouts[ENROLLMENT]
    first_staff = layout.staff.first_child(sections) + layout.n_students
    with engine.scratch():
        return enrollment_people(engine, first_staff)


def _empty() -> Protos:
    z = np.zeros(0, dtype=np.int64)
    return Protos(z.astype(np.uint64), z, z, z, z, z, z, z, z, z.astype(np.int8), z,
                  z.astype(float))
