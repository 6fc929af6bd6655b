"""The evaluation engine: one DuckDB connection that sees the real source and the synthetic
warehouse side by side, both read-only, so every figure is one aggregate query.

A side is a set of tables found by their UDP names (the context store wins over a same-named
table elsewhere, as in `distributions/_sources.py`). Each table can be read whole, as one of
the two halves of the split-half noise floor, or as a bounded deterministic sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from distributions._sources import _SCHEMAS, _first_line, _reader
from pipeline.errors import DistributionsError, EvaluateError

MEMORY_LIMIT = "1GB"
WAREHOUSE_FILE = "warehouse.duckdb"
# the split-half salt: a fixed constant, so the same source splits the same way every time
SPLIT_SALT = 20260101
PERSON_KEY = "person_id"
# a course's content varies together (its activities, pages, dates): such rows are split by
# their course offering, so the floor holds the variation between courses too
COURSE_KEY = "course_offering_id"


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


@dataclass
class Side:
    """One side of the comparison: a catalog alias in the engine and its tables."""

    name: str  # "real" or "synthetic"
    label: str  # what the user named (a path)
    relations: dict[str, str] = field(default_factory=dict)  # table -> SQL relation
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> col -> type
    rows: dict[str, int] = field(default_factory=dict)

    def has(self, table: str, *columns: str) -> bool:
        """Whether the side holds `table` with every one of `columns`."""
        return table in self.columns and all(c in self.columns[table] for c in columns)

    def split_key(self, table: str) -> str | None:
        """The column whose hash puts a row in a half: the person for tables about people,
        else the course offering for a course's content, else the first column (a table's
        own key comes first in UDP)."""
        cols = self.columns.get(table, {})
        for key in (PERSON_KEY, COURSE_KEY):
            if key in cols:
                return key
        return next(iter(cols), None)

    def rel(self, table: str, half: int | None = None, limit: int | None = None,
            split: int = 0) -> str:
        """SQL naming `table` in a FROM clause: whole, one half (0 or 1), and/or a sample
        of about `limit` rows chosen by a hash of its split key (deterministic)."""
        base, conditions = self.relations[table], []
        key = self.split_key(table)
        if half is not None:
            conditions.append(f"{half_expr(q(key), split)} = {int(half)}")
        n = self.rows.get(table, 0)
        if limit is not None and n > limit:
            conditions.append(f"{salted(q(key), 'sample')} % 1000003 "
                              f"< {int(1000003 * limit / n)}")
        if not conditions:
            return base
        return f"(SELECT * FROM {base} WHERE {' AND '.join(conditions)})"


def half_expr(column_sql: str, split: int = 0) -> str:
    """0 or 1: the half a row falls in, from a salted hash of its split key (each split
    has its own salt)."""
    return f"({salted(column_sql, split)} % 2)"


def salted(column_sql: str, salt) -> str:
    """A hash of a value and a salt. DuckDB's hash(x, salt) only flips fixed bits of
    hash(x), so two salts would give the same halves: the salt is hashed as text with it."""
    return f"hash(concat({column_sql}, '#{SPLIT_SALT}-{salt}'))"


# the floor is the mean over several random splits: one split alone is a noisy estimate
SPLITS = 4


def split_select(key_sql: str) -> str:
    """SELECT item `hb`: the row's half in every split, as bits (bit s = half in split s),
    so one aggregation counts the halves of all splits at once."""
    return " + ".join(f"{1 << s} * {half_expr(key_sql, s)}" for s in range(SPLITS)) + " hb"


def split_sets(*dims: str) -> str:
    """GROUPING SETS counting `dims` by the split bits (one set)."""
    return "GROUPING SETS ((" + ", ".join(("hb", *dims)) + "))"


def split_rows(rows: list[tuple]):
    """(split, half, rest of the row) for every split, from rows whose first value is the
    split bits `hb`: counts of one (split, half) come in several rows, to be added up."""
    for row in rows:
        bits = int(row[0])
        for split in range(SPLITS):
            yield split, (bits >> split) & 1, row[1:]


class Engine:
    """The DuckDB connection of one evaluation and the sides it compares."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        self.sides: dict[str, Side] = {}

    def rows(self, sql: str) -> list[tuple]:
        """Run an aggregate query; its (small) result as tuples."""
        try:
            return self.con.execute(sql).fetchall()
        except duckdb.Error as error:
            raise DistributionsError(f"evaluate: query failed: {_first_line(error)}\n{sql}") \
                from None

    def scalar(self, sql: str):
        """The first value of the first row of a query."""
        result = self.rows(sql)
        return result[0][0] if result else None

    def frame(self, sql: str):
        """A bounded query's result as a pandas DataFrame (samples and aggregates only)."""
        try:
            return self.con.execute(sql).df()
        except duckdb.Error as error:
            raise DistributionsError(f"evaluate: query failed: {_first_line(error)}") from None

    def attach_synthetic(self, spec: str) -> Side:
        """The warehouse of a run: its folder (holding warehouse.duckdb) or the file."""
        path = Path(spec)
        if path.is_dir():
            path = path / WAREHOUSE_FILE
        if not path.is_file():
            raise EvaluateError(f"{spec}: no synthetic warehouse: expected a run's output "
                                f"folder holding {WAREHOUSE_FILE}, or a .duckdb file")
        return self._attach_duckdb("synthetic", spec, path)

    def attach_real(self, spec: str, string_hints: dict[str, dict[str, str]]) -> Side:
        """The real source: a .duckdb file or a folder of Parquet/CSV tables."""
        path = Path(spec)
        if spec.startswith("bigquery://"):
            raise EvaluateError(f"{spec}: evaluate reads DuckDB files and Parquet/CSV folders; "
                                "export the BigQuery tables to Parquet first")
        if path.is_dir():
            return self._attach_folder(spec, path, string_hints)
        if path.is_file() and path.suffix in (".duckdb", ".db"):
            return self._attach_duckdb("real", spec, path)
        if not path.exists():
            raise EvaluateError(f"{spec}: cannot open the real source: no such file or folder")
        raise EvaluateError(f"{spec}: cannot open the real source: expected a .duckdb file or "
                            "a folder of Parquet/CSV files")

    def _attach_duckdb(self, alias: str, spec: str, path: Path) -> Side:
        try:
            self.con.execute(f"ATTACH {lit(str(path))} AS {alias} (READ_ONLY)")
            found = self.con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                f"WHERE table_catalog = {lit(alias)}").fetchall()
        except duckdb.Error as error:
            raise EvaluateError(f"{spec}: cannot open {path.name}: {_first_line(error)}") \
                from None
        relations: dict[str, str] = {}
        for schema in reversed(_SCHEMAS):  # the context store wins, as in the profiler
            for table_schema, name in found:
                if table_schema == schema:
                    relations[name] = f"{alias}.{q(schema)}.{q(name)}"
        return self._side(alias, spec, relations)

    def _attach_folder(self, spec: str, path: Path, hints: dict[str, dict[str, str]]) -> Side:
        self.con.execute("CREATE SCHEMA real_views")
        relations = {}
        for entry in sorted(path.iterdir()):
            name, reader = _reader(entry, {t: list(c) for t, c in hints.items()})
            if reader is None or name in relations:
                continue
            try:
                self.con.execute(f"CREATE VIEW real_views.{q(name)} AS SELECT * FROM {reader}")
            except duckdb.Error as error:
                raise EvaluateError(f"{spec}: cannot read table {name} ({entry.name}): "
                                    f"{_first_line(error)}") from None
            relations[name] = f"real_views.{q(name)}"
        if not relations:
            raise EvaluateError(f"{spec}: no .parquet or .csv tables found")
        return self._side("real", spec, relations)

    def _side(self, alias: str, spec: str, relations: dict[str, str]) -> Side:
        side = Side(alias, spec, relations)
        for name, relation in relations.items():
            try:
                described = self.con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
                side.rows[name] = self.con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
            except duckdb.Error as error:
                raise EvaluateError(f"{spec}: cannot read table {name}: {_first_line(error)}") \
                    from None
            side.columns[name] = {row[0]: str(row[1]) for row in described}
        self.sides[alias] = side
        return side

    def close(self) -> None:
        self.con.close()


def string_hints(side: Side) -> dict[str, dict[str, str]]:
    """The synthetic side's text columns: a CSV source reads them as text too (codes such as
    "09" keep their leading zeros), so both sides compare like with like."""
    return {t: {c: k for c, k in cols.items() if k == "VARCHAR"}
            for t, cols in side.columns.items()}
