"""A folder source's files: which table a file or folder holds and the DuckDB reader of it
(Parquet, partitioned Parquet, CSV/TSV, gzipped or not), and what an engine's error about
one says."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from distributions._column_case import refuse_case_clash
from pipeline.errors import SourceError
from pipeline.udp._registry import REGISTRY

UDP_DISTRIBUTIONS = "context_store_distributions"
# table files read as CSV (a tab- or semicolon-separated file too: DuckDB sniffs the delimiter)
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")


def quoted(name: str) -> str:
    """A name's text for a double-quoted SQL identifier (its quotes doubled)."""
    return name.replace('"', '""')


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def csv_reason(error: Exception) -> str:
    """The engine's first line, and for a CSV error the line saying what is wrong (DuckDB
    puts it after the quoted line, which holds a row and is never repeated: a note may be
    kept in the privacy manifest)."""
    lines = [line.strip() for line in str(error).strip().splitlines()]
    if lines and "CSV Error on Line" in lines[0]:
        reasons = [line for line in lines[1:4] if line and not line.startswith("Original")]
        return f"{lines[0]}: {reasons[0]}" if reasons else lines[0]
    return first_line(error)


def table_name(entry: Path) -> str:
    """The table a file or folder of the source holds: its name without a table suffix."""
    lower = entry.name.lower()
    for suffix in (".parquet", *_CSV_SUFFIXES):
        if lower.endswith(suffix):
            return entry.name[:-len(suffix)]
    return entry.name


def reader_of(entry: Path, string_columns: dict[str, list[str]]) -> tuple[str, str | None]:
    quoted = str(entry).replace("'", "''")
    if entry.is_dir():
        parts = sorted(entry.glob("*.parquet"))
        if parts:
            refuse_case_clash(str(parts[0]), _parquet_columns(parts[0]))
            return entry.name, f"read_parquet('{quoted}/*.parquet')"
        if any(entry.glob("*=*/*.parquet")):  # partitioned, as event_store/expanded is
            return entry.name, (f"read_parquet('{quoted}/*=*/*.parquet', "
                                "hive_partitioning = false)")
        if any(entry.rglob("*.parquet")):  # partitioned deeper (year=2024/month=09/…)
            return entry.name, (f"read_parquet('{quoted}/**/*.parquet', "
                                "hive_partitioning = false)")
        for suffix in _CSV_SUFFIXES:
            csvs = sorted(entry.glob(f"*{suffix}"))
            if csvs:
                strings = _present(csvs[0], string_columns.get(entry.name.lower(), []))
                return entry.name, _csv(f"{quoted}/*{suffix}", strings)
        return entry.name, None
    lower = entry.name.lower()
    if lower.endswith(".parquet"):
        refuse_case_clash(str(entry), _parquet_columns(entry))
        return entry.name[:-len(".parquet")], f"read_parquet('{quoted}')"
    for suffix in _CSV_SUFFIXES:  # DuckDB finds the delimiter and reads gzip itself
        if lower.endswith(suffix):
            name = entry.name[:-len(suffix)]
            return name, _csv(quoted, _present(entry, string_columns.get(name.lower(), [])))
    return entry.stem, None


def _parquet_columns(path: Path) -> list[str]:
    """The file's own column names (DuckDB renames the second of two that differ only in
    case); none when the footer cannot be read, which the view's creation then reports."""
    try:
        return pq.read_schema(path).names
    except (OSError, pa.ArrowException):
        return []


def _present(path: Path, columns: list[str]) -> list[str]:
    """The CSV header's spelling (in any case) of the columns of `columns` it names (DuckDB
    rejects type hints for absent columns), in a file separated by commas, semicolons, tabs
    or bars; two header names that differ only in case are refused."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:  # (a header in another encoding: its UDP names are ASCII whatever the rest)
        with opener(path, "rt", newline="", encoding="utf-8-sig", errors="replace") as file:
            line = file.readline()
        header = next(csv.reader([line], delimiter=_delimiter(line)), [])
    except (OSError, EOFError) as error:
        raise SourceError(f"{path}: cannot read the file: {error}") from None
    refuse_case_clash(str(path), header)
    spelled = {h.lower(): h for h in header}
    return [spelled[c] for c in dict.fromkeys(columns) if c in spelled]


def _delimiter(line: str) -> str:
    """The header line's delimiter, as DuckDB's sniffer finds it: of , ; tab and |, the one
    it holds most of (a TSV's header holds no comma, a semicolon file's few)."""
    return max(",;\t|", key=line.count)


def _csv(pattern: str, strings: list[str]) -> str:
    # types are sniffed (so text in a numeric column shows up as a wrong type), except the
    # registry's string columns: codes like "09" must keep their leading zeros
    hints = ", ".join(f"'{c}': 'VARCHAR'" for c in strings)
    return (f"read_csv('{pattern}', header=true, all_varchar=false, union_by_name=true"
            + (f", types={{{hints}}}" if hints else "") + ")")


def string_columns() -> dict[str, list[str]]:
    columns: dict[str, list[str]] = {}
    for table in REGISTRY:
        columns.setdefault(table.name, []).extend(
            c.name for c in table.columns if c.type == "string")
    columns[UDP_DISTRIBUTIONS] = ["entity", "field_name", "field_value", "distribution_type",
                                  "field_source", "dependency_field_names",
                                  "dependency_field_values"]
    return columns


def create_csv(connection, name: str, reader: str, entry: Path, notes: list[str]) -> None:
    """A CSV parsed once into a table (DuckDB spills it beyond the memory cap: a view would
    parse the text again for each of the profile's ~150 queries). Text that is not UTF-8 (a
    Windows spreadsheet's export) is read as Latin-1, where every byte is a character; rows
    with more or fewer fields than the header (which make DuckDB read each line as one
    field) are read with the missing fields empty and the extra ones left out; each with a
    note."""
    create = f'CREATE OR REPLACE TABLE "{quoted(name)}" AS SELECT * FROM '
    try:
        connection.execute(create + reader)
        if not _glued(connection, name):
            return
    except duckdb.InvalidInputException as error:
        if "not utf-8 encoded" not in str(error):
            raise
        notes.append(f"source file {entry.name}: read as Latin-1 (its text is not UTF-8)")
        latin = reader.replace("header=true", "header=true, encoding='latin-1'", 1)
        return create_csv(connection, name, latin, entry, notes)
    except duckdb.BinderException as error:
        if "COLUMN_TYPES" not in str(error):  # (type hints for columns it did not find)
            raise
    connection.execute(create + reader.replace("header=true", "header=true, null_padding="
                                               "true", 1))
    extra = [c for c in _columns_of(connection, name) if re.fullmatch(r"column\d+", c)]
    if extra:
        connection.execute(create + f'(SELECT * EXCLUDE ({", ".join(extra)}) FROM '
                                    f'"{quoted(name)}")')
    notes.append(f"source file {entry.name}: some rows hold more or fewer fields than its "
                 "header: read with the missing fields empty and the extra ones left out")


def _columns_of(connection, name: str) -> list[str]:
    return [row[0] for row in connection.execute(f'DESCRIBE "{quoted(name)}"').fetchall()]


def _glued(connection, name: str) -> bool:
    """Whether DuckDB read a CSV's every line as one field (its one column's name holds the
    header's delimiters): its sniffer's answer to ragged rows."""
    columns = _columns_of(connection, name)
    return len(columns) == 1 and any(d in columns[0] for d in ",;\t|")
