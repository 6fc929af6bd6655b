"""People: invented names and emails, student-term rows, declared majors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate import _names
from pipeline.generate._engine import Engine, rule
from pipeline.generate._plan import Flat, count_rule
from pipeline.udp._schema import Table

EMAIL_DOMAINS = ("campus-synth.example.edu", "example.com")


@count_rule("people")
def plan_people(engine: Engine, table: Table) -> Flat:
    """Students, then instructors."""
    return Flat(engine.facts["students"] + engine.facts["instructors"])


_POOLS = {"Female": _names.FEMALE_FIRST_NAMES + _names.NEUTRAL_FIRST_NAMES,
          "Male": _names.MALE_FIRST_NAMES + _names.NEUTRAL_FIRST_NAMES}
_ANY = _names.FIRST_NAMES
_ALL_POOLS = pa.array([*_POOLS["Female"], *_POOLS["Male"], *_ANY])
_POOL_START = {"Female": 0, "Male": len(_POOLS["Female"])}
_ANY_START = len(_POOLS["Female"]) + len(_POOLS["Male"])


def _name_parts(engine: Engine, people: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Invented first names that fit the person's sex, and last names."""
    sex = engine.column("person", "sex", people)
    starts = np.array([_POOL_START.get(c, _ANY_START) for c in sex.categories] + [_ANY_START])
    sizes = np.array([len(_POOLS.get(c, _ANY)) for c in sex.categories] + [len(_ANY)])
    u = engine.uniform("person", "first_name", people)
    first = starts[sex.codes] + (u * sizes[sex.codes]).astype(np.int64)
    last = engine.uniform("person", "last_name", people) * len(_names.LAST_NAMES)
    return (_ALL_POOLS.take(pa.array(first)),
            pc.take(pa.array(_names.LAST_NAMES), pa.array(last.astype(np.int64))))


@rule("person_name")
def person_name(engine: Engine, table: Table, column: str, rows: np.ndarray) -> pa.Array:
    """Invented first, last and full names."""
    first, last = _name_parts(engine, rows)
    if column == "first_name":
        return first
    if column == "last_name":
        return last
    return pc.binary_join_element_wise(first, last, " ")


@rule("email")
def email(engine: Engine, table: Table, column: str, rows: np.ndarray) -> pa.Array:
    """Institutional, then personal email addresses."""
    people = engine.parent_rows("person_email", rows)
    ordinal = engine.ordinal("person_email", rows)
    first, last = (pc.utf8_lower(part) for part in _name_parts(engine, people))
    number = pc.cast(pa.array(people + 1), pa.string())
    personal = ordinal > 0
    local = pc.if_else(pa.array(personal),
                       pc.binary_join_element_wise(last, first, number, ""),
                       pc.binary_join_element_wise(first, last, number, "."))
    domain = pc.take(pa.array(EMAIL_DOMAINS), pa.array(np.minimum(ordinal, 1)))
    suffix = pc.if_else(pa.array(ordinal > 1), pc.cast(pa.array(ordinal), pa.string()), "")
    return pc.binary_join_element_wise(local, suffix, "@", domain, "")


@rule("cross")
def cross(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """Person and term of a student-term row."""
    layout = engine.layouts[table.key]
    if column == "person_id":
        return layout.parent_rows(rows)
    return layout.other_rows(rows)


@rule("from_parent")
def from_parent(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """The same FK as the layout parent row carries (a link row inherits its keys)."""
    parent = table.layout.parent
    return engine.fk_rows(parent, column, engine.parent_rows(table.key, rows))


@rule("declared_major")
def declared_major(engine: Engine, table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """Majors persist across terms: drawn per person; a second major is always different."""
    people = engine.fk_rows(table.key, "person_id", rows)
    majors = engine.n_rows("academic_major")
    first = (engine.uniform(table.key, column, people) * majors).astype(np.int64)
    if majors < 2:
        return first
    offset = 1 + (engine.uniform(table.key, column, people, draw=1) * (majors - 1)).astype(int)
    second = (first + offset) % majors
    return np.where(engine.ordinal(table.key, rows) == 0, first, second)
