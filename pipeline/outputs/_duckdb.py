"""Load the generated Parquet into the embedded DuckDB warehouse.

Each context-store table is declared from the registry (types, NOT NULL, descriptions as
comments) and filled from its Parquet files; the event store is a view over its Parquet in
place (`event_view_statement`), re-pointed when the folder moves (`point_event_store`).
Keys are not declared as constraints: DuckDB keeps key indexes in memory, which would make
the load's memory grow with FTE; the test suite checks them.
DuckDB's memory is capped so the load streams whatever the size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from pipeline.errors import PipelineError
from pipeline.udp import _event_schema as events
from pipeline.udp._schema import Table
from pipeline.udp._sql_text import string_literal

_SQL_TYPES = {"int64": "BIGINT", "float64": "DOUBLE", "string": "VARCHAR", "bool": "BOOLEAN",
              "date": "DATE", "timestamp": "TIMESTAMPTZ"}
WAREHOUSE_FILE = "warehouse.duckdb"
MEMORY_LIMIT = "256MB"


def create_statement(table: Table) -> str:
    """CREATE TABLE for a registry table (types, NOT NULL)."""
    columns = [f'"{c.name}" {_SQL_TYPES[c.type]}{"" if c.nullable else " NOT NULL"}'
               for c in table.columns]
    return f"CREATE TABLE {table.schema}.{table.name} (\n  " + ",\n  ".join(columns) + "\n)"


def load_warehouse(root: Path, tables: list[Table],
                   progress: Callable[[float, int], None] | None = None) -> Path:
    """Create `root/warehouse.duckdb` from the Parquet under `root`; returns its path.

    `progress(done, total)` is called as tables are loaded (the event store's view counts
    as one table)."""
    path = root / WAREHOUSE_FILE
    progress = progress or (lambda done, total: None)
    total = len(tables) + (root / events.SCHEMA_NAME / events.TABLE_NAME).is_dir()
    with duckdb.connect(str(path)) as connection:
        connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        connection.execute("SET preserve_insertion_order = true")
        for schema in sorted({t.schema for t in tables}):
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for done, table in enumerate(tables, 1):
            _load_table(connection, root, table)
            progress(done, total)
        _load_events(connection, root, lambda part: progress(len(tables) + part, total))
    return path


def _load_table(connection, root: Path, table: Table) -> None:
    connection.execute(create_statement(table))
    connection.execute(f"COMMENT ON TABLE {table.schema}.{table.name} IS "
                       f"{string_literal(table.description)}")
    for column in table.columns:
        if column.description:
            connection.execute(f'COMMENT ON COLUMN {table.schema}.{table.name}."{column.name}" '
                               f"IS {string_literal(column.description)}")
    files = sorted((root / table.schema / table.name).glob("part-*.parquet"))
    if not files:
        return
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    listing = "[" + ", ".join(string_literal(str(f)) for f in files) + "]"
    try:
        connection.execute(f"INSERT INTO {table.schema}.{table.name} ({names}) "
                           f"SELECT {names} FROM read_parquet({listing})")
    except duckdb.Error as error:
        raise PipelineError(f"loading {table.qualified_name} into DuckDB: {error}") from None


def _load_events(connection, root: Path, progress: Callable[[float], None]) -> None:
    """event_store.expanded as a view over its week-of-term files (when the run generated
    events): the events are not copied, see `event_view_statement`."""
    folder = root / events.SCHEMA_NAME / events.TABLE_NAME
    if not folder.is_dir():
        return
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {events.SCHEMA_NAME}")
    _create_event_view(connection, root, _event_comments())
    progress(1.0)


def event_view_statement(root: Path) -> str:
    """CREATE OR REPLACE VIEW event_store.expanded over the Parquet of the run in `root`.

    A view, not a copy: copying 63 M events into DuckDB took longer than generating them
    (0.11 M events per CPU second, the file holding them at 1.9x their Parquet size), and
    the marts read the Parquet nearly as fast as DuckDB's own columns (benchmarks/README.md).
    The path is absolute: DuckDB resolves a relative one against the reading process's
    working directory, so a user's `duckdb.connect(".../warehouse.duckdb")` from anywhere
    reads it. A folder that moves is re-pointed by `point_event_store`."""
    columns = ", ".join(f'"{name}"' for name in _event_columns(root))
    # the file's own event_date column, not the one hive partitioning would add from the path
    return (f"CREATE OR REPLACE VIEW {events.QUALIFIED_NAME} AS SELECT {columns} FROM "
            f"read_parquet({_event_pattern(root)}, hive_partitioning = false)")


def _event_columns(root: Path) -> list[str]:
    """The event store's columns, then the source event table's own ones a run of its
    profile added (/events/extras), as the first event file holds them."""
    names = list(events.ARROW_SCHEMA.names)
    folder = Path(root).resolve() / events.SCHEMA_NAME / events.TABLE_NAME
    first = next(iter(sorted(folder.glob("term_week=*/part-*.parquet"))), None)
    if first is not None:
        names += [n for n in pq.read_schema(first).names if n not in names]
    return names


def _event_pattern(root: Path) -> str:
    """The quoted absolute glob of the event store's files under `root`."""
    folder = Path(root).resolve() / events.SCHEMA_NAME / events.TABLE_NAME
    return string_literal(str(folder / "term_week=*" / "part-*.parquet"))


def _event_comments() -> dict[str | None, str]:
    """The view's comment (key None) and its columns' comments, from the event schema."""
    return {None: events.DESCRIPTION, **events.DESCRIPTIONS}


def _create_event_view(connection, root: Path, comments: dict[str | None, str]) -> None:
    try:
        connection.execute(event_view_statement(root))
    except duckdb.Error as error:
        raise PipelineError(f"{root / events.SCHEMA_NAME / events.TABLE_NAME}: cannot read "
                            f"the event store's Parquet: {error}") from None
    for name, text in comments.items():
        target = (f"VIEW {events.QUALIFIED_NAME}" if name is None
                  else f'COLUMN {events.QUALIFIED_NAME}."{name}"')
        connection.execute(f"COMMENT ON {target} IS {string_literal(text)}")


def point_event_store(warehouse: Path) -> str:
    """Point event_store.expanded at the Parquet beside `warehouse` (the folder it is in now)
    when it points elsewhere, e.g. after the folder moved; keeps the view's comments. Says
    what it found: "relinked", "in place" (it read that Parquet already), "none" (no view and
    no Parquet: a warehouse without events), "no parquet" (the view, but no
    event_store/expanded beside the file: moved without it) or "no view". Needs a writable
    warehouse."""
    root = Path(warehouse).resolve().parent
    folder = (root / events.SCHEMA_NAME / events.TABLE_NAME).is_dir()
    with duckdb.connect(str(warehouse)) as connection:
        found = connection.execute(
            "SELECT sql, comment FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
            [events.SCHEMA_NAME, events.TABLE_NAME]).fetchall()
        if not (found and folder):
            return {(False, False): "none", (True, False): "no parquet",
                    (False, True): "no view"}[(bool(found), folder)]
        if _event_pattern(root) in found[0][0]:
            return "in place"
        comments = {None: found[0][1] or events.DESCRIPTION, **dict(connection.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = ? AND "
            "table_name = ? AND comment IS NOT NULL",
            [events.SCHEMA_NAME, events.TABLE_NAME]).fetchall())}
        _create_event_view(connection, root, comments)
    return "relinked"
