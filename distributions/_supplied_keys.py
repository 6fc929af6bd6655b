"""Key columns a source may leave out, and what stands in for them while it is read (a DuckDB
source; distributions/_source_checks.py reads through these relations):

- an enrollment's `role`, part of UDP's key: a source of students alone (converted from a
  system with no roles) reads every enrollment as a Student's (`with_student_role`);
- the one-column key of a table no other table points at (a result converted from a system
  that keys it by activity and student, as the Open University's studentAssessment does):
  each row is numbered, in the order of the MD5 of its text, so the same rows get the same
  numbers whatever order the engine reads them in. The numbers are never published: a key
  only counts rows and joins children, and such a table has none.

Each is named in a note. A key that other tables point at cannot be made up (its children
would not join): its absence stays an error.
"""

from __future__ import annotations

from distributions._column_case import ROLE, ROLE_NOTE, ROLE_TABLE, lacks_role, with_student_role


def supplied_columns(tables: dict[str, dict[str, str]], registry) -> dict[str, dict[str, str]]:
    """{table: {column: DuckDB type}} of the key columns the source lacks and gets."""
    found: dict[str, dict[str, str]] = {}
    if lacks_role(ROLE_TABLE, tables.get(ROLE_TABLE, {ROLE: ""})):
        found[ROLE_TABLE] = {ROLE: "VARCHAR"}
    # (a keymap table points at its entity's key, but is never read from a source)
    pointed_at = {fk.parent for table in registry if table.schema.endswith("entity")
                  for fk in table.foreign_keys}
    for table in registry:
        if table.schema.endswith("entity") and table.name in tables and \
                len(table.primary_key) == 1 and table.primary_key[0] not in tables[table.name] \
                and table.key not in pointed_at:
            found.setdefault(table.name, {})[table.primary_key[0]] = "BIGINT"
    return found


def with_supplied(tables: dict[str, dict[str, str]], supplied: dict) -> dict:
    """`tables` with the supplied columns listed."""
    return {name: {**columns, **supplied.get(name, {})} for name, columns in tables.items()}


def supplied_relation(relation: str, columns: dict[str, str]) -> str:
    """`relation` with its supplied columns."""
    for column in columns:
        relation = with_student_role(relation) if column == ROLE else (
            f'(SELECT *, ROW_NUMBER() OVER (ORDER BY md5(CAST(d AS VARCHAR))) AS "{column}" '
            f"FROM {relation} AS d)")
    return relation


def supplied_notes(supplied: dict[str, dict[str, str]]) -> list[str]:
    """A note per supplied column."""
    return [ROLE_NOTE if column == ROLE else
            f"source table {table} has no column {column} (its key, which no other table "
            "points at): each row is numbered as its own key (never published)"
            for table, columns in supplied.items() for column in columns]
