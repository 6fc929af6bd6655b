"""The sides of an evaluation: the synthetic warehouse and the real source, each a profiling
source (`distributions/_sources.py`: a DuckDB file, a Parquet/CSV folder, or a BigQuery
dataset) that runs its own aggregate SQL in its own engine. No query spans both sides: every
figure is computed from each side's small aggregates.

The SQL is written once, in the subset DuckDB and BigQuery share, with a few spellings made
per engine: identifiers and three type names (`to_bigquery`), the MD5 digest behind the
halves and samples (`Side.md5`), quantiles (`Side.quantiles`), and two BigQuery functions
DuckDB lacks (`unix_micros`, `unix_date`), added to a DuckDB side as macros. Halves and
samples come from the digits of an MD5 digest of the row's key, which both engines compute
alike, so the same source gives the same figures in either engine.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from distributions._evaluate._real_side import as_profiled
from distributions._source_checks import CheckedSource
from distributions._sources import Source, open_source
from pipeline.errors import EvaluateError, SourceError
from pipeline.udp._sql_text import string_literal

WAREHOUSE_FILE = "warehouse.duckdb"
# the split-half salt: a fixed constant, so the same source splits the same way every time
SPLIT_SALT = 20260101
PERSON_KEY = "person_id"
# a course's content varies together (its activities, pages, dates): such rows are split by
# their course offering, so the floor holds the variation between courses too
COURSE_KEY = "course_offering_id"
# the floor is the mean over several random splits: one split alone is a noisy estimate.
# One hex digit of the key's digest holds the halves of all four (bit s: split s)
SPLITS = 4
SAMPLE_DIGITS = 7  # a sample keeps rows whose digest's first 7 hex digits fall under a cut
SAMPLE_ROWS = 200_000  # figures read at most about this many rows of a table (a sample)
HB, ORD = "_hb", "_ord"  # the split bits and sample order columns of keyed relations
# BigQuery functions that DuckDB spells otherwise, as DuckDB macros
_DUCKDB_MACROS = ("CREATE TEMP MACRO unix_micros(x) AS epoch_us(x)",
                  "CREATE TEMP MACRO unix_date(x) AS CAST(x AS DATE) - DATE '1970-01-01'")
# DuckDB type names as BigQuery spells them, in CAST(... AS type)
_CAST_TYPES = {"VARCHAR": "STRING", "DOUBLE": "FLOAT64", "BIGINT": "INT64"}
# BigQuery's column types as DuckDB names them (what the figures classify columns by)
_DUCKDB_TYPES = {"STRING": "VARCHAR", "INT64": "BIGINT", "FLOAT64": "DOUBLE", "BOOL": "BOOLEAN",
                 "NUMERIC": "DECIMAL", "BIGNUMERIC": "DECIMAL", "DATE": "DATE",
                 "DATETIME": "TIMESTAMP", "TIMESTAMP": "TIMESTAMP WITH TIME ZONE"}


def q(name: str) -> str:
    """A quoted SQL identifier (DuckDB's spelling; `to_bigquery` turns it into BigQuery's)."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A quoted SQL string literal."""
    return string_literal(text)


_TOKENS = re.compile(r"('(?:[^']|'')*')|(\"(?:[^\"]|\"\")*\")|([^'\"]+)")
_CAST = re.compile(r"\bAS (VARCHAR|DOUBLE|BIGINT)\)")


def to_bigquery(sql: str) -> str:
    """Our SQL in BigQuery's spelling: "identifiers" in backticks, DuckDB's type names in
    casts as BigQuery's. String literals are left as they are."""
    out = []
    for literal, ident, rest in _TOKENS.findall(sql):
        if literal:
            out.append(literal)
        elif ident:
            out.append("`" + ident[1:-1].replace('""', '"') + "`")
        else:
            out.append(_CAST.sub(lambda m: f"AS {_CAST_TYPES[m.group(1)]})", rest))
    return "".join(out)


