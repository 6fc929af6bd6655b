"""Estimators: aggregate SQL that runs inside the source engine (DuckDB or BigQuery).

Only aggregates come back — counts per value, per-group summaries, histograms of counts — so
profiling never pulls rows into Python, and the privacy step sees every count it must check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from distributions._sources import Source
from pipeline.errors import SourceError
from pipeline.udp._sql_text import string_literal

# enough quantiles for a piecewise-linear inverse CDF (steps of 1/40, plus the 1st and 99th
# percentiles for the tails); the extremes beyond them are the k-coded min and max
QUANTILES = (0.01, *(round(i / 40, 3) for i in range(1, 40)), 0.99)
_NUMERIC = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "NUMERIC", "REAL", "BIGNUMERIC")
_TEMPORAL = ("DATE", "TIMESTAMP", "TIME")


class Missing(Exception):
    """A table or column an estimate needs is absent: the default is kept, with a note."""


def keep_default(p, what: str, estimate) -> None:
    """Run `estimate()`; when a table or column it needs is Missing, keep the default profile's
    value and note why under `what` (a JSON path)."""
    try:
        estimate()
    except Missing as missing:
        p.notes.append(f"{what}: kept the default ({missing})")


@dataclass(frozen=True)
class Sql:
    """The few spellings that differ between DuckDB and BigQuery."""

    dialect: str

    def ident(self, name: str) -> str:
        return f"`{name}`" if self.dialect == "bigquery" else f'"{name}"'

    def text(self, expr: str) -> str:
        kind = "STRING" if self.dialect == "bigquery" else "VARCHAR"
        return f"NULLIF(TRIM(CAST({expr} AS {kind})), '')"  # blanks count as nulls

    def safe_cast(self, expr: str, kind: str) -> str:
        if self.dialect == "bigquery":
            return f"SAFE_CAST({expr} AS {'FLOAT64' if kind == 'number' else 'TIMESTAMP'})"
        return f"TRY_CAST({expr} AS {'DOUBLE' if kind == 'number' else 'TIMESTAMP'})"

    def number(self, expr: str) -> str:
        return f"CAST({expr} AS {'FLOAT64' if self.dialect == 'bigquery' else 'DOUBLE'})"

    def seconds(self, expr: str) -> str:
        """Seconds since the epoch of a date or timestamp expression."""
        if self.dialect == "bigquery":
            return f"UNIX_SECONDS(CAST({expr} AS TIMESTAMP))"
        return f"epoch(CAST({expr} AS TIMESTAMP))"

    def quantiles(self, expr: str, ps: tuple[float, ...]) -> str:
        """All quantiles `ps` of `expr` as one aggregate (one copy of the values, not one per
        quantile): a list, exact in DuckDB; BigQuery's 1/1000 grid, read by `pick`. Both give
        observed values (DuckDB's discrete quantile, as BigQuery's approximate ones are), so
        the two engines publish the same profile of the same rows."""
        if self.dialect == "bigquery":
            return f"APPROX_QUANTILES({expr}, 1000)"
        return f"quantile_disc({expr}, [{', '.join(map(str, ps))}])"

    def pick(self, values: list, ps: tuple[float, ...]) -> list:
        """The quantiles `ps` out of what `quantiles` returned."""
        if self.dialect == "bigquery":
            return [values[round(p * 1000)] for p in ps]
        return list(values)


class Reader:
    """Column expressions with their types checked once, so a wrong type is one clear error."""

    def __init__(self, source: Source):
        self.source = source
        self.sql = Sql(source.dialect)
        self.tables = source.tables()
        self._checked: dict[tuple[str, str, str], str] = {}
        # aggregate results by SQL text: the ε plan pass and the release pass (and estimates
        # sharing a query) run each query once
        self._results: dict[str, object] = {}

    def rel(self, table: str) -> str:
        if table not in self.tables:
            raise Missing(f"table {table} is not in the source")
        return self.source.relation(table)

    def has(self, table: str, column: str) -> bool:
        return column in self.tables.get(table, {})

    def col_or_null(self, table: str, column: str, kind: str, alias: str = "t") -> str:
        """`col`, or SQL NULL where the source lacks the column (an optional attribute that
        a query groups or filters by when it is there)."""
        return self.col(table, column, kind, alias) if self.has(table, column) else "NULL"

    def col(self, table: str, column: str, kind: str, alias: str = "t") -> str:
        """`alias.column` as `kind` (text, number or time; `key`: a person key only grouped
        and counted by, its own integers where the source stores integers, else text), or
        Missing / SourceError."""
        self.rel(table)
        if column not in self.tables[table]:
            raise Missing(f"column {table}.{column} is not in the source")
        key = (table, column, kind)
        if key not in self._checked:
            self._checked[key] = self._typed(table, column, kind)
        return self._checked[key].replace("{a}", alias)

    def _typed(self, table: str, column: str, kind: str) -> str:
        ref = "{a}." + self.sql.ident(column)
        declared = self.tables[table][column].upper()
        if kind == "key" and "INT" in declared and "INTERVAL" not in declared:
            return ref  # the same groups as its text, without casting every row to text
        if kind in ("text", "key"):
            return self.sql.text(ref)
        wanted = _NUMERIC if kind == "number" else _TEMPORAL
        if any(word in declared for word in wanted):
            return self.sql.number(ref) if kind == "number" else ref
        if declared.strip('"') == "NULL":  # Parquet's null type: not one value
            return f"CAST({ref} AS {'DOUBLE' if kind == 'number' else 'TIMESTAMP'})"
        if not any(word in declared for word in ("CHAR", "STRING", "TEXT")):
            raise self._wrong(table, column, kind, declared)
        # text that holds numbers or dates is accepted if every non-blank value converts
        cast = self.sql.safe_cast(self.sql.text(ref), kind)
        bad = self.scalar(f"SELECT SUM(CASE WHEN {cast} IS NULL AND {self.sql.text(ref)} IS NOT"
                          f" NULL THEN 1 ELSE 0 END) FROM {self.rel(table)} AS a".replace(
                              "{a}", "a"))
        if bad:
            raise self._wrong(table, column, kind,
                              f"{declared} with {int(bad):,} value(s) that do not read as one")
        return cast

    def _wrong(self, table: str, column: str, kind: str, found: str) -> SourceError:
        wanted = "numbers" if kind == "number" else "dates or timestamps"
        return SourceError(f"{self.source.label}: table {table}, column {column}: expected "
                           f"{wanted}, found {found}")

    def _query(self, sql: str):
        if sql not in self._results:
            self._results[sql] = self.source.query(sql)
        return self._results[sql]

    def scalar(self, sql: str):
        table = self._query(sql)
        return steady(table.column(0)[0].as_py()) if table.num_rows else None

    def rows(self, sql: str) -> list[dict]:
        return [{k: steady(v) for k, v in row.items()} for row in self._query(sql).to_pylist()]


def steady(value):
    """A query's float at 12 significant digits: the engine adds a parallel aggregate's
    parts in whatever order its threads finish, and the last bits that changes are no part
    of what the source says (ranks compare values rounded too: `ranked_value`)."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.12g}")
    return value


