"""Key columns a source may leave out, and what stands in for them while it is read (a DuckDB
source, through its `read_through`, before distributions/_source_checks.py checks it):

- an enrollment's `role`, part of UDP's key: a source of students alone (converted from a
  system with no roles) reads every enrollment as a Student's (a BigQuery source does the
  same itself: `with_student_role`);
- the one-column key of a table no other table points at (a result converted from a system
  that keys it by activity and student, as the Open University's studentAssessment does):
  each row is numbered, in the order of the MD5 of its text, so the same rows get the same
  numbers whatever order the engine reads them in. The numbers are never published: a key
  only counts rows and joins children, and such a table has none.

Each is named in a note. A key that other tables point at cannot be made up (its children
would not join): its absence stays an error.
"""

from __future__ import annotations

from distributions._column_case import ROLE, ROLE_ASSUMED, ROLE_NOTE, ROLE_TABLE, lacks_role


def supply_keys(source, registry) -> None:
    """Read each key column `source` (a DuckDB source) lacks through what stands in for it,
    with a note (`read_through`: the relation and the listed columns change together)."""
    tables = source.tables()
    if lacks_role(ROLE_TABLE, tables.get(ROLE_TABLE, {ROLE: ""})):
        source.read_through(ROLE_TABLE, ROLE, f"'{ROLE_ASSUMED}'", "VARCHAR", ROLE_NOTE)
    # (a keymap table points at its entity's key, but is never read from a source)
    pointed_at = {fk.parent for table in registry if table.schema.endswith("entity")
                  for fk in table.foreign_keys}
    for table in registry:
        if table.schema.endswith("entity") and table.name in tables and \
                len(table.primary_key) == 1 and table.primary_key[0] not in tables[table.name] \
                and table.key not in pointed_at:
            key = table.primary_key[0]
            source.read_through(table.name, key,
                                "ROW_NUMBER() OVER (ORDER BY md5(CAST(d AS VARCHAR)))", "BIGINT",
                                f"has no column {key} (its key, which no other table points "
                                "at): each row is numbered as its own key (never published)")