@dataclass
class Side:
    """One side of the comparison: a source, its tables' columns and row counts."""

    name: str  # "real" or "synthetic"
    label: str  # what the user named (a path or bigquery://...)
    source: Source
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> col -> type
    rows_in: dict[str, int] = field(default_factory=dict)
    owned: bool = True  # whether evaluate opened the source (and closes it)
    _samples: dict[str, str] = field(default_factory=dict)  # table -> its sample relation
    _digests: dict[tuple, str] = field(default_factory=dict)  # (table, key) -> digests
    _sample_rows: dict[str, int] = field(default_factory=dict)
    # seconds of shared work, by kind: the row counts, and the temporary tables (digests,
    # sample, activity) that whichever family first needs makes for the others, so
    # report.json's `timings` names their cost apart from the family that paid it
    spent: dict[str, float] = field(default_factory=dict)

    @property
    def bigquery(self) -> bool:
        return self.source.dialect == "bigquery"

    def has(self, table: str, *columns: str) -> bool:
        """Whether the side holds `table` with every one of `columns`."""
        return table in self.columns and all(c in self.columns[table] for c in columns)

    def split_key(self, table: str, alias: str | None = None) -> str | None:
        """SQL of the key whose digest puts a row in a half and in a sample: the person for
        tables about people (the event store's `person.udp_id`), else the course offering
        for a course's content, else the first column (a table's own key comes first in
        UDP). `alias` qualifies it."""
        cols = self.columns.get(table, {})
        prefix = f"{alias}." if alias else ""
        for key in (PERSON_KEY, COURSE_KEY):
            if key in cols:
                return prefix + q(key)
        person = cols.get("person", "").upper()  # the event store's person record
        if person.startswith("STRUCT") and "UDP_ID" in person:
            return f"{prefix}{q('person')}.udp_id"
        first = next(iter(cols), None)
        return None if first is None else prefix + q(first)

    # ---- halves and samples ---------------------------------------------------------
    def md5(self, text_sql: str) -> str:
        """SQL of the MD5 digest of a text, as 32 lowercase hex digits."""
        return f"TO_HEX(MD5({text_sql}))" if self.bigquery else f"md5({text_sql})"

    def digits(self, key_sql: str, salt, count: int) -> str:
        """The first `count` hex digits of the salted digest of a key, as an integer."""
        # a null key is the empty text (BigQuery's concat of a null is null, DuckDB's is not)
        salted = f"concat(coalesce(CAST({key_sql} AS VARCHAR), ''), '#{SPLIT_SALT}-{salt}')"
        return f"CAST(concat('0x', substr({self.md5(salted)}, 1, {count})) AS BIGINT)"

    def split_bits(self, key_sql: str) -> str:
        """0 to 15: bit s is the row's half in split s."""
        return self.digits(key_sql, "split", 1)

    def half(self, key_sql: str, split: int = 0) -> str:
        """0 or 1: the half a row falls in, in split `split`."""
        return half_of(self.split_bits(key_sql), split)

    def order_key(self, key_sql: str) -> str:
        """A deterministic pseudo-random order of rows, the same in either engine."""
        return self.digits(key_sql, "sample", SAMPLE_DIGITS)

    def keyed(self, table: str, cut: int | None = None) -> str:
        """SQL of `table`'s flat columns with two more: `_hb`, the split bits of the row's
        split key, and `_ord`, its sample order (only rows with `_ord` below `cut`, when
        given). The digest is computed once per distinct key (`digests`) and joined back,
        not once per row."""
        base, key = self.source.relation(table), self.split_key(table, "t")
        digests = self.digests(table)
        if cut is not None:
            digests = f"(SELECT * FROM {digests} y WHERE {ORD} < {cut})"
        flat = ", ".join(f"t.{q(c)}" for c in self.flat_columns(table)) or "t.*"
        # a null key is the empty text's digest (computed here, as both engines would)
        null_hb, null_ord = null_digits("split", 1), null_digits("sample", SAMPLE_DIGITS)
        if cut is None:
            return (f"(SELECT {flat}, coalesce(d.{HB}, {null_hb}) {HB}, "
                    f"coalesce(d.{ORD}, {null_ord}) {ORD} "
                    f"FROM {base} t LEFT JOIN {digests} d ON d.k = {key})")
        # a sample: an inner join with the few digests kept, so few rows leave the scan
        sql = (f"SELECT {flat}, d.{HB}, d.{ORD} FROM {base} t "
               f"JOIN {digests} d ON d.k = {key}")
        if null_ord < cut:
            sql += (f" UNION ALL SELECT {flat}, {null_hb} {HB}, {null_ord} {ORD} "
                    f"FROM {base} t WHERE {key} IS NULL")
        return f"({sql})"

    def digests(self, table: str, key_sql: str | None = None) -> str:
        """A relation of the table's distinct non-null keys `k` (its split key, or
        `key_sql` over alias `t`) with their split bits `_hb` and sample order `_ord`: made
        once per table and key (a temporary table in DuckDB). Made apart from the filter on
        `_ord` that a sample puts on it: DuckDB pushes such a filter below the DISTINCT,
        which digests every row (31.5 M MD5s for a term of 20,000 FTE's events) instead of
        every key (~25,000 people)."""
        key = key_sql or self.split_key(table, "t")
        if (table, key) not in self._digests:
            self._digests[(table, key)] = self.materialize(
                f"digests_{len(self._digests)}",
                f"SELECT k, {self.split_bits('k')} {HB}, {self.order_key('k')} {ORD} "
                f"FROM (SELECT DISTINCT {key} k FROM {self.source.relation(table)} t) x "
                "WHERE k IS NOT NULL")
        return self._digests[(table, key)]

    def flat_columns(self, table: str) -> list[str]:
        """The table's columns that figures compare: records, lists and JSON documents
        are compared by no figure, so a sample leaves them out (and its scan reads less)."""
        return [c for c, kind in self.columns[table].items() if not unlike_values(c, kind)]

    def cut(self, table: str, limit: int) -> int | None:
        """The `_ord` below which about `limit` of the table's rows fall (None: all)."""
        n = self.rows_in.get(table, 0)
        return int(16 ** SAMPLE_DIGITS * limit / n) if n > limit else None

    def sample(self, table: str) -> str:
        """The table's deterministic sample of about SAMPLE_ROWS rows (all of a smaller
        table) with `_hb` and `_ord`: made once per evaluation (a temporary table in
        DuckDB), every smaller sample is a subset of it (`rel`)."""
        if table not in self._samples:
            cut = self.cut(table, SAMPLE_ROWS)
            self._samples[table] = self.materialize(
                f"sample_{len(self._samples)}", f"SELECT * FROM {self.keyed(table, cut)} k")
        return self._samples[table]

    def sampled_rows(self, table: str) -> int:
        """Rows in the table's sample."""
        if table not in self._sample_rows:
            self._sample_rows[table] = int(self.scalar(f"SELECT count(*) FROM "
                                                       f"{self.sample(table)} s"))
        return self._sample_rows[table]

    def materialize(self, name: str, sql: str) -> str:
        """A relation holding a query's result: a temporary table in DuckDB (computed once,
        read many times); in BigQuery, the query itself as a subquery."""
        if self.bigquery:
            return f"({sql})"
        table = q(f"__evaluate_{name}")
        start = time.perf_counter()
        self.source.connection.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
        kind = name.split("_")[0]
        self.spent[kind] = self.spent.get(kind, 0.0) + time.perf_counter() - start
        return table

    def rel(self, table: str, half: int | None = None, limit: int | None = None,
            split: int = 0) -> str:
        """SQL naming `table` in a FROM clause: whole, or one half (0 or 1) and/or a
        sample of about `limit` rows (with `_hb` and `_ord`), chosen by the digest of its
        split key (deterministic)."""
        if half is None and limit is None:
            return self.source.relation(table)
        conditions = [] if half is None else [f"{half_of(HB, split)} = {int(half)}"]
        cut = None if limit is None else self.cut(table, limit)
        if cut is not None:
            conditions.append(f"{ORD} < {cut}")
        fits = limit is not None and limit <= SAMPLE_ROWS
        source = self.sample(table) if fits else self.keyed(table)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return f"(SELECT * FROM {source} r{where})"

    # ---- queries --------------------------------------------------------------------
    def arrow(self, sql: str) -> pa.Table:
        """Run an aggregate (or bounded) query in the side's engine."""
        return self.source.query(to_bigquery(sql) if self.bigquery else sql)

    def rows(self, sql: str) -> list[tuple]:
        """A query's (small) result as tuples."""
        table = self.arrow(sql)
        return list(zip(*(c.to_pylist() for c in table.columns), strict=True))

    def scalar(self, sql: str):
        """The first value of the first row of a query."""
        result = self.rows(sql)
        return result[0][0] if result else None

    def frame(self, sql: str):
        """A bounded query's result as a pandas DataFrame (samples and aggregates only)."""
        return self.arrow(sql).to_pandas()

    def quantiles(self, exprs: list[str], relation: str, probs: list[float]) -> list[list]:
        """Exact quantiles (linear interpolation) of each expression over a relation, in
        one query: a list of `probs`' quantiles per expression."""
        if not exprs:
            return []
        if not self.bigquery:
            lists = ", ".join(f"quantile_cont({e}, {probs})" for e in exprs)
            return list(self.rows(f"SELECT {lists} FROM {relation}")[0])
        # BigQuery's exact percentile is an analytic function only
        values = ", ".join(f"{e} v{n}" for n, e in enumerate(exprs))
        picks = ", ".join(f"PERCENTILE_CONT(v{n}, {p}) OVER () q{n}_{i}"
                          for n in range(len(exprs)) for i, p in enumerate(probs))
        found = self.rows(f"SELECT {picks} FROM (SELECT {values} FROM {relation}) LIMIT 1")
        if not found:
            return [[] for _ in exprs]
        return [list(found[0][n * len(probs):(n + 1) * len(probs)]) for n in range(len(exprs))]

    def close(self) -> None:
        if self.owned and hasattr(self.source, "close"):
            self.source.close()


