"""Load the generated Parquet into the embedded DuckDB warehouse.

Each table is declared from the registry (types, NOT NULL, descriptions as comments) and
filled from its Parquet files. Keys are not declared as constraints: DuckDB keeps key indexes
in memory, which would make the load's memory grow with FTE; the test suite checks them.
DuckDB's memory is capped so the load streams whatever the size.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline._errors import PipelineError
from pipeline._schema import Table

_SQL_TYPES = {"int64": "BIGINT", "float64": "DOUBLE", "string": "VARCHAR", "bool": "BOOLEAN",
              "date": "DATE", "timestamp": "TIMESTAMPTZ"}
WAREHOUSE_FILE = "warehouse.duckdb"
MEMORY_LIMIT = "256MB"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_statement(table: Table) -> str:
    """CREATE TABLE for a registry table (types, NOT NULL)."""
    columns = [f'"{c.name}" {_SQL_TYPES[c.type]}{"" if c.nullable else " NOT NULL"}'
               for c in table.columns]
    return f"CREATE TABLE {table.schema}.{table.name} (\n  " + ",\n  ".join(columns) + "\n)"


def load_warehouse(root: Path, tables: list[Table], on_table=None) -> Path:
    """Create `root/warehouse.duckdb` from the Parquet under `root`; returns its path."""
    path = root / WAREHOUSE_FILE
    with duckdb.connect(str(path)) as connection:
        connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        connection.execute("SET preserve_insertion_order = true")
        for schema in sorted({t.schema for t in tables}):
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        for table in tables:
            _load_table(connection, root, table)
            if on_table:
                on_table(table)
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