# ---- summaries ------------------------------------------------------------------------------
@dataclass
class Summary:
    """A continuous column (or count) in one cell: moments, extremes, quantiles, and the
    k-th smallest/largest values the privacy step codes the extremes to."""

    total: int
    n: int
    mean: float = 0.0
    sd: float = 0.0
    min: float = 0.0
    max: float = 0.0
    skew: float = 0.0
    integer: bool = True
    quantiles: dict[float, float] = field(default_factory=dict)
    low_k: float | None = None
    high_k: float | None = None
    below_k: int = 0
    above_k: int = 0

    @classmethod
    def from_histogram(cls, counts: dict[float, float], k: int) -> Summary:
        """A summary of integer values given as {value: rows} (counts may be noised)."""
        items = sorted((v, c) for v, c in counts.items() if c > 0 and v is not None)
        n = sum(c for _, c in items)
        if not items or n <= 0:
            return cls(total=0, n=0)
        mean = sum(v * c for v, c in items) / n
        var = sum(c * (v - mean) ** 2 for v, c in items) / max(n - 1, 1)
        third = sum(c * (v - mean) ** 3 for v, c in items) / n
        low, high = _kth(items, k), _kth(items[::-1], k)
        return cls(total=round(n), n=round(n), mean=mean, sd=math.sqrt(var),
                   min=items[0][0], max=items[-1][0], skew=_skew(third, var),
                   integer=all(float(v).is_integer() for v, _ in items),
                   quantiles={q: _hist_quantile(items, q * n) for q in QUANTILES},
                   low_k=low, high_k=high,
                   below_k=round(sum(c for v, c in items if low is not None and v < low)),
                   above_k=round(sum(c for v, c in items if high is not None and v > high)))


def _skew(third: float, var: float) -> float:
    return third / var ** 1.5 if var > 0 else 0.0


