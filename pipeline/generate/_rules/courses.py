"""Courses, sections, assignment groups and assignments: what the profile cannot say alone
(which department teaches a CIP family, course codes and titles, dates inside the term,
group weights that add up to 100)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate import _catalog as cat
from pipeline.generate import _random
from pipeline.generate._column_values import Labels, numeric
from pipeline.generate._engine import Engine, rule
from pipeline.generate._links import partner
from pipeline.generate._plan import count_rule
from pipeline.generate._rules.calendar import term_dates
from pipeline.generate._rules.catalog import FIRST_DEPARTMENT_ROW
from pipeline.generate._rules.due_positions import ranked_due_fractions
from pipeline.generate._samplers import compile_distribution
from pipeline.udp._schema import Table

_TOPICS = pa.array([t for d in cat.DEPARTMENTS for t in cat.COURSE_TOPICS[d.subject]])
_TOPICS_PER_DEPT = len(cat.COURSE_TOPICS[cat.DEPARTMENTS[0].subject])
_LEVEL_SUFFIX = {"100": " I", "200": " II", "300": "", "400": ": Advanced Topics",
                 "500": ": Graduate Seminar"}


@count_rule("offerings")
def plan_offerings(engine: Engine, table: Table, parents: np.ndarray) -> np.ndarray:
    """Offerings per term, as sized from FTE: the calendar's own for a listed term (each
    institution's of a consortium), else by the term's type where the profile learned
    offerings per term type (a source's 7 autumn and 5 spring courses), else the mean."""
    counts = np.full(len(parents), engine.facts["offerings_per_term"], dtype=np.int64)
    by_type = engine.profile.get("structure", {}).get("offerings_per_fte_by_term_type", {})
    for i, term in enumerate(parents):
        listed = engine.facts["calendar"][int(term)]
        per_fte = listed.get("offerings_per_fte") or by_type.get(listed["term_type"])
        if per_fte:
            counts[i] = max(1, round(per_fte * engine.facts["fte"]))
    return counts


def offering_departments(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Index into DEPARTMENTS of each offering: a department of the offering's CIP family."""
    families = engine.column("course_offering", "cip_family", rows)
    u = engine.uniform("course_offering", "department", engine.ordinal("course_offering", rows))
    result = (u * len(cat.DEPARTMENTS)).astype(np.int64)
    for code, family in enumerate(families.categories):
        depts = [i for i, d in enumerate(cat.DEPARTMENTS) if d.cip_family == family]
        mask = families.codes == code
        if depts and mask.any():
            result[mask] = np.array(depts)[(u[mask] * len(depts)).astype(np.int64)]
    return result


@rule("department")
def department(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """The teaching department, in both the organization tree and the LMS account tree."""
    return FIRST_DEPARTMENT_ROW + offering_departments(engine, rows)


@rule("course_catalog")
def course_catalog(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Subject, number, code and title of a course, from its department and level."""
    if column == "le_code":  # from the columns, learned or not: the code's prefix is the subject
        subject = text(engine.column("course_offering", "subject", rows))
        return pc.binary_join_element_wise(
            subject, text(engine.column("course_offering", "number", rows)), " ")
    depts = offering_departments(engine, rows)
    subjects = pa.array([d.subject for d in cat.DEPARTMENTS]).take(pa.array(depts))
    if column == "subject":
        return subjects
    level = engine.column("course_offering", "course_level", rows)
    course_in_level = engine.uniform("course_offering", "number",
                                     engine.ordinal("course_offering", rows))
    level_base = np.array([int(str(c)) if str(c).isdigit() else 100 for c in level.categories])
    number = pc.cast(pa.array(level_base[level.codes] + (course_in_level * 99).astype(int)),
                     pa.string())
    if column == "number":
        return number
    topic = (course_in_level * 7919).astype(np.int64) % _TOPICS_PER_DEPT
    topics = _TOPICS.take(pa.array(depts * _TOPICS_PER_DEPT + topic))
    suffixes = pa.array([_LEVEL_SUFFIX.get(str(c), "") for c in level.categories])
    return pc.binary_join_element_wise(topics, suffixes.take(pa.array(level.codes)), "")


@rule("term_dates")
def offering_dates(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """The LMS start and end dates of a course: its term's."""
    terms = engine.parent_rows("course_offering", rows)
    return term_dates(engine, "begin" if column == "le_start_date" else "end", terms)


@rule("same_offering")
def same_offering(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """Current and original offering of a section: its own (no cross-listing)."""
    return engine.parent_rows("course_section", rows)


@rule("section_name")
def section_name(engine: Engine, table: Table, column: str, rows: np.ndarray) -> pa.Array:
    """Section number (001, 002, ...) and LMS name."""
    if column == "section_number":
        ordinal = engine.ordinal("course_section", rows)
        return pc.utf8_lpad(pc.cast(pa.array(ordinal + 1), pa.string()), 3, "0")
    code = engine.column("course_offering", "le_code", engine.parent_rows("course_section", rows))
    number = engine.column("course_section", "section_number", rows)
    return pc.binary_join_element_wise(text(code), text(number), " ")


def text(values) -> pa.Array:
    """A string column as Arrow strings, whether a rule built it or the profile drew it."""
    if not isinstance(values, Labels):
        return values
    names = pa.array([None if c is None else str(c) for c in values.categories] + [None],
                     pa.string())
    codes = np.where(values.codes < 0, len(values.categories), values.codes)
    return names.take(pa.array(codes))


def section_terms(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Term row of each course_section row."""
    return engine.parent_rows("course_offering", engine.parent_rows("course_section", rows))


@rule("session_of_term")
def session_of_term(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """A session of the section's own term, chosen by the profile's session-name shares."""
    names = engine.sample("course_section", column, rows)
    sessions = [s["name"] for s in engine.profile["calendar"]["sessions"]]
    ordinal = np.array([sessions.index(c) if c in sessions else 0 for c in names.categories])
    first = engine.layouts["academic_session"].first_child(section_terms(engine, rows))
    return first + ordinal[np.maximum(names.codes, 0)]


@rule("campus_of_section")
def campus_of_section(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """A campus, skewed towards the first (main) one by the profile's `skew`."""
    skew = float(engine.distribution("course_section", column).get("skew", 0.0))
    weights = 1.0 / np.arange(1, engine.n_rows("campus") + 1) ** skew
    cumulative = np.cumsum(weights / weights.sum())
    u = engine.uniform("course_section", column, rows)
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(weights) - 1)


@rule("activity_names", draws_learned=True)
def activity_names(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Assignment-group names in creation order; assignment titles numbered per group; or,
    learned from a source, drawn course by course (see `_names_by_course`)."""
    if engine.learned(table.key, column):
        return _names_by_course(engine, table, column, rows)
    if table.name == "learner_activity_group":
        ordinal = engine.ordinal(table.key, rows) % len(cat.ACTIVITY_GROUP_NAMES)
        return Labels(ordinal.astype(np.int32), cat.ACTIVITY_GROUP_NAMES)
    groups = engine.parent_rows(table.key, rows)
    group_names = engine.column("learner_activity_group", "name", groups)
    # a group name learned from a source titles its assignments by itself ("Essays 2")
    stems = pa.array([cat.ACTIVITY_TITLE_STEMS.get(n, n) for n in group_names.categories])
    number = pc.cast(pa.array(engine.ordinal(table.key, rows) + 1), pa.string())
    return pc.binary_join_element_wise(stems.take(pa.array(group_names.codes)), number, " ")


def _names_by_course(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Learned group names and titles, spread within each course: a course's groups take
    evenly spaced places of the name shares (so each course has about its share of each
    kind, one exam, not two or none), and its assignments of one group name evenly spaced
    places of that name's titles (TMA 0, 1 and 2, not TMA 2 twice; a title's due date
    follows it). The table's rows of one cell then take its strata in the order of those
    places, so the table keeps the profile's shares as a stratified draw does."""
    slot = ("names_by_course", table.key, column)
    if slot not in engine.facts:
        with engine.scratch():
            everyone = np.arange(engine.n_rows(table.key), dtype=np.int64)
            cell = np.zeros(len(everyone), dtype=np.int64)
            if table.name == "learner_activity":  # titles: within their group's name
                cell = engine.column("learner_activity_group", "name", engine.layouts[
                    table.key].parent_rows(everyone)).codes.astype(np.int64) + 1
            engine.facts[slot] = _spread(engine, table.key, column,
                                         _offerings_of(engine, table, everyone), cell,
                                         in_order=table.name == "learner_activity")
    return engine.sample(table.key, column, rows, engine.facts[slot][rows])


def _offerings_of(engine: Engine, table: Table, rows: np.ndarray) -> np.ndarray:
    """The course offering row of each group or assignment row."""
    groups = engine.layouts["learner_activity_group"]
    if table.name == "learner_activity":
        rows = engine.layouts[table.key].parent_rows(rows)
    return groups.parent_rows(rows)


def _spread(engine: Engine, key: str, name: str, owner: np.ndarray,
            cell: np.ndarray, in_order: bool = False) -> np.ndarray:
    """Uniforms of every row of a table: each row's place among its owner's rows of its
    cell ((rank + ½) / count, ranks in a seeded random order, or `in_order` of the rows:
    a course's first TMA takes the first of the TMA titles, as its due date takes the
    first rank), then each cell's rows take the cell's strata of (0, 1) in the order of
    their places."""
    rows = np.arange(len(owner), dtype=np.int64)
    bits = _random.bits(_random.stream_key(engine.seed, key, name, "course"), rows)
    pair = owner * (int(cell.max(initial=0)) + 1) + cell
    _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
    place = (_ranks(np.lexsort((rows if in_order else bits, pair)), pair) + 0.5) / \
        counts[inverse]
    rank = _ranks(np.lexsort((bits, place, cell)), cell)
    size = np.bincount(cell)[cell]
    return (rank + engine.uniform(key, name, rows)) / size


def _ranks(order: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Each row's rank within its group, in `order` (which sorts rows by group first)."""
    ranked = group[order]
    rank = np.empty(len(order), dtype=np.float64)
    rank[order] = np.arange(len(order)) - np.searchsorted(ranked, ranked, side="left")
    return rank


def activity_terms(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Term row of each learner_activity row."""
    offerings = engine.fk_rows("learner_activity", "course_offering_id", rows)
    return engine.parent_rows("course_offering", offerings)


@rule("due_date")
def due_date(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """Due at 23:59 on a day placed by the profile's fraction-of-term distribution, spread
    over the term within each course (see `_due_uniforms`), or by the activity's rank in its
    course where the profile learned that (`positions`, see _rules/due_positions.py)."""
    terms = activity_terms(engine, rows)
    begin = term_dates(engine, "begin", terms)
    span = (term_dates(engine, "end", terms) - begin).astype(np.int64)
    positions = engine.profile["tables"][table.name].get("positions")
    fraction = ranked_due_fractions(engine, table, rows, positions, lambda r: _plain_due(
        engine, table, r)) if positions else _plain_due(engine, table, rows)
    due = _due_moments(engine, table, rows, begin, span, np.nan_to_num(fraction, nan=0.5))
    if column == "due_date":
        return np.where(np.isnan(fraction), np.datetime64("NaT"), due)
    lead = (engine.uniform(table.key, "updated_date", rows) * 14 * 86400).astype("timedelta64[s]")
    return np.maximum(due - lead, begin.astype("datetime64[s]") - np.timedelta64(7, "D"))


@partner("learner_activity", "due_date")
def due_fraction(engine: Engine, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where in its term each activity falls due (NaN: undated), and its term row: what a
    column linked to the due date (an assignment's points) is ranked on, term by term."""
    terms = activity_terms(engine, rows)
    begin = term_dates(engine, "begin", terms).astype("datetime64[s]").astype(np.int64)
    end = term_dates(engine, "end", terms).astype("datetime64[s]").astype(np.int64)
    due = engine.column("learner_activity", "due_date", rows)
    seconds = due.astype("datetime64[s]").astype(np.int64).astype(float)
    seconds[np.isnat(due)] = np.nan
    return (seconds - begin) / np.maximum(end - begin, 1), terms


DEFAULT_DUE_SECOND = 23 * 3600 + 59 * 60  # 23:59, where the profile learned no due times


def _due_moments(engine: Engine, table: Table, rows: np.ndarray, begin: np.ndarray,
                 span: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Due moments: at 23:59 on the day the fraction of the term falls in, or, where the
    profile learned the source's times of day (`due_time`), at a drawn one of them on the
    day that puts the moment nearest the fraction (a source due at midnight kept its days,
    where 23:59 on the fraction's day came a day late)."""
    learned = engine.profile["tables"][table.name].get("due_time")
    if learned is None:
        days = np.floor(fraction * span)
        second = np.full(len(rows), DEFAULT_DUE_SECOND, dtype=np.int64)
    else:
        drawn = compile_distribution(learned).sample(engine.uniform(table.key, "due_time", rows))
        second = np.nan_to_num(numeric(drawn), nan=DEFAULT_DUE_SECOND).astype(np.int64)
        days = np.clip(np.round(fraction * span - second / 86400), 0, span)
    return (begin + days.astype("timedelta64[D]")).astype("datetime64[s]") + \
        second.astype("timedelta64[s]")


def _plain_due(engine: Engine, table: Table, rows: np.ndarray) -> np.ndarray:
    """Due fractions from the profile's due_date distribution (NaN: undated)."""
    return numeric(engine.sample(table.key, "due_date", rows, _due_uniforms(engine, table, rows)))


def _due_uniforms(engine: Engine, table: Table, rows: np.ndarray) -> np.ndarray:
    """Uniforms stratified within each course: an offering's n assignments take the n
    strata of (0, 1) in a seeded random order, so each course's due dates spread over its
    term the way the profile's distribution does (and so does every term's), instead of a
    table-wide stratification that leaves one term early and another late."""
    if not len(rows):  # a block of results whose courses have no assignment
        return np.zeros(0)
    activities, groups = engine.layouts[table.key], engine.layouts[table.layout.parent]
    offering = groups.parent_rows(activities.parent_rows(rows))
    first = activities.offsets[groups.offsets[offering]]
    count = activities.offsets[groups.offsets[offering + 1]] - first
    siblings = np.arange(int(first.min()), int((first + count).max()), dtype=np.int64)
    sibling_offering = groups.parent_rows(activities.parent_rows(siblings))
    order = np.lexsort((_random.bits(_random.stream_key(engine.seed, table.key, "due_date",
                                                        "course"), siblings),
                        sibling_offering))
    position = np.empty(len(siblings), dtype=np.int64)
    position[order] = np.arange(len(siblings))
    rank = position[rows - siblings[0]] - (first - siblings[0])
    jitter = engine.uniform(table.key, "due_date", rows)
    return (rank + jitter) / np.maximum(count, 1)
