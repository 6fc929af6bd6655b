"""Load the generated Parquet into the embedded DuckDB warehouse.

Each table is declared from the registry (types, NOT NULL, descriptions as comments) and
filled from its Parquet files. Keys are not declared as constraints: DuckDB keeps key indexes
in memory, which would make the load's memory grow with FTE; the test suite checks them.
DuckDB's memory is capped so the load streams whatever the size.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.errors import PipelineError
from pipeline.udp import _event_schema as events
from pipeline.udp._schema import Table

_SQL_TYPES = {"int64": "BIGINT", "float64": "DOUBLE", "string": "VARCHAR", "bool": "BOOLEAN",
              "date": "DATE", "timestamp": "TIMESTAMPTZ"}
WAREHOUSE_FILE = "warehouse.duckdb"
MEMORY_LIMIT = "256MB"
EVENT_PARTS = 8  # the event store loads in this many inserts, so its progress shows


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_statement(table: Table) -> str:
    """CREATE TABLE for a registry table (types, NOT NULL)."""
    columns = [f'"{c.name}" {_SQL_TYPES[c.type]}{"" if c.nullable else " NOT NULL"}'
               for c in table.columns]
    return f"CREATE TABLE {table.schema}.{table.name} (\n  " + ",\n  ".join(columns) + "\n)"


def load_warehouse(root: Path, tables: list[Table],
                   progress: Callable[[float, int], None] | None = None) -> Path:
    """Create `root/warehouse.duckdb` from the Parquet under `root`; returns its path.

    `progress(done, total)` is called as tables are loaded (the event store counts as one
    table, done in fractions as its parts load)."""
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
                       f"{_quote(table.description)}")
    for column in table.columns:
        if column.description:
            connection.execute(f'COMMENT ON COLUMN {table.schema}.{table.name}."{column.name}" '
                               f"IS {_quote(column.description)}")
    files = sorted((root / table.schema / table.name).glob("part-*.parquet"))
    if not files:
        return
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    listing = "[" + ", ".join(_quote(str(f)) for f in files) + "]"
    try:
        connection.execute(f"INSERT INTO {table.schema}.{table.name} ({names}) "
                           f"SELECT {names} FROM read_parquet({listing})")
    except duckdb.Error as error:
        raise PipelineError(f"loading {table.qualified_name} into DuckDB: {error}") from None


def _sql_type(kind: pa.DataType) -> str:
    """DuckDB type of an Arrow type (the event store's nested records become STRUCTs)."""
    if pa.types.is_struct(kind):
        return "STRUCT(" + ", ".join(f'"{f.name}" {_sql_type(f.type)}' for f in kind) + ")"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ"
    return {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.float64(): "DOUBLE",
            pa.date32(): "DATE", pa.int32(): "INTEGER", pa.bool_(): "BOOLEAN"}[kind]


def events_create_statement() -> str:
    """CREATE TABLE for event_store.expanded, from its Arrow schema."""
    columns = [f'"{f.name}" {_sql_type(f.type)}{"" if f.nullable else " NOT NULL"}'
               for f in events.ARROW_SCHEMA]
    return f"CREATE TABLE {events.QUALIFIED_NAME} (\n  " + ",\n  ".join(columns) + "\n)"


def _load_events(connection, root: Path, progress: Callable[[float], None]) -> None:
    """event_store.expanded from its week-of-term folders (when the run generated events), in
    `EVENT_PARTS` inserts of consecutive weeks; `progress` gets the fraction loaded."""
    folder = root / events.SCHEMA_NAME / events.TABLE_NAME
    if not folder.is_dir():
        return
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {events.SCHEMA_NAME}")
    connection.execute(events_create_statement())
    connection.execute(f"COMMENT ON TABLE {events.QUALIFIED_NAME} IS "
                       f"{_quote(events.DESCRIPTION)}")
    for name, text in events.DESCRIPTIONS.items():
        connection.execute(f'COMMENT ON COLUMN {events.QUALIFIED_NAME}."{name}" IS {_quote(text)}')
    files = sorted(folder.glob("term_week=*/part-*.parquet"))
    # events have no row order to keep (each file is ordered by date); not keeping it
    # lets DuckDB insert in parallel, twice as fast
    connection.execute("SET preserve_insertion_order = false")
    size = -(-len(files) // EVENT_PARTS)
    for start in range(0, len(files), size or 1):
        listing = "[" + ", ".join(_quote(str(f)) for f in files[start:start + size]) + "]"
        try:
            connection.execute(f"INSERT INTO {events.QUALIFIED_NAME} SELECT * FROM "
                               f"read_parquet({listing}, hive_partitioning = false)")
        except duckdb.Error as error:
            raise PipelineError(f"loading {events.QUALIFIED_NAME} into DuckDB: "
                                f"{error}") from None
        progress(min(start + size, len(files)) / len(files))
