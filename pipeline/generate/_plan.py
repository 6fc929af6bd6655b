"""The plan: FTE → row counts for every table, laid out in foreign-key order.

Sizing turns the institution's FTE into students (through the academic-load mix), instructors
and course offerings per term; then each table's layout is built in the registry's topological
order, so a child's children-per-parent draw can read any attribute of its planned parents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from pipeline.errors import PlanError
from pipeline.generate import _random
from pipeline.generate._column_values import numeric
from pipeline.generate._engine import STRATIFY_MAX, Engine
from pipeline.generate._layouts import Children, Cross, Flat, Spans
from pipeline.generate._samplers import balanced_ranks, compile_distribution
from pipeline.udp._schema import Table
from pipeline.udp._settings import Settings

COUNT_RULES: dict[str, Callable] = {}


def count_rule(name: str):
    """Register how the rows of a `rule` layout (or a child's counts) are planned."""
    def register(function: Callable) -> Callable:
        COUNT_RULES[name] = function
        return function
    return register


# ---- building the plan ------------------------------------------------------------------------
def build_plan(registry, profile: dict, settings: Settings) -> Engine:
    """An engine whose layouts hold the planned rows of every table."""
    if not settings.fte > 0:
        raise PlanError(f"the size must be a positive FTE, not {settings.fte:g}")
    engine = Engine(registry, profile, settings.seed)
    engine.facts.update(size_institution(profile, settings))
    # what the event store will hold, for inputs read off its draws before it is generated
    # (a scenario's active days per week: pipeline/generate/_events/active_days.py)
    engine.facts["event_settings"] = (settings.event_scale, settings.event_days)
    for key in registry.order():
        engine.layouts[key] = _layout(engine, registry[key])
    return engine


def size_institution(profile: dict, settings: Settings) -> dict:
    """Students, instructors and offerings per term for the requested FTE.

    FTE counts the students of one term. With a learned participation (`structure.
    terms_per_student`) a student attends only some terms, so more distinct students make up
    the same students per term; with learned students per section the offerings follow from
    the seats the source's sections really held, not from capacity × fill rate."""
    tables, institution = profile["tables"], profile["institution"]
    loads = tables["person__academic_term"]["columns"]["eot_academic_load"]["values"]
    load_share = {item["value"]: item["p"] / sum(i["p"] for i in loads) for item in loads}
    fte_per_student = sum(p * institution["fte_by_load"][v] for v, p in load_share.items())
    per_term = max(1, round(settings.fte / max(fte_per_student, 1e-9)))
    participation = profile.get("structure", {}).get("terms_per_student")
    students = per_term if participation is None else max(1, round(
        per_term * settings.terms / mean_terms(participation, settings.terms)))
    instructors = max(2, round(per_term * institution["instructors_per_100_students"] / 100)) \
        if _staffed(profile) else 0
    rows = tables["course_section_enrollment"]["rows"]
    per_student = _conditional_mean(rows["per_student_term"], load_share)
    sections_spec = tables["course_section"]
    sections_per_offering = max(_pooled_mean(sections_spec["rows"]["per_parent"]), 1e-9)
    seats = _seats_per_section(profile, sections_spec, institution)
    # at least one student a section: a profile whose sections are all empty (per_section 0)
    # would otherwise plan ~10^12 of them
    sections = per_term * per_student / max(seats, 1.0)
    return {
        "students": students,
        "instructors": instructors,
        "populations": {"students": (0, students),
                        "instructors": (students, students + instructors)},
        "offerings_per_term": _offerings_per_term(profile, settings,
                                                  sections / sections_per_offering),
        "terms": settings.terms,
        "fte": settings.fte,
    }


def _staffed(profile: dict) -> bool:
    """Whether enrollments hold any non-student role (a converted dataset of students alone
    has none: then no instructor is generated, no person and no staff enrollment)."""
    role = profile["tables"]["course_section_enrollment"]["columns"]["role"]
    return role["kind"] != "categorical" or any(
        item["value"] != "Student" and item["p"] > 0 for item in role["values"])


def _offerings_per_term(profile: dict, settings: Settings, from_seats: float) -> int:
    """The source's offerings per term scaled by FTE when learned, else from the seats."""
    per_fte = profile.get("structure", {}).get("offerings_per_fte")
    return max(1, round(per_fte * settings.fte if per_fte else from_seats))


def _seats_per_section(profile: dict, sections_spec: dict, institution: dict) -> float:
    """Mean students per section: learned (by course level), else capacity × fill rate."""
    learned = profile["tables"]["course_section_enrollment"]["rows"].get("per_section")
    if learned is None:
        capacity = compile_distribution(sections_spec["columns"]["max_enrollment"]).mean
        return capacity * institution["section_fill_rate"]
    levels = profile["tables"]["course_offering"]["columns"].get("course_level", {})
    values = levels.get("values", [])
    shares = {str(i["value"]): i["p"] / sum(v["p"] for v in values) for i in values}
    return _conditional_mean(learned, shares)


def mean_terms(spec: dict, terms: int) -> float:
    """Mean terms a student attends out of `terms` (the learned count, capped at `terms`)."""
    if spec["kind"] == "categorical":
        total = sum(i["p"] for i in spec["values"]) or 1.0
        return max(sum(i["p"] * min(max(int(i["value"]), 1), terms) for i in spec["values"])
                   / total, 1.0)
    u = (np.arange(1000) + 0.5) / 1000
    return float(np.clip(numeric(compile_distribution(spec).sample(u)), 1, terms).mean())


def _pooled_mean(spec: dict) -> float:
    """A count's mean over every parent (a conditional's pooled `otherwise`)."""
    return compile_distribution(spec.get("otherwise", spec)).mean


def _conditional_mean(spec: dict, shares: dict) -> float:
    if spec["kind"] != "conditional":
        return compile_distribution(spec).mean
    means = {str(cell["when"][spec["given"][0]]): compile_distribution(
        cell["distribution"]).mean for cell in spec["cells"]}
    fallback = compile_distribution(spec["otherwise"]).mean
    return sum(share * means.get(str(value), fallback) for value, share in shares.items())


def _layout(engine: Engine, table: Table):
    layout = table.layout
    if layout.kind == "fixed":
        return Flat(int(engine.profile["tables"][table.name]["rows"]["count"]))
    if layout.kind == "mirror":
        return Flat(engine.n_rows(layout.parent))
    if layout.kind == "enumerate":
        return Flat(len(engine.distribution(table.key, layout.column)["values"]))
    if layout.kind == "cross":
        start, stop = engine.facts["populations"][layout.population]
        participation = engine.profile.get("structure", {}).get("terms_per_student")
        if participation is not None and layout.other == "academic_term":
            return Spans.draw(engine, table.key, participation, start, stop - start,
                              engine.n_rows(layout.other))
        return Cross(start, stop - start, engine.n_rows(layout.other))
    if layout.kind == "rule":
        return COUNT_RULES[layout.count_rule](engine, table)
    if layout.kind == "children":
        return Children.from_counts(_children_counts(engine, table))
    raise PlanError(f"{table.name}: unknown layout {layout.kind!r}")


def _children_counts(engine: Engine, table: Table) -> np.ndarray:
    layout = table.layout
    parents = np.arange(engine.n_rows(layout.parent), dtype=np.int64)
    if layout.count_rule:
        return COUNT_RULES[layout.count_rule](engine, table, parents)
    rows = engine.profile["tables"][table.name]["rows"]
    counters, domain = parents, len(parents)
    if layout.count_keyed_by:
        counters = engine.fk_rows(layout.parent, layout.count_keyed_by, parents)
        domain = engine.n_rows(engine.registry[layout.parent].parent_of(layout.count_keyed_by))
    grandparent = engine.registry[layout.parent].layout
    owners = None if layout.count_keyed_by else _owners(engine, layout.parent, parents)
    counts = draw_counts(engine, table.key, rows["per_parent"], layout.parent, parents,
                         counters, domain, owners=owners)
    # one child per parent in every source row (an assignment per group): the grandparent's
    # total is its number of parents, which may follow the grandparent's attributes
    if "per_grandparent" in rows and grandparent.kind == "children" and \
            len(rows["per_parent"].get("values", ())) != 1:
        counts = _spread_totals(engine, table, rows["per_grandparent"], grandparent.parent,
                                counts)
    return counts


SPREAD_ROUNDS = 8  # spread, then remap to the drawn counts: the KS stops improving by ~8


def _spread_totals(engine: Engine, table: Table, spec: dict, grandparent: str,
                   counts: np.ndarray) -> np.ndarray:
    """Children per parent row, adjusted so that each grandparent's children add up to a
    total drawn from `spec` (a course's activities over all its groups, whose shape a sum of
    independent per-group draws would not keep), the counts first brought into line with
    the totals by alternating rounds (adjust, then give the adjusted counts the drawn ones
    rank for rank), so the per-parent counts keep their drawn marginal too (a proportional
    spread of independent draws made groups of 4 assignments from a source of 1-3:
    activities per group KS 0.106 on the real-like source, 0.015-0.03 in trials this way)."""
    owners = engine.layouts[table.layout.parent].parent_rows(
        np.arange(len(counts), dtype=np.int64))
    everyone = np.arange(engine.n_rows(grandparent), dtype=np.int64)
    totals = draw_counts(engine, table.key, spec, grandparent, everyone, everyone,
                         len(everyone), stream="grandparent_rows",
                         owners=_owners(engine, grandparent, everyone))
    # rank for rank with the grandparent's number of parents (a course of more groups has
    # more work; one assignment per group: equal), the drawn totals' marginal kept (within
    # each term where the calendar lists the term's own)
    parents = np.bincount(owners, minlength=len(everyone))
    terms = _term_totals(engine, table, grandparent, totals)
    if terms is None:
        totals[np.lexsort((totals, parents))] = np.sort(totals)
    else:
        totals[np.lexsort((totals, parents, terms))] = totals[np.lexsort((totals, terms))]
    tie = _random.bits(_random.stream_key(engine.seed, table.key, "spread"),
                       np.arange(len(counts), dtype=np.int64))
    drawn, counts = np.sort(counts), counts.astype(np.float64)
    for _ in range(SPREAD_ROUNDS):
        counts[np.lexsort((tie, _adjusted(totals, owners, counts)))] = drawn
    return _adjusted(totals, owners, counts)


def _term_totals(engine: Engine, table: Table, grandparent: str,
                 totals: np.ndarray) -> np.ndarray | None:
    """Activities per course drawn, in each term the calendar lists them for, from that
    term's own distribution (distributions/_term_work.py: one autumn of the source held 23
    assignments, the next 34), its courses taking its strata in a seeded order; `totals`
    changed in place. The term row of each course, or None when no term lists its own."""
    calendar = engine.facts.get("calendar") or []
    if table.name != "learner_activity" or grandparent != "course_offering" or \
            not any("activities" in term for term in calendar):
        return None
    courses = np.arange(len(totals), dtype=np.int64)
    terms = engine.layouts[grandparent].parent_rows(courses)
    key = _random.stream_key(engine.seed, table.key, "term_totals")
    for term, entry in enumerate(calendar):
        mine = courses[terms == term]
        if "activities" not in entry or not len(mine):
            continue
        rank = np.argsort(np.argsort(_random.bits(key, mine), kind="stable"), kind="stable")
        u = (rank + engine.uniform(table.key, "term_totals", mine)) / len(mine)
        drawn = compile_distribution(entry["activities"]).sample(u)
        totals[mine] = np.nan_to_num(numeric(drawn)).astype(np.int64)
    return terms


def _adjusted(totals: np.ndarray, owners: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`counts` moved to add up to their owner's total: the difference shared evenly over
    the owner's rows (the fewest values changed, each by as little as it can), rounded by
    largest remainder; an owner whose rows that would take below 0 spreads its total in
    proportion to the counts instead (evenly where all are 0)."""
    n = len(totals)
    rows = np.bincount(owners, minlength=n)
    gap = (totals - np.bincount(owners, weights=counts, minlength=n)) / np.maximum(rows, 1)
    exact = counts + gap[owners]
    negative = np.bincount(owners, weights=exact < 0, minlength=n) > 0
    if negative.any():
        drawn = np.bincount(owners, weights=counts, minlength=n)
        weight = np.where(drawn[owners] > 0, counts, 1.0)
        share = weight / np.bincount(owners, weights=weight, minlength=n)[owners]
        exact = np.where(negative[owners], totals[owners] * share, exact)
    spread = np.floor(exact).astype(np.int64)
    left = totals - np.bincount(owners, weights=spread, minlength=n).astype(np.int64)
    # the rows with the largest remainders of their owner (then the smallest) get one more
    order = np.lexsort((exact, -(exact - spread), owners))
    first = np.searchsorted(owners[order], owners[order])
    rank = np.arange(len(order)) - first
    spread[order[rank < left[owners[order]]]] += 1
    return spread


def _owners(engine: Engine, table: str, rows: np.ndarray) -> np.ndarray | None:
    """The driving parent row of each of `table`'s rows (a course's term), or None for a
    table without one."""
    layout = engine.registry[table].layout
    return engine.layouts[table].parent_rows(rows) if layout.kind == "children" else None


def draw_counts(engine: Engine, key: str, spec: dict, parent: str, parents: np.ndarray,
                counters: np.ndarray, domain: int, stream: str = "rows",
                owners: np.ndarray | None = None) -> np.ndarray:
    """Children per parent row of `parent`, drawn from a count distribution of table `key`
    (its conditionals read the parent's columns); with `owners` (each counter's own parent:
    a course's term) the strata are dealt so that every owner gets its share of small and
    large counts (`balanced_ranks`)."""
    if owners is not None and 2 <= domain <= STRATIFY_MAX:
        bits = _random.bits(_random.stream_key(engine.seed, key, stream, "rank"),
                            np.arange(domain, dtype=np.int64))
        rank = balanced_ranks(owners, bits)
        u = (rank[counters] + engine.uniform(key, stream, counters)) / domain
    else:
        u = engine.stratified(key, stream, counters, domain)
    try:
        counts = engine.draw(spec, parent, parents, u)
    finally:
        engine.clear()
    return np.nan_to_num(numeric(counts)).astype(np.int64)


@dataclass(frozen=True)
class Block:
    """One Beam element: rows [start, stop) of a table, plus companion tables' rows."""

    table: str
    index: int
    start: int
    stop: int
    companions: tuple[tuple[str, int, int], ...] = ()


def blocks(engine: Engine, key: str, block_rows: int) -> list[Block]:
    """The cuts of one table (and of the tables generated with it) into blocks."""
    companions = [t.key for t in engine.registry if t.generated_with == key]
    n = engine.n_rows(key)
    if not companions:
        return [Block(key, i, start, min(start + block_rows, n))
                for i, start in enumerate(range(0, n, block_rows))]
    offsets = engine.layouts[key].offsets
    parents = len(offsets) - 1
    cuts = engine.layouts[key].find(np.arange(0, n, block_rows)) - 1
    cuts = np.unique(np.concatenate([[0], cuts, [parents]]))
    return [Block(key, i, int(offsets[a]), int(offsets[b]),
                  tuple((c, *_child_range(engine, c, a, b)) for c in companions))
            for i, (a, b) in enumerate(pairwise(cuts))]


def _child_range(engine: Engine, key: str, first_parent: int, stop_parent: int):
    offsets = engine.layouts[key].offsets
    return int(offsets[first_parent]), int(offsets[stop_parent])


def generated_tables(engine: Engine) -> list[str]:
    """Tables that get their own generation step, in generation order."""
    return [key for key in engine.registry.order() if not engine.registry[key].generated_with]