def half_of(bits_sql: str, split: int = 0) -> str:
    """0 or 1: the half in split `split`, from split bits (0 to 15)."""
    return f"MOD(CAST(FLOOR({bits_sql} / {1 << split}) AS BIGINT), 2)"


def null_digits(salt, count: int) -> int:
    """`Side.digits` of a null key (the empty text), as a number."""
    text = f"#{SPLIT_SALT}-{salt}".encode()
    return int(hashlib.md5(text).hexdigest()[:count], 16)


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


def open_side(name: str, spec, api_endpoint: str | None = None) -> Side:
    """A side from what the user named: a Source object, `bigquery://project.dataset`, a
    .duckdb file or a Parquet/CSV folder (the real source), or a run's output folder
    holding warehouse.duckdb (the synthetic warehouse)."""
    if not isinstance(spec, str):
        return _described(Side(name, spec.label, spec, owned=False))
    if name == "synthetic" and not spec.startswith("bigquery://"):
        path = Path(spec)
        if path.is_dir():
            path = path / WAREHOUSE_FILE
        if not path.is_file() or path.suffix not in (".duckdb", ".db"):
            raise EvaluateError(f"{spec}: no synthetic warehouse: expected a run's output "
                                f"folder holding {WAREHOUSE_FILE}, or a .duckdb file")
        spec_path = str(path)
    else:
        spec_path = spec
    try:
        source = open_source(spec_path, api_endpoint)
        if name == "real":  # read as `profile` reads it (text numbers, '?', spellings)
            source = as_profiled(source)
        side = Side(name, spec, source)
    except SourceError as error:  # said of this side
        raise EvaluateError(str(error).replace("the source", f"the {name} source", 1)) from None
    try:
        return _described(side)
    except BaseException:
        side.close()
        raise


