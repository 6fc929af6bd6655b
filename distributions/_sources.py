"""Profiling sources: where real tables live, found by their UDP names.

A source answers three questions — which tables and columns it has, how to name a table in
SQL, and what an aggregate query returns — so the estimators run the same SQL (with dialect
switches) inside DuckDB or BigQuery and never pull rows into Python.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import pyarrow as pa

from distributions._bigquery import BigQuerySource
from distributions._column_case import (
    flattened_fields,
    folded,
    nested_note,
    nested_relation,
    refuse_case_clash,
)
from distributions._source_files import (
    UDP_DISTRIBUTIONS,
    create_csv,
    csv_reason,
    first_line,
    quoted,
    reader_of,
    string_columns,
    table_name,
)
from pipeline.errors import SourceError
from pipeline.udp._registry import REGISTRY

# the tables without which no institution can be learned
REQUIRED = ("person", "academic_term", "course_offering", "course_section",
            "course_section_enrollment")
# event_store holds `expanded`, UDP's Caliper events (the event-rate model's source)
_SCHEMAS = ("context_store_entity", "main", "udp_distributions", "event_store")
_ZONED_NANOSECONDS = ("TIMESTAMPTZ_NS", "TIMESTAMP_NS WITH TIME ZONE")


@runtime_checkable
class Source(Protocol):
    """What the profiler needs of a source of UDP tables."""

    label: str
    dialect: str

    def tables(self) -> dict[str, dict[str, str]]:
        """UDP table name -> {column name: engine type name}."""

    def relation(self, table: str) -> str:
        """SQL text naming `table` in a FROM clause."""

    def query(self, sql: str) -> pa.Table:
        """Run an aggregate query in the source engine."""


class DuckDBSource:
    """Tables (or views) of one DuckDB connection, looked up by UDP name."""

    dialect = "duckdb"

    def __init__(self, connection: duckdb.DuckDBPyConnection, label: str,
                 relations: dict[str, str]):
        self.connection = connection
        self.label = label
        self._relations = relations
        self._tables: dict[str, dict[str, str]] | None = None
        self.notes: list[str] = []  # columns read under another name, for the profile's notes
        self.finalizer: weakref.finalize | None = None  # removes a scratch database file

    def tables(self) -> dict[str, dict[str, str]]:
        if self._tables is None:
            self._tables = {}
            for name, relation in list(self._relations.items()):
                columns = self._describe(name, relation)
                if columns is not None:
                    columns = self._nested(name, self._folded(name, columns))
                    self._tables[name] = self._zoned_to_microseconds(name, columns)
        return self._tables

    def _zoned_to_microseconds(self, name: str, columns: dict[str, str]) -> dict[str, str]:
        """Nanosecond timestamps with a time zone (Parquet's timestamp[ns, tz]) read as
        TIMESTAMP WITH TIME ZONE: DuckDB casts them to no other timestamp (TRY_CAST gives
        NULL), so every estimate would fail or lose them; a note says so."""
        zoned = [c for c, kind in columns.items() if kind.upper() in _ZONED_NANOSECONDS]
        if not zoned:
            return columns
        casts = ", ".join(f'CAST("{quoted(c)}" AS TIMESTAMPTZ) AS "{quoted(c)}"'
                          for c in zoned)
        self._relations[name] = f"(SELECT * REPLACE ({casts}) FROM {self._relations[name]})"
        self.notes.append(f"source table {name}: column(s) {', '.join(zoned)} read to the "
                          "microsecond (stored as nanosecond timestamps with a time zone)")
        return {c: "TIMESTAMP WITH TIME ZONE" if c in zoned else kind
                for c, kind in columns.items()}

    def _folded(self, name: str, columns: dict[str, str]) -> dict[str, str]:
        """The table's columns under lower-case names (SQL names are case-insensitive, so
        `Person_ID` is `person_id`; spaces around a name go too); the relation renames them
        and a note says so."""
        renamed = {c: folded(c) for c in columns if c != folded(c)}
        if not renamed:
            return columns
        refuse_case_clash(f"{self.label}, table {name}", list(columns))
        self._relations[name] = _renaming(self._relations[name], list(columns))
        self.notes.append(f"source table {name}: column names read in lower case ("
                          + ", ".join(f"{c!r} as {lower}" if c.strip() != c else
                                      f"{c} as {lower}" for c, lower in renamed.items()) + ")")
        return {folded(c): kind for c, kind in columns.items()}

    def _nested(self, name: str, columns: dict[str, str]) -> dict[str, str]:
        """A flat event table's `record.field` columns read as the nested records the
        estimates need (a CSV export cannot hold them: its event model was set aside)."""
        records = flattened_fields(name, list(columns))
        if not records:
            return columns
        self._relations[name] = nested_relation(self._relations[name], records)
        self.notes.append(nested_note(name, records))
        return self._describe(name, self._relations[name]) or columns

    def _describe(self, name: str, relation: str) -> dict[str, str] | None:
        """The table's columns; None (and a note) for a table the profiler never reads that
        cannot be read (a view over files that moved): only a UDP table's failure stops."""
        try:
            described = self.connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        except duckdb.Error as error:
            if not is_udp_name(name):
                del self._relations[name]
                self.notes.append(f"source table {name}: not read (not a UDP table, and it "
                                  f"cannot be read: {first_line(error)[:200]})")
                return None
            raise SourceError(f"{self.label}: cannot read table {name}: {first_line(error)}") \
                from None
        return {row[0]: str(row[1]) for row in described}

    def read_as_integers(self, table: str, column: str, example: str | None) -> None:
        """Read a key column stored as text as BIGINT, so that it joins its parent's integer
        keys: digits ('00123', a Parquet string column, a header-only CSV's VARCHAR) as
        their integer, any other text ('CS-101', digits beyond 64 bits: `example` is one, or
        None) as a negative
        number drawn from its text (the same in every table, and never a positive integer
        key); a note says so."""
        declared = self.tables()[table][column].strip('"')
        text = f'NULLIF(TRIM(CAST("{quoted(column)}" AS VARCHAR)), \'\')'
        self.read_through(table, column, f"CASE WHEN {text} IS NULL THEN NULL WHEN "
                          f"regexp_full_match({text}, '[-+]?[0-9]+([.]0*)?') AND TRY_CAST("
                          f"{text} AS BIGINT) IS NOT NULL THEN TRY_CAST({text} AS BIGINT) "
                          f"ELSE -1 - CAST(hash({text}) >> 2 AS BIGINT) END",
                          "BIGINT", f"column {column} read as integers (stored as {declared}"
                          + ("; keys that are not digits as numbers drawn from their text)"
                             if example is not None else ")"))  # (no key leaves the source)

    def read_through(self, table: str, column: str, sql: str, declared: str,
                     note: str) -> None:
        """Read `column` of `table` as the SQL expression `sql` (over the row as stored, alias
        d), now of type `declared`, added where the table has no such column; `note` says
        what changed."""
        self.tables()
        name = f'"{quoted(column)}"'
        select = f"* REPLACE ({sql} AS {name})" if column in self._tables[table] else \
            f"*, {sql} AS {name}"
        self._relations[table] = f"(SELECT {select} FROM {self._relations[table]} AS d)"
        self._tables[table][column] = declared
        self.notes.append(f"source table {table}: {note}")

    def forget(self, table: str, column: str, note: str) -> None:
        """Read `table` as if it had no `column` (one the profile cannot use), with a note."""
        del self.tables()[table][column]
        self.notes.append(f"source table {table}: {note}")

    def relation(self, table: str) -> str:
        self.tables()  # described first: a table with folded names is read through a rename
        return self._relations[table]

    def query(self, sql: str) -> pa.Table:
        try:
            return self.connection.sql(sql).to_arrow_table()
        except duckdb.Error as error:
            raise SourceError(f"{self.label}: {_missing_key(self, error)}") from None

    def close(self) -> None:
        self.connection.close()
        if self.finalizer is not None:
            self.finalizer()


