"""What every metric family needs: the engine, the two sides, the keys, the profile, and how
each compared column is read (its kind, its top categories, its bins)."""

from __future__ import annotations

from dataclasses import dataclass, field

from distributions._evaluate._keys import Keys
from distributions._evaluate._sql import Side, lit, q, unlike_values
from distributions._privacy import sensitive_name

TOP_CATEGORIES = 20  # the rest of a categorical column is one "(other)" category
BINS = 10  # numeric columns are binned at the reference's deciles
FREE_TEXT_DISTINCT = 0.5  # text columns more distinct than this share are free text or ids
NULL, OTHER = "(null)", "(other)"
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL")


@dataclass
class ColumnInfo:
    """How one column is compared: `categorical` (by its categories), `numeric` or
    `temporal` (by KS on its values and by its deciles as categories)."""

    table: str
    name: str
    kind: str
    sql_type: str
    categories: list[str] = field(default_factory=list)
    edges: list[float] = field(default_factory=list)

    @property
    def value(self) -> str:
        """SQL of the column as a number (temporal: seconds since the epoch)."""
        return number(self.name, self.kind)

    @property
    def text(self) -> str:
        """SQL of the column as text, spelt alike in either engine (a whole number without
        a decimal point: BigQuery writes 1.0 as "1", DuckDB as "1.0")."""
        column = q(self.name)
        if _kind(self.sql_type) != "numeric":
            return f"CAST({column} AS VARCHAR)"
        return (f"CASE WHEN {column} = FLOOR({column}) AND ABS({column}) < 1e15 THEN "
                f"CAST(CAST({column} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST(CAST({column} AS DOUBLE) AS VARCHAR) END")

    @property
    def label(self) -> str:
        """SQL of the column as a category label (nulls are a category of their own)."""
        if self.kind == "categorical":
            text = self.text
            listed = ", ".join(lit(c) for c in self.categories)
            return (f"CASE WHEN {q(self.name)} IS NULL THEN '{NULL}' "
                    f"WHEN {text} IN ({listed or 'NULL'}) THEN {text} ELSE '{OTHER}' END")
        cases = " ".join(f"WHEN {self.value} < {edge!r} THEN 'q{i:02d}'"
                         for i, edge in enumerate(self.edges))
        return (f"CASE WHEN {q(self.name)} IS NULL THEN '{NULL}' {cases} "
                f"ELSE 'q{len(self.edges):02d}' END")


@dataclass
class Context:
    """One evaluation: sides, keys, profile, and what it has found so far."""

    synthetic: Side
    real: Side | None
    keys: Keys
    profile: dict | None = None
    plots: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _columns: dict[str, list[ColumnInfo]] = field(default_factory=dict)

    @property
    def reference(self) -> Side:
        """The side the floors and bins come from: the real source, else the synthetic
        warehouse itself (its own split-half noise at its size)."""
        return self.real if self.real is not None else self.synthetic

    def tables(self) -> list[str]:
        """Tables on both sides (with a real source), else the synthetic ones."""
        names = set(self.synthetic.columns)
        if self.real is not None:
            names &= set(self.real.columns)
        return sorted(names)

    def add_plot(self, plot: dict) -> str:
        """Keep a plot's (small, aggregated) data for the HTML; returns its id."""
        plot["id"] = f"plot-{len(self.plots)}"
        self.plots.append(plot)
        return plot["id"]

    def columns(self, table: str) -> list[ColumnInfo]:
        """The compared columns of a table: on both sides, not keys, not sensitive or free
        text, of a kind that compares (records, lists and JSON documents are left out:
        `unlike_values`)."""
        if table not in self._columns:
            self._columns[table] = self._classify(table)
        return self._columns[table]

    def _classify(self, table: str) -> list[ColumnInfo]:
        ref, other = self.reference, self.synthetic
        candidates = []
        for name, sql_type in ref.columns[table].items():
            if name not in other.columns.get(table, {}) or self.keys.is_key(table, name):
                continue
            kind = None if unlike_values(name, sql_type) else _kind(sql_type)
            if kind and not sensitive_name(name):
                candidates.append(ColumnInfo(table, name, kind, sql_type))
        if not candidates or not ref.rows_in.get(table):
            return []
        stats = self._distinct(table, candidates)
        kept = []
        for info, (distinct, present) in zip(candidates, stats, strict=True):
            if present == 0:
                continue
            if info.kind == "categorical" and distinct > TOP_CATEGORIES and \
                    distinct > FREE_TEXT_DISTINCT * present:
                self.notes.append(f"{table}.{info.name}: free text or identifiers "
                                  f"({distinct:,} distinct of {present:,}); not compared")
                continue
            if info.kind == "numeric" and distinct <= TOP_CATEGORIES:
                info.kind = "categorical"
            kept.append(info)
        self._bins(table, kept)
        return kept

    def _distinct(self, table: str, infos: list[ColumnInfo]) -> list[tuple[int, int]]:
        rel = self.reference.sample(table)
        parts = ", ".join(f"count(DISTINCT {q(i.name)}), count({q(i.name)})" for i in infos)
        row = self.reference.rows(f"SELECT {parts} FROM {rel}")[0]
        return [(int(row[2 * i]), int(row[2 * i + 1])) for i in range(len(infos))]

    def _bins(self, table: str, infos: list[ColumnInfo]) -> None:
        """Top categories and decile edges of the columns, from a bounded sample of the
        reference: one query for the categories of every categorical column, one for the
        deciles of every other."""
        rel = self.reference.sample(table)
        categorical = [i for i in infos if i.kind == "categorical"]
        if categorical:
            # no column is null in its own grouping set: a null of its own is not a category
            texts = ", ".join(f"coalesce({i.text}, {lit(_ABSENT)}) c{n}"
                              for n, i in enumerate(categorical))
            names = [f"c{n}" for n in range(len(categorical))]
            rows = self.reference.rows(
                f"SELECT {', '.join(names)}, count(*) FROM (SELECT {texts} FROM {rel}) x "
                f"GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in names)})")
            for n, info in enumerate(categorical):
                found = sorted((-row[-1], row[n]) for row in rows
                               if row[n] is not None and row[n] != _ABSENT)
                info.categories = [v for _, v in found[:TOP_CATEGORIES]]
        numbers = [i for i in infos if i.kind != "categorical"]
        probs = [i / BINS for i in range(1, BINS)]
        for info, edges in zip(numbers, self.reference.quantiles(
                [i.value for i in numbers], rel, probs), strict=True):
            info.edges = sorted(set(float(e) for e in edges or [] if e is not None))


_ABSENT = "~campus-synth:null~"


def number(column: str, kind: str) -> str:
    """SQL of a numeric or temporal column as a number (temporal: seconds since the epoch,
    with their fraction)."""
    if kind == "temporal":
        return f"(unix_micros(CAST({q(column)} AS TIMESTAMP)) / 1000000)"
    return f"CAST({q(column)} AS DOUBLE)"


def _kind(sql_type: str) -> str | None:
    upper = sql_type.upper()
    if upper in ("VARCHAR", "BOOLEAN") or upper.startswith("ENUM"):
        return "categorical"
    if upper in _NUMERIC or upper.startswith("DECIMAL"):
        return "numeric"
    if upper == "DATE" or upper.startswith("TIMESTAMP"):
        return "temporal"
    return None