def _described(side: Side) -> Side:
    """The side's tables, columns (DuckDB's type names) and row counts."""
    source = side.source
    if source.dialect == "duckdb":
        for statement in (*_DUCKDB_MACROS, "SET TimeZone = 'UTC'"):
            source.connection.execute(statement)
    for table, columns in source.tables().items():
        side.columns[table] = {c: _duckdb_type(t) if side.bigquery else t
                               for c, t in columns.items()}
    if isinstance(source, CheckedSource) and not side.bigquery:  # the types as read
        for table, relation in source.cleaned.items():
            if table in side.columns:
                side.columns[table] = source.read_types.get(table) or _types_of(
                    source, relation)
    if not side.columns:
        raise EvaluateError(f"{side.label}: no tables found")
    counts = " UNION ALL ".join(f"SELECT {lit(t)} t, count(*) n FROM {source.relation(t)}"
                                for t in side.columns)
    start = time.perf_counter()
    side.rows_in.update({t: int(n) for t, n in side.rows(counts)})
    side.spent["row_counts"] = time.perf_counter() - start
    return side


def _types_of(source: CheckedSource, relation: str) -> dict[str, str]:
    """A relation's column types (DuckDB's names), described."""
    described = source.connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {row[0]: row[1] for row in described}


def unlike_values(name: str, sql_type: str) -> bool:
    """Whether a column holds no values a figure compares: a record, list or map, or a
    JSON document written as text (the event store's `federated_session_json` and
    `extensions_json`). A JSON document is a record, not a category: its text spells out
    ids of the side's own rows (a Canvas request URL naming the course and page, an LTI
    launch naming the course and user), so no value is shared between two institutions
    and its top categories say nothing; and the documents are the most costly columns of
    the event store to read."""
    upper = sql_type.upper()
    if upper == "JSON" or (upper == "VARCHAR" and name.lower().endswith("_json")):
        return True
    return upper.startswith(("STRUCT", "MAP", "LIST", "UNION")) or upper.endswith("]")


def _duckdb_type(bigquery_type: str) -> str:
    upper = bigquery_type.upper()
    base = upper.split("<")[0].split("(")[0].strip()
    if base in ("STRUCT", "RECORD"):  # its fields kept: the event store's person.udp_id
        return "STRUCT" + upper[len(base):]
    if base == "ARRAY":
        return "LIST"
    return _DUCKDB_TYPES.get(base, upper)