def _renaming(relation: str, columns: list[str]) -> str:
    """A subquery over `relation` that selects every column under its lower-case name."""
    selects = ", ".join(f'"{quoted(c)}" AS "{quoted(folded(c))}"' for c in columns)
    return f"(SELECT {selects} FROM {relation})"


def _missing_key(source: DuckDBSource, error: Exception) -> str:
    """A query that failed on a column the source lacks names the table and column the way
    a user can act on (never the raw `Binder Error` about a query alias)."""
    found = re.search(r'does not have a column named "([^"]+)"', str(error))
    if found:
        column = found.group(1)
        for table, columns in sorted(source.tables().items()):
            if column not in columns and column in _registry_columns().get(table, ()):
                return f"table {table} has no column {column} (a key the profile joins on)"
    return f"query failed: {first_line(error)}"


def is_udp_name(name: str) -> bool:
    """Whether the profiler reads a table of this name (in any case): a registry table,
    Unizin's distributions table or the event store's `expanded`."""
    return name.lower() in {t.name for t in REGISTRY} | {UDP_DISTRIBUTIONS, "expanded"}


def _registry_columns() -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for table in REGISTRY:  # an entity and its keymap share a name: either's columns count
        columns.setdefault(table.name, set()).update(c.name for c in table.columns)
    return columns


