"""The profiler: real tables in, a privacy-checked profile out.

The built-in default profile is the template: every distribution it holds is estimated from
the source with the same kind, `given` columns and unit, so the result drives the generator
unchanged. Whatever the source cannot tell (a missing optional table or column, an all-null
column, a cell suppressed away) keeps the default's value, and a note says so.
"""

from __future__ import annotations

import copy

from distributions._absent_columns import (
    absent_activity_status_part,
    absent_status_part,
    staff_roles_part,
)
from distributions._activity import activity_part
from distributions._calendar import calendar_part
from distributions._catalog_columns import catalog_part
from distributions._columns import COUNTED_LEVELS, count_levels, coverage, extras_part
from distributions._course_shapes import course_shape_part
from distributions._dependencies import dependency_part, extra_dependency_part
from distributions._engagement import engagement_part, results_kept_part
from distributions._engagement_links import links_part
from distributions._estimators import (
    Missing,
    Reader,
    Summary,
    children_histogram,
    summarize,
    value_cells,
    value_counts,
)
from distributions._event_extras import event_extras_part
from distributions._event_queries import check_columns, has_events, set_aside_incomplete
from distributions._event_rates import event_part
from distributions._extra_nulls import extra_null_dependency_part
from distributions._institution import (
    campus_skew,
    grading_part,
    measure_base,
    session_names,
    sizing_part,
)
from distributions._institutional_extras import institutional_extra_part
from distributions._noisy_continuous import noised_column, noised_conditional
from distributions._noisy_counts import bounds, released_row_counts
from distributions._privacy import NODATA, Cell, Guard, check_allowed, released_parts
from distributions._profile import load_profile
from distributions._profile_result import ProfileResult
from distributions._source_checks import check_source
from distributions._sources import UDP_DISTRIBUTIONS, Source, open_source
from distributions._structure import child_keys, has_people, institutional, mean_count
from distributions._term_mix import term_mix_part
from distributions._ties import tie_part
from distributions._udp_distributions import profile_from_udp_distributions
from distributions._work_dates import work_dates_part
from pipeline.errors import SourceError
from pipeline.udp._contract import drop_unreachable_cells
from pipeline.udp._registry import REGISTRY

REQUIRED = ("person", "academic_term", "course_offering", "course_section",
            "course_section_enrollment")
_COUNT_AS_CATEGORICAL = 12  # children-per-parent counts up to this are a categorical


def profile_source(spec: str | Source, k: int = 10, epsilon: float | None = None,
                   seed: int = 0, api_endpoint: str | None = None) -> ProfileResult:
    """Profile a source (a spec for `open_source`, closed again here, or an open Source;
    `api_endpoint`: another BigQuery API for a bigquery:// spec)."""
    if not isinstance(spec, str):
        return _profiled(spec, k, epsilon, seed)
    source = open_source(spec, api_endpoint)
    try:
        return _profiled(source, k, epsilon, seed)
    finally:  # a folder of CSV files leaves a scratch database to remove
        getattr(source, "close", lambda: None)()


def _profiled(source: Source, k: int, epsilon: float | None, seed: int) -> ProfileResult:
    guard = Guard(k, epsilon, seed)
    tables = source.tables()
    if UDP_DISTRIBUTIONS in tables and not set(REQUIRED) <= set(tables):
        udp = source.query(f"SELECT * FROM {source.relation(UDP_DISTRIBUTIONS)}")
        profile, notes = profile_from_udp_distributions(udp, source.label)
        return ProfileResult(profile, guard.manifest(source.label, {UDP_DISTRIBUTIONS:
                                                                    udp.num_rows}), notes)
    missing = [t for t in REQUIRED if t not in tables]
    if missing:
        raise SourceError(f"{source.label}: required table(s) missing: {', '.join(missing)}")

    source, source_notes = check_source(source, REGISTRY)
    reader = Reader(source)
    if epsilon is not None:
        # a first pass lists the count queries the profile releases, so that the total ε is
        # split over them; the second pass reuses its aggregates (the reader caches them)
        planning = Guard(k, epsilon, seed)
        Profiler(reader, planning).run()
        guard = Guard(k, epsilon, seed, plan=sorted(planning.budget.queries))
    profiler = Profiler(reader, guard)
    profile = profiler.run()
    for path in drop_unreachable_cells(profile, REGISTRY):
        profiler.notes.append(f"{path}: dropped, its parent value was suppressed or noised "
                              "away (k, ε); those rows follow the column's other cells")
    profiler.notes[:0] = source_notes  # what the source checks left out, and by which rule
    manifest = guard.manifest(source.label, profiler.released_counts)
    if epsilon is not None:  # the public caps on what one person adds to a count
        manifest["bounds"] = bounds(profiler)
    manifest["coverage"] = profiler.coverage  # every table and column: read, skipped, defaulted
    manifest["released"] = released_parts(  # every part of the profile and what protects it
        profile, profiler.default, guard.budget.queries,
        {name for name in profiler.entities if has_people(profiler, name)})
    manifest["notes"] = list(profiler.notes)  # kept beside the profile, not only printed
    return ProfileResult(profile, manifest, profiler.notes)