def _kth(items: list[tuple[float, float]], k: int) -> float | None:
    seen = 0.0
    for value, count in items:
        seen += count
        if seen >= k:
            return value
    return None


def _hist_quantile(items: list[tuple[float, float]], rank: float) -> float:
    seen = 0.0
    for value, count in items:
        seen += count
        if seen >= rank:
            return value
    return items[-1][0]


def text_list(values) -> str:
    """SQL of a list of text literals for IN (...), quotes doubled ('' for none)."""
    return ", ".join(string_literal(v) for v in values) or "''"


def ranked_value(column: str) -> str:
    """SQL of a value as ranks compare it: to 9 decimals, so that a mean the engine summed in
    another order (0.7 or 0.7000000000000001) ties with its equals in every run (unrounded,
    a source's Spearman of mean score and withdrawal moved by 6e-5 between runs, and the
    calibrations searched from it with it)."""
    return f"ROUND({column}, 9)"


def mean_rank(column: str, within: str = "") -> str:
    """SQL of a value's rank (within the `within` partition columns, if any), ties at their
    mean rank: Spearman's ρ is the CORR of two such ranks."""
    column = ranked_value(column)
    ordered = f"PARTITION BY {within} ORDER BY {column}" if within else f"ORDER BY {column}"
    tied = f"{within}, {column}" if within else column
    return f"RANK() OVER ({ordered}) + (COUNT(*) OVER (PARTITION BY {tied}) - 1) / 2.0"


DECILES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def decile_bins(spec: dict, x: str) -> str | None:
    """SQL of the bin of `x` among a continuous distribution's stored deciles (how many it
    is at or above), the bins a candidate `given` is scored over by its information; None
    when the distribution stores no decile."""
    edges = sorted({v for q, v in spec.get("quantiles", {}).items() if float(q) in DECILES})
    return " + ".join(f"CASE WHEN {x} >= {e!r} THEN 1 ELSE 0 END" for e in edges) or None


def summarize(reader: Reader, base: str, k: int, groups: int = 0) -> dict[tuple, Summary]:
    """Summaries of `x` per group of a base query selecting `g0..g{groups-1}, x`."""
    g = [f"g{i}" for i in range(groups)]
    part = f"PARTITION BY {', '.join(g)} " if g else ""
    quantiles = f"{reader.sql.quantiles('x', QUANTILES)} AS qs"
    sql = f"""
WITH base AS ({base}),
ranked AS (SELECT *, ROW_NUMBER() OVER ({part}ORDER BY x ASC NULLS LAST) AS ra,
                     ROW_NUMBER() OVER ({part}ORDER BY x DESC NULLS LAST) AS rd FROM base),
coded AS (SELECT *, MAX(CASE WHEN ra = {k} THEN x END) OVER ({part.strip()}) AS lo_k,
                    MAX(CASE WHEN rd = {k} THEN x END) OVER ({part.strip()}) AS hi_k FROM ranked)
SELECT {''.join(x + ', ' for x in g)}COUNT(*) AS total, COUNT(x) AS n, AVG(x) AS mean,
  STDDEV_SAMP(x) AS sd, MIN(x) AS lo, MAX(x) AS hi, AVG(x * x) AS m2, AVG(x * x * x) AS m3,
  MAX(lo_k) AS lo_k, MAX(hi_k) AS hi_k,
  SUM(CASE WHEN x < lo_k THEN 1 ELSE 0 END) AS below_k,
  SUM(CASE WHEN x > hi_k THEN 1 ELSE 0 END) AS above_k,
  SUM(CASE WHEN x <> FLOOR(x) THEN 1 ELSE 0 END) AS fractional, {quantiles}
FROM coded {'GROUP BY ' + ', '.join(g) if g else ''}"""
    return {tuple(row[x] for x in g): _summary(row, reader.sql) for row in reader.rows(sql)}


def _summary(row: dict, sql: Sql) -> Summary:
    n = int(row["n"] or 0)
    if not n:
        return Summary(total=int(row["total"] or 0), n=0)
    mean = float(row["mean"])
    var = max(float(row["m2"]) - mean * mean, 0.0)
    third = float(row["m3"]) - 3 * mean * float(row["m2"]) + 2 * mean ** 3
    return Summary(total=int(row["total"]), n=n, mean=mean, sd=float(row["sd"] or 0.0),
                   min=float(row["lo"]), max=float(row["hi"]), skew=_skew(third, var),
                   integer=not row["fractional"],
                   quantiles=dict(zip(QUANTILES, map(float, sql.pick(row["qs"], QUANTILES)),
                                      strict=True)),
                   low_k=_opt(row["lo_k"]), high_k=_opt(row["hi_k"]),
                   below_k=int(row["below_k"] or 0), above_k=int(row["above_k"] or 0))