def open_source(spec: str, api_endpoint: str | None = None) -> Source:
    """Open a profiling source: a .duckdb file, a folder of Parquet/CSV files (one per UDP
    table), or `bigquery://project.dataset` (through `api_endpoint` when given: an
    emulator)."""
    if spec.startswith("bigquery://"):
        return _bigquery(spec, api_endpoint)
    path = Path(spec)
    if path.is_dir():
        return _folder_source(path)
    if path.is_file() and path.suffix in (".duckdb", ".db"):
        return _duckdb_file(path)
    if not path.exists():
        raise SourceError(f"{spec}: cannot open the source: no such file or folder")
    raise SourceError(f"{spec}: cannot open the source: expected a .duckdb file, a folder of "
                      "Parquet/CSV files, or bigquery://project.dataset")


def _bigquery(spec: str, api_endpoint: str | None = None) -> Source:
    target = spec.removeprefix("bigquery://").strip("/")
    project, _, dataset = target.partition(".")
    if not project or not dataset:
        raise SourceError(f"{spec}: expected bigquery://project.dataset")
    return BigQuerySource(project, dataset, api_endpoint=api_endpoint)


MEMORY_LIMIT = "512MB"


def _bounded(connection):
    """Cap DuckDB's buffers: aggregates stream and spill, so profiling memory does not
    follow the size of the source."""
    connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    return connection


def _duckdb_file(path: Path) -> DuckDBSource:
    try:
        with open(path, "rb") as file:  # DuckDB would fetch its SQLite extension to open it
            sqlite = file.read(16) == b"SQLite format 3\x00"
    except OSError as error:
        raise SourceError(f"{path}: cannot open the source: {error.strerror}") from None
    if sqlite:
        raise SourceError(f"{path}: cannot open the source: a SQLite database, not DuckDB "
                          "(export its tables to Parquet or CSV files in a folder)")
    try:
        connection = _bounded(duckdb.connect(str(path), read_only=True))
        rows = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    except duckdb.Error as error:
        raise SourceError(f"{path}: cannot open the source: {first_line(error)}") from None
    found: list[tuple[str, str]] = []
    # the context store wins over a same-named table elsewhere (main, marts)
    for schema in _SCHEMAS:
        found += [(name, f'"{schema}"."{quoted(name)}"') for table_schema, name in rows
                  if table_schema == schema]
    return _with_names(DuckDBSource(connection, path.name, {}), found)


def _with_names(source: DuckDBSource, found: list[tuple[str, str]]) -> DuckDBSource:
    """`source` with its tables under their lower-case names (`PERSON.csv` is person, as
    `Person_ID` is person_id), the first found of a name kept — a lower-case spelling before
    any other — and a note for the tables read under another name."""
    renamed = []
    for name, relation in sorted(found, key=lambda item: item[0] != item[0].lower()):
        if name.lower() in source._relations:
            source.notes.append(f"source table {name}: not read (table {name.lower()} is "
                                "read from another table of that name)")
            continue
        source._relations[name.lower()] = relation
        if name != name.lower():
            renamed.append(f"{name} as {name.lower()}")
    if renamed:
        source.notes.append("source table names read in lower case (" + ", ".join(renamed)
                            + ")")
    return source


