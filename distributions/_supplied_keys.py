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

Missing values of a column UDP never leaves null are read here too: where the column's option
set has a value for them (NoData: role_status, sex, an academic load; those whose default
distribution lists it), each reads as NoData; elsewhere they are left out of its shares. A
conversion that wrote role_status only for the withdrawn (null for the rest) was profiled as
NoData but compared, by `evaluate --real`, as nulls: role_status 1-TVD 0.31. Reading it once
here, both see the same values; each column says in a note how many it read so.
"""

from __future__ import annotations

import json
from functools import lru_cache

from distributions._column_case import ROLE, ROLE_ASSUMED, ROLE_NOTE, ROLE_TABLE, lacks_role
from distributions._privacy import NODATA
from distributions._profile import load_profile
from distributions._source_files import quoted


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
    _missing_values(source, registry)


def _missing_values(source, registry) -> None:
    """Nulls of the never-null text columns: NoData where the column's option set has it
    (read through, with a note), else a note that they are left out of its shares."""
    tables, listing = source.tables(), _lists_nodata()
    for table in registry:
        columns = [c.name for c in table.columns if c.type == "string" and not c.nullable
                   and c.name in tables.get(table.name, {})
                   and (table.name, c.name) in listing]
        if not table.schema.endswith("entity") or not columns:
            continue
        counts = source.query("SELECT COUNT(*) AS n, " + ", ".join(
            f'COUNT(*) - COUNT("{quoted(c)}") AS "{quoted(c)}"' for c in columns)
            + f" FROM {source.relation(table.name)} AS d").to_pylist()[0]
        for column in (c for c in columns if counts[c]):
            share = f"{counts[column]:,} of {counts['n']:,} rows"
            if listing[table.name, column]:
                source.read_through(table.name, column, f'COALESCE(CAST(d."{quoted(column)}" '
                                    f"AS VARCHAR), '{NODATA}')", "VARCHAR",
                                    f"{column} is missing in {share}: read as {NODATA} (UDP's "
                                    "value for what the source does not know; never null)")
            else:
                source.notes.append(f"source table {table.name}: {column} is missing in "
                                    f"{share}: left out of its shares (never null in UDP)")


@lru_cache(maxsize=1)
def _lists_nodata() -> dict[tuple[str, str], bool]:
    """Each (table, column) the default profile describes: whether its values list NoData."""
    return {(table, column): NODATA in json.dumps(spec)
            for table, part in load_profile()["tables"].items()
            for column, spec in part.get("columns", {}).items()}
