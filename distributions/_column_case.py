"""Column names are case-insensitive in SQL (DuckDB and BigQuery alike): a source's
`Person_ID` is the profile's `person_id`. Every source folds names to lower case the same way,
says so in a note, and refuses two columns whose names differ in case alone (folded, one would
hide the other)."""

from __future__ import annotations

import pyarrow as pa

from pipeline.errors import SourceError
from pipeline.udp._event_schema import ARROW_SCHEMA


def folded(name: str) -> str:
    """A source column's name as the profile reads it: lower case, without the spaces an
    export left around it (' Person_ID ' is person_id)."""
    return name.strip().lower()


def refuse_case_clash(where: str, columns: list[str]) -> None:
    """A SourceError naming `where` (a file, or a source and table) and the two columns whose
    names are the same, or differ only in case: folded to lower case, one would hide the
    other (DuckDB reads the second of a file's two `sex` columns as `sex_1`, which no
    profile reads: one of the two would be profiled silently)."""
    seen: dict[str, str] = {}
    for column in columns:
        other = seen.get(folded(column))
        if other is None:
            seen[folded(column)] = column
            continue
        if other == column:
            raise SourceError(f"{where}: two columns are named {column!r}; rename or drop "
                              "one")
        raise SourceError(f"{where}: columns {other!r} and {column!r} have the same name "
                          "in lower case (column names are case-insensitive); rename one")


def folded_note(table: str, columns: list[str]) -> str | None:
    """The note saying which of a table's columns are read under their lower-case names
    (None when every name is lower case already)."""
    renamed = [c for c in columns if c != c.lower()]
    if not renamed:
        return None
    return (f"source table {table}: column names read in lower case ("
            + ", ".join(f"{c} as {c.lower()}" for c in renamed) + ")")


# the event store's nested records, which a flat export (CSV, a flattened Parquet) writes as
# `object.type`, `ed_app.id`, `person.udp_id` …
EVENT_TABLE = "expanded"


def flattened_fields(table: str, columns: list[str]) -> dict[str, list[tuple[str, str]]]:
    """{record: [(flat column, field)]} of an event table written flat: each column named
    `record.field` whose record is not a column of its own (the estimates read
    `object.type` as a nested field), or `record_field` for a record and field of the event
    store's (`object_type`, `ed_app_id`, `course_offering_udp_id`: a flattening that joins
    with underscores, as pandas' json_normalize(sep="_") does). Other tables are read as
    they are."""
    if table != EVENT_TABLE:
        return {}
    records: dict[str, list[tuple[str, str]]] = {}
    for column in columns:
        record, dot, field = column.partition(".")
        if not dot:
            record, field = _underscored(column)
        if record and field and "." not in field and record not in columns:
            records.setdefault(record, []).append((column, field))
    return records


# the event store's records and their fields (pipeline/udp/_event_schema.py)
_RECORDS = {f.name: {c.name for c in f.type} for f in ARROW_SCHEMA
            if pa.types.is_struct(f.type)}


def _underscored(column: str) -> tuple[str, str]:
    """(record, field) of a `record_field` name the event store has, else ("", "")."""
    for record, fields in _RECORDS.items():
        field = column[len(record) + 1:]
        if column.startswith(record + "_") and field in fields:
            return record, field
    return "", ""


def nested_relation(relation: str, records: dict[str, list[tuple[str, str]]]) -> str:
    """A subquery over `relation` with each record's flat columns nested into one STRUCT."""
    flat = ", ".join(f'"{c}"' for fields in records.values() for c, _ in fields)
    structs = ", ".join(
        "{" + ", ".join(f"'{field}': \"{column}\"" for column, field in fields) + f"}} AS "
        f'"{record}"' for record, fields in sorted(records.items()))
    return f"(SELECT * EXCLUDE ({flat}), {structs} FROM {relation})"


def nested_note(table: str, records: dict[str, list[tuple[str, str]]]) -> str:
    """The note naming the flat columns read as nested fields."""
    return (f"source table {table}: flat column(s) read as nested fields ("
            + ", ".join(c for fields in records.values() for c, _ in fields) + ")")


# an enrollment table without `role` (a source of students alone, converted from a system with
# no roles: a part of UDP's key it cannot fill): every enrollment is read as a Student's
ROLE_TABLE, ROLE, ROLE_ASSUMED = "course_section_enrollment", "role", "Student"
ROLE_NOTE = (f"has no column {ROLE}: every enrollment is read as a {ROLE_ASSUMED}'s (a source "
             "of students alone)")


def lacks_role(table: str, columns) -> bool:
    """Whether `table` is the enrollment table and has no role column."""
    return table == ROLE_TABLE and ROLE not in columns


def with_student_role(relation: str) -> str:
    """`relation` with a role column, every row a Student's."""
    return f"(SELECT *, '{ROLE_ASSUMED}' AS {ROLE} FROM {relation})"