class Profiler:
    """Walks the default profile and replaces each part the source can estimate."""

    def __init__(self, reader: Reader, guard: Guard):
        self.reader, self.guard, self.sql = reader, guard, reader.sql
        self.registry = REGISTRY
        self.entities = {t.name: t for t in REGISTRY if t.schema.endswith("entity")}
        self.default = load_profile()
        self.notes: list[str] = []
        self.counts = self._row_counts()

    def _row_counts(self) -> dict[str, int]:
        counts = {}
        for name in sorted(set(self.reader.tables) & set(self.entities)):
            counts[name] = int(self.reader.scalar(f"SELECT COUNT(*) FROM {self.reader.rel(name)}"))
            if counts[name] == 0 and name in REQUIRED:
                raise SourceError(f"{self.reader.source.label}: table {name} is empty")
        for name in sorted(set(self.entities) - set(self.reader.tables)):
            if self._needed(name):
                self.notes.append(f"optional table {name} is not in the source: its part of "
                                  "the profile comes from the default profile")
        for name in [n for n, c in counts.items() if c == 0]:
            self.notes.append(f"optional table {name} is empty: treated as missing")
            del self.reader.tables[name]
        return counts

    def _needed(self, name: str) -> bool:
        return name in self.default["tables"]

    def run(self) -> dict:
        """The profile: every table's distributions, then sizing, calendar and grades."""
        set_aside_incomplete(self.reader, self.notes)  # a missing column: the default events
        if has_events(self.reader):
            check_columns(self.reader)  # bad input fails before the long estimates
        profile = copy.deepcopy(self.default)
        profile["name"] = f"profiled from {self.reader.source.label}"
        profile["description"] = (f"Estimated by campus-synth profile with k={self.guard.k}"
                                  + (f", epsilon={self.guard.epsilon:g}" if self.guard.epsilon
                                     else "") + "; aggregates only.")
        for table, spec in profile["tables"].items():
            for name in list(spec.get("rows", {})):
                self._estimate(spec["rows"], name, f"/tables/{table}/rows/{name}",
                               lambda t=table, n=name, s=spec["rows"][name]: self._rows(t, n, s))
            for name, template in spec["columns"].items():
                self._estimate(spec["columns"], name, f"/tables/{table}/columns/{name}",
                               lambda t=table, n=name, d=template: self._column(t, n, d))
        staff_roles_part(self, profile)
        absent_status_part(self, profile)  # before the engagement calibration
        absent_activity_status_part(self, profile)
        dependency_part(self, profile)
        calendar_part(self, profile)
        sizing_part(self, profile)
        grading_part(self, profile)
        results_kept_part(self, profile)  # before the calibration, which simulates it
        engagement_part(self, profile)
        links_part(self, profile)  # student_share, submission and GPA on that calibration
        event_part(self, profile)
        activity_part(self, profile)  # after the event model: its sigma, the source's days
        extras_part(self, profile)
        event_extras_part(self, profile)
        extra_dependency_part(self, profile)  # the extras' tree, before their score ties
        extra_null_dependency_part(self, profile)  # numeric extras' null-ness given a column
        catalog_part(self, profile)  # course, section, campus and group names of the source
        term_mix_part(self, profile)  # which families and levels of course each term offers
        institutional_extra_part(self, profile)  # after the catalog: its parent names
        course_shape_part(self, profile)  # a course's groups given its catalog entry
        work_dates_part(self, profile)  # due and response dates given the activity's kind
        tie_part(self, profile)  # after the extras: outcome labels and bands tied to scores
        self.released_counts = released_row_counts(self)  # under ε: noised, capped per person
        self.coverage = coverage(self, profile)
        return profile

    def _estimate(self, parent: dict, name: str, path: str, estimate) -> None:
        try:
            value = estimate()
        except Missing as missing:
            self.notes.append(f"{path}: kept the default ({missing})")
            return
        if value is None:
            self.notes.append(f"{path}: kept the default (no values survive the privacy rules "
                              "or the column is all null)")
            return
        parent[name] = value

    # ---- rows ---------------------------------------------------------------------------
    def _rows(self, table: str, name: str, template):
        path = f"/tables/{table}/rows/{name}"
        if name == "count":
            self.reader.rel(table)
            return max(self.counts.get(table, 0), 1)
        if name == "per_student_term":
            return self._per_student_term(path, template)
        layout = self.entities[table].layout
        hist = children_histogram(self.reader, layout.parent, self.reader.rel(table),
                                  child_keys(self, table, layout.parent))
        return self._count_distribution(path, institutional(self, layout.parent,
                                                            hist.get((), {})), template)

    def _count_distribution(self, path: str, hist: dict, template: dict):
        hist = self.guard.histogram(path, {int(v): c for v, c in hist.items()})
        if hist and max(hist) <= _COUNT_AS_CATEGORICAL:
            dist = self.guard.categorical(path, hist, text=False, nodata=False, noise=False)
        else:
            summary = Summary.from_histogram({v: float(c) for v, c in hist.items()},
                                             self.guard.k)
            dist = self.guard.continuous(path, summary,
                                         {**template, "integer": True, "family": None})
        return dist if dist is not None else mean_count(self, path, hist)

    def _per_student_term(self, path: str, template: dict):
        r, sql = self.reader, self.sql
        role = f"WHERE {r.col('course_section_enrollment', 'role', 'text', 'e')} = 'Student'"
        child = (f"(SELECT e.{sql.ident('person_id')}, o.{sql.ident('academic_term_id')} "
                 f"FROM {r.rel('course_section_enrollment')} AS e "
                 f"JOIN {r.rel('course_section')} AS s ON e.course_section_id = "
                 f"s.course_section_id JOIN {r.rel('course_offering')} AS o "
                 f"ON s.course_offering_id = o.course_offering_id {role})")
        given = r.col("person__academic_term", "eot_academic_load", "text", "p")
        hist = children_histogram(r, "person__academic_term", child,
                                  [("person_id", "person_id"),
                                   ("academic_term_id", "academic_term_id")], given)
        pooled: dict = {}
        for counts in hist.values():
            for v, c in counts.items():
                pooled[v] = pooled.get(v, 0) + c
        cells = {g: self._count_cell(_cell_path(path, g), counts, template)
                 for g, counts in hist.items()}
        return self._conditional(path, template, cells, pooled_dist=self._count_cell(
            path + "/otherwise", pooled, template["otherwise"]), sizes={
                g: sum(c.values()) for g, c in hist.items()})

    def _count_cell(self, path: str, counts: dict, template: dict):
        # a person holds one student-term per term: that many parent rows (ε's sensitivity)
        hist = self.guard.histogram(path, {int(v): c for v, c in counts.items()},
                                    max(self.counts.get("academic_term", 1), 1))
        return self.guard.continuous(path, Summary.from_histogram(hist, self.guard.k),
                                     {"integer": True})

    # ---- columns ------------------------------------------------------------------------
    def _column(self, table: str, name: str, template: dict):
        path = f"/tables/{table}/columns/{name}"
        if template["kind"] == "foreign_key":
            return campus_skew(self, table, name)
        if table == "course_section" and name == "academic_session_id":
            return self._categorical(path, *session_names(self), text=True, template=template)
        levels = count_levels(self._value_cells(table, name, []).get((), {})) \
            if (table, name) in COUNTED_LEVELS else None
        if levels is not None:  # few whole values: shares, as an evaluation compares them
            return self._categorical(path, levels, False, {"kind": "categorical"},
                                     self.entities[table].column(name).nullable)
        if template["kind"] == "continuous":
            return self._continuous(table, name, path, template)
        if template["kind"] == "categorical":
            check_allowed(self.registry, table, name)
            counts = self._value_cells(table, name, [])
            return self._categorical(path, counts.get((), {}), self._is_text(table, name),
                                     template, self.entities[table].column(name).nullable)
        return self._conditional_column(table, name, path, template)

    def _is_text(self, table: str, name: str) -> bool:
        return self.entities[table].column(name).type == "string"

    def _value_expr(self, table: str, name: str, alias: str = "t") -> str:
        kind = "text" if self._is_text(table, name) else "number"
        return self.reader.col(table, name, kind, alias)

    def _value_cells(self, table: str, name: str, given: list[str]) -> dict[tuple, dict]:
        """Counts per (given.., value): `Cell`s with distinct people where a person stands
        behind each row, `Cell`s without people for institutional tables (never suppressed
        for being few), bare row counts where the source lacks the person column."""
        columns = {c.name for c in self.entities[table].columns}
        if "person_id" not in columns:
            counts = value_counts(self.reader, self._value_base(table, name, given), len(given))
            return {g: {v: Cell(float(n)) for v, n in c.items()} for g, c in counts.items()}
        if not self.reader.has(table, "person_id"):
            return value_counts(self.reader, self._value_base(table, name, given), len(given))
        pid = self.reader.col(table, "person_id", "key")
        return value_cells(self.reader, self._value_base(table, name, given, pid=pid),
                           len(given))

    def _value_base(self, table: str, name: str, given: list[str], value: str = "v",
                    pid: str | None = None) -> str:
        """SELECT g0.., v FROM the table, joined to the parents its `x.col` givens name."""
        joins, selects = [], []
        for i, g in enumerate(given):
            if "." in g:
                fk, column = g.split(".", 1)
                parent = self.entities[table].parent_of(fk)
                check_allowed(self.registry, parent, column)
                pk = self.entities[parent].primary_key[0]
                joins.append(f"LEFT JOIN {self.reader.rel(parent)} AS p{i} ON "
                             f"t.{self.sql.ident(fk)} = p{i}.{self.sql.ident(pk)}")
                selects.append(f"{self.reader.col(parent, column, 'text', f'p{i}')} AS g{i}")
            else:
                check_allowed(self.registry, table, g)
                selects.append(f"{self.reader.col(table, g, 'text')} AS g{i}")
        selects.append(f"{self._value_expr(table, name)} AS {value}")
        if pid:
            selects.append(f"{pid} AS pid")
        return f"SELECT {', '.join(selects)} FROM {self.reader.rel(table)} AS t {' '.join(joins)}"

    def _categorical(self, path: str, counts: dict, text: bool, template: dict,
                     nullable: bool = True):
        counts = {_json_value(v, text): c for v, c in counts.items()}
        if all(v is None for v in counts):
            return None
        nodata = NODATA in counts or any(i.get("value") == NODATA
                                         for i in template.get("values", []))
        if not nullable and None in counts:
            # the generator never writes nulls here: missing values are NoData (or dropped)
            nulls = counts.pop(None)
            if nodata and text:
                counts[NODATA] = counts.get(NODATA, 0) + nulls
        return self.guard.categorical(path, counts, text, nodata)

    def _continuous(self, table: str, name: str, path: str, template: dict):
        if self._noised(table):  # under ε: noised histograms, not a k-coded summary
            return noised_column(self, path, measure_base(self, table, name, True), template)
        base = measure_base(self, table, name)
        summary = summarize(self.reader, base, self.guard.k).get((), Summary(0, 0))
        return self.guard.continuous(path, summary, template, people=has_people(self, table))

    def _noised(self, table: str) -> bool:
        """Whether a continuous column of `table` is released from noised counts (under ε,
        a person behind each row)."""
        return self.guard.epsilon is not None and self.reader.has(table, "person_id")

    def _conditional_column(self, table: str, name: str, path: str, template: dict):
        given, other = template["given"], template["otherwise"]
        base = self._value_base(table, name, given)
        if other["kind"] == "continuous":
            if self._noised(table):
                pid = self.reader.col(table, "person_id", "key")
                return self._conditional(path, template, *noised_conditional(
                    self, path, self._value_base(table, name, given, "x", pid), len(given), other))
            base = self._value_base(table, name, given, value="x")
            per_cell = summarize(self.reader, base, self.guard.k, len(given))
            pooled = summarize(self.reader, base, self.guard.k).get((), Summary(0, 0))
            cells = {g: self.guard.continuous(_cell_path(path, g), s, other)
                     for g, s in per_cell.items()}
            return self._conditional(path, template, cells,
                                     self.guard.continuous(path + "/otherwise", pooled, other),
                                     {g: s.total for g, s in per_cell.items()})
        check_allowed(self.registry, table, name)
        counts = self._value_cells(table, name, given)
        text = self._is_text(table, name)
        nullable = self.entities[table].column(name).nullable
        pooled = self._value_cells(table, name, []).get((), {})  # exact people, not a sum
        cells = {g: self._categorical(_cell_path(path, g), c, text, other, nullable)
                 for g, c in counts.items()}
        return self._conditional(path, template, cells,
                                 self._categorical(path + "/otherwise", pooled, text, other,
                                                   nullable),
                                 {g: sum(c.values()) for g, c in counts.items()})

    def _conditional(self, path: str, template: dict, cells: dict, pooled_dist, sizes: dict):
        """A conditional distribution from per-cell distributions; small cells are dropped."""
        if pooled_dist is None:
            return None
        out = []
        # largest first; equal sizes by value, not in the order the engine grouped them
        for values in sorted(cells, key=lambda g: (-sizes[g], tuple(map(str, g)))):
            if any(v is None for v in values) or cells[values] is None:
                continue
            if self.guard.cell_kept(path + "/cells", sizes[values]):
                out.append({"when": dict(zip(template["given"], values, strict=True)),
                            "distribution": cells[values]})
        return {"kind": "conditional", "given": list(template["given"]), "cells": out,
                "otherwise": pooled_dist}


def _json_value(value, text: bool):
    """A categorical value as the profile spells it: text, or an int when integral."""
    if value is None:
        return None
    if text:
        return str(value)
    number = float(value)
    return int(number) if number.is_integer() else number


def _cell_path(path: str, values: tuple) -> str:
    return f"{path}/cells[{','.join(map(str, values))}]"
