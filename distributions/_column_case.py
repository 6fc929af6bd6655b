"""Column names are case-insensitive in SQL (DuckDB and BigQuery alike): a source's
`Person_ID` is the profile's `person_id`. Every source folds names to lower case the same way,
says so in a note, and refuses two columns whose names differ in case alone (folded, one would
hide the other)."""

from __future__ import annotations

from pipeline.errors import SourceError


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