def _opt(value) -> float | None:
    return None if value is None else float(value)


# ---- counts ---------------------------------------------------------------------------------
@dataclass
class Cell:
    """A count cell: its rows, the distinct people behind them (None: an institutional
    table, no person behind a row) and its person-weighted count (each person's rows in the
    query weigh 1 in total, so adding or removing a person moves the weights by at most 1)."""

    rows: float
    people: float | None = None
    weight: float | None = None

    def __add__(self, other):
        if not isinstance(other, Cell):
            return Cell(self.rows + other, self.people, self.weight)
        # distinct people of a union are at least the larger part's: the k test stays safe
        people = None if self.people is None and other.people is None else \
            max(self.people or 0, other.people or 0)
        weight = None if self.weight is None and other.weight is None else \
            (self.weight or 0) + (other.weight or 0)
        return Cell(self.rows + other.rows, people, weight)

    __radd__ = __add__

    def __float__(self) -> float:
        return float(self.rows)

    def __neg__(self) -> float:  # callers order cells by size
        return -float(self.rows)


def value_counts(reader: Reader, base: str, groups: int = 0) -> dict[tuple, dict]:
    """{group tuple: {value: rows}} of a base query selecting `g0.., v`."""
    g = [f"g{i}" for i in range(groups)]
    keys = ", ".join([*g, "v"])
    sql = f"SELECT {keys}, COUNT(*) AS n FROM ({base}) AS b GROUP BY {keys}"
    result: dict[tuple, dict] = {}
    for row in reader.rows(sql):
        result.setdefault(tuple(row[x] for x in g), {})[row["v"]] = int(row["n"])
    return result


WEIGHT_UNIT = 1_000_000_000  # person weights are summed as integers of this many parts


def value_cells(reader: Reader, base: str, groups: int = 0) -> dict[tuple, dict]:
    """{group tuple: {value: Cell}} of a base query selecting `g0.., v, pid`: rows, distinct
    people and person-weighted rows (each person's rows in the query weigh 1 in total) per
    cell, so the privacy rules count people, not rows."""
    g = [f"g{i}" for i in range(groups)]
    keys = ", ".join([*g, "v"])
    # weights in whole billionths, floored (a person's total stays ≤ 1): an integer sum is
    # the same whatever order the engine adds in, where a float sum's last bits are not
    sql = (f"SELECT {keys}, COUNT(*) AS n, COUNT(DISTINCT pid) AS people, SUM(w) AS w "
           f"FROM (SELECT *, CAST(FLOOR({WEIGHT_UNIT} / COUNT(*) OVER (PARTITION BY pid)) "
           f"AS BIGINT) AS w FROM ({base}) AS b0) AS b GROUP BY {keys}")
    result: dict[tuple, dict] = {}
    for row in reader.rows(sql):
        result.setdefault(tuple(row[x] for x in g), {})[row["v"]] = Cell(
            float(row["n"]), float(row["people"]), int(row["w"] or 0) / WEIGHT_UNIT)
    return result


def children_histogram(reader: Reader, parent: str, child: str, keys: list[tuple[str, str]],
                       given: str | None = None, child_where: str = "") -> dict[tuple, dict]:
    """{group: {children: parents}} — children per parent row, zeros included (LEFT JOIN).

    keys pairs a parent column with the child column that points at it; `given` is an
    optional parent-column expression (alias p) to group by."""
    on = " AND ".join(f"p.{reader.sql.ident(pc)} = c.{reader.sql.ident(cc)}" for pc, cc in keys)
    pk = ", ".join(f"p.{reader.sql.ident(pc)}" for pc, _ in keys)
    first_child = reader.sql.ident(keys[0][1])
    g = f"{given} AS g0, " if given else ""
    base = (f"SELECT {g}COUNT(c.{first_child}) AS v FROM {reader.rel(parent)} AS p "
            f"LEFT JOIN (SELECT * FROM {child} AS c {child_where}) AS c ON {on} "
            f"GROUP BY {pk}{', g0' if given else ''}")
    return value_counts(reader, base, 1 if given else 0)


# ---- derived parameters (the rule columns' units, sizing, calendar, grades) -----------------
