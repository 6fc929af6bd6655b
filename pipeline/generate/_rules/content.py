"""Course content the LMS holds and events point at: wikis and pages, discussions and their
entries, modules and items, files, quizzes. Counts and statuses come from the profile; these
rules give them names, dates inside their term and, for discussion entries, an author who is
enrolled in the course."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate._engine import Engine, narrow_ints, rule
from pipeline.generate._plan import count_rule
from pipeline.generate._rules.calendar import term_dates
from pipeline.generate._rules.enrollment import KEY as ENROLLMENT
from pipeline.udp._schema import PARENT, Table

OFFERING = "course_offering"
_STEMS = {"wiki_page": "Page", "discussion": "Discussion", "module": "Week",
          "module_item": "Item", "quiz": "Quiz", "file": "handout"}
_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg",
               "video/mp4": "mp4", "text/plain": "txt", "application/zip": "zip",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
               "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}


@count_rule("one_per_parent")
def plan_one_each(engine: Engine, table: Table, parents: np.ndarray) -> np.ndarray:
    """Exactly one child per parent (a course has one wiki)."""
    return np.ones(len(parents), dtype=np.int64)


def offering_rows(engine: Engine, key: str, rows: np.ndarray) -> np.ndarray:
    """The course_offering row of content rows, following FKs and layout parents upward."""
    while key != OFFERING:
        table = engine.registry[key]
        if table.parent_of("course_offering_id") and \
                table.column("course_offering_id").gen == PARENT:
            return engine.fk_rows(key, "course_offering_id", rows)
        rows, key = engine.parent_rows(key, rows), table.layout.parent
    return rows


@rule("offering_of")
def offering_of(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """The course of a content row whose layout parent is not the course itself."""
    return offering_rows(engine, table.layout.parent, engine.parent_rows(table.key, rows))


@rule("numbered")
def numbered(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """'Week 3', 'Page 12': a stem and the row's position among its parent's children."""
    position = engine.ordinal(table.key, rows) + 1
    if column == "position":
        return position
    number = pc.cast(pa.array(position), pa.string())
    return pc.binary_join_element_wise(_STEMS[table.name], number, " ")


@rule("in_term")
def in_term(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """A time inside the course's term (content is made and edited while the term runs)."""
    terms = engine.parent_rows(OFFERING, offering_rows(engine, table.key, rows))
    begin = term_dates(engine, "begin", terms).astype("datetime64[s]").view(np.int64)
    end = term_dates(engine, "end", terms).astype("datetime64[s]").view(np.int64)
    u = engine.uniform(table.key, column, rows)
    return (begin + (u * (end - begin)).astype(np.int64)).view("datetime64[s]")


@rule("file_name")
def file_name(engine: Engine, table: Table, column: str, rows: np.ndarray) -> pa.Array:
    """'handout_7.pdf': a numbered name with the extension of the file's content type."""
    kinds = engine.column(table.key, "content_type", rows)
    extensions = pa.array([_EXTENSIONS.get(k, "bin") for k in kinds.categories])
    number = pc.cast(pa.array(engine.ordinal(table.key, rows) + 1), pa.string())
    stem = pc.binary_join_element_wise(_STEMS["file"], number, "_")
    return pc.binary_join_element_wise(stem, extensions.take(pa.array(kinds.codes)), ".")


def _students_by_offering(engine: Engine) -> tuple[np.ndarray, np.ndarray]:
    """(offsets per offering, person rows) of every offering's enrolled students."""
    if "students_by_offering" not in engine.facts:
        n = engine.layouts[ENROLLMENT].n_students
        enrollments = np.arange(n, dtype=np.int64)
        with engine.scratch():
            sections = engine.fk_rows(ENROLLMENT, "course_section_id", enrollments)
            people = engine.fk_rows(ENROLLMENT, "person_id", enrollments)
        offerings = engine.layouts["course_section"].parent_rows(sections)
        order = np.argsort(offerings, kind="stable")
        offsets = np.searchsorted(offerings[order], np.arange(engine.n_rows(OFFERING) + 1))
        # kept for the whole job (one per student enrollment): int32 where the rows allow
        engine.facts["students_by_offering"] = (narrow_ints(offsets), narrow_ints(people[order]))
    return engine.facts["students_by_offering"]


@rule("enrolled_author")
def enrolled_author(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """A student enrolled in the course (none when the course has no students)."""
    offsets, people = _students_by_offering(engine)
    offerings = offering_rows(engine, table.key, rows)
    first, count = offsets[offerings], offsets[offerings + 1] - offsets[offerings]
    pick = (engine.uniform(table.key, column, rows) * count).astype(np.int64)
    picked = people[np.minimum(first + pick, len(people) - 1)].astype(np.int64)
    return np.where(count > 0, picked, -1)