def _folder_source(path: Path) -> DuckDBSource:
    """One DuckDB view per table file or sub-folder: `person.parquet`, `person/*.parquet`,
    `person.csv`, or a partitioned folder such as `expanded/term_week=*/*.parquet`. A file
    of no UDP table that cannot be read (a stray backup, a dangling link) is a note."""
    connection, scratch = _folder_connection(path)
    try:
        source = _loaded(connection, path)
    except BaseException:
        connection.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    if scratch is not None:  # removed on close, or when the source is collected
        source.finalizer = weakref.finalize(source, shutil.rmtree, scratch, True)
    return source


def _loaded(connection, path: Path) -> DuckDBSource:
    """The folder's tables loaded into `connection`, a lower-case name first: DuckDB's
    names are case-insensitive, so of `person.parquet` and `PERSON.csv` one is read (and
    the other named in a note)."""
    found: list[tuple[str, str]] = []
    unread: list[str] = []
    notes: list[str] = []
    types = string_columns()
    for entry in sorted(path.iterdir(), key=lambda e: (e.name != e.name.lower(), e.name)):
        try:
            name = _load_entry(connection, path, entry, types,
                               {n.lower() for n, _ in found}, notes)
        except SourceError as error:
            if is_udp_name(table_name(entry)):
                raise
            unread.append(f"source file {entry.name}: not read (not a UDP table, and "
                          f"{str(error).split(': ', 1)[-1][:200]})")
            continue
        if name:
            found.append((name, f'"{quoted(name)}"'))
    if not found:
        raise SourceError(f"{path}: cannot open the source: no .parquet or .csv tables found")
    source = _with_names(DuckDBSource(connection, path.name, {}), found)
    source.notes += notes + unread
    return source


def _folder_connection(path: Path) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """An in-memory database, or for a folder holding CSV files one in a scratch file (and
    its folder): a CSV is parsed once into a table, which on disk DuckDB keeps compressed
    and reads column by column, where an in-memory table past the memory cap was spilled
    and read back whole: a 1.4 GB event CSV (10.5 M rows) profiled in 29 s, not 156 s."""
    if not any(path.rglob("*.csv")):
        return _bounded(duckdb.connect()), None
    scratch = tempfile.mkdtemp(prefix="campus-synth-source-")
    try:
        return _bounded(duckdb.connect(str(Path(scratch) / "source.duckdb"))), scratch
    except duckdb.Error:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _load_entry(connection, path: Path, entry: Path, types: dict, loaded: set[str],
                notes: list[str]):
    """Create the table or view of one file or folder of the source; its name, or None when
    it holds no table (or one already loaded). A CSV whose text is not UTF-8 (a Windows
    spreadsheet's export) is read as Latin-1, with a note: every byte is a character there."""
    name, reader = reader_of(entry, types)
    if reader is not None and name.lower() in loaded:
        notes.append(f"source file {entry.name}: not read (table {name.lower()} is read from "
                     "another file of that name)")
    if reader is None and entry.is_dir() and is_udp_name(name):
        notes.append(f"source folder {entry.name}: holds no .parquet or .csv file: table "
                     f"{name.lower()} is read as not in the source")
    if reader is None or name.lower() in loaded:
        return None
    if entry.is_file() and entry.stat().st_size == 0:  # an export of an empty table
        if name.lower() in REQUIRED:
            raise SourceError(f"{path}: table {name.lower()} is empty ({entry.name} has 0 "
                              "bytes)")
        notes.append(f"source file {entry.name}: empty (0 bytes): table {name.lower()} is "
                     "read as not in the source")
        return None
    try:
        if reader.startswith("read_csv"):
            create_csv(connection, name, reader, entry, notes)
        else:
            connection.execute(f'CREATE VIEW "{quoted(name)}" AS SELECT * FROM {reader}')
    except duckdb.Error as error:
        raise SourceError(f"{path}: cannot read table {name} ({entry.name}): "
                          f"{csv_reason(error)}") from None
    return name
