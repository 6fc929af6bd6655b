"""Estimators: aggregate SQL that runs inside the source engine (DuckDB or BigQuery).

Only aggregates come back — counts per value, per-group summaries, histograms of counts — so
profiling never pulls rows into Python, and the privacy step sees every count it must check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from distributions._sources import Source, SourceError

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_NUMERIC = ("INT", "DOUBLE", "FLOAT", "DECIMAL", "NUMERIC", "REAL", "BIGNUMERIC")
_TEMPORAL = ("DATE", "TIMESTAMP", "TIME")


class Missing(Exception):
    """A table or column an estimate needs is absent: the default is kept, with a note."""


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

    def quantile(self, expr: str, p: float) -> str:
        if self.dialect == "bigquery":
            return f"APPROX_QUANTILES({expr}, 1000)[OFFSET({round(p * 1000)})]"
        return f"quantile_cont({expr}, {p})"


class Reader:
    """Column expressions with their types checked once, so a wrong type is one clear error."""

    def __init__(self, source: Source):
        self.source = source
        self.sql = Sql(source.dialect)
        self.tables = source.tables()
        self._checked: dict[tuple[str, str, str], str] = {}

    def rel(self, table: str) -> str:
        if table not in self.tables:
            raise Missing(f"table {table} is not in the source")
        return self.source.relation(table)

    def has(self, table: str, column: str) -> bool:
        return column in self.tables.get(table, {})

    def col(self, table: str, column: str, kind: str, alias: str = "t") -> str:
        """`alias.column` as `kind` (text, number or time), or Missing / SourceError."""
        self.rel(table)
        if column not in self.tables[table]:
            raise Missing(f"column {table}.{column} is not in the source")
        key = (table, column, kind)
        if key not in self._checked:
            self._checked[key] = self._typed(table, column, kind)
        return self._checked[key].replace("{a}", alias)

    def _typed(self, table: str, column: str, kind: str) -> str:
        ref = "{a}." + self.sql.ident(column)
        if kind == "text":
            return self.sql.text(ref)
        declared = self.tables[table][column].upper()
        wanted = _NUMERIC if kind == "number" else _TEMPORAL
        if any(word in declared for word in wanted):
            return self.sql.number(ref) if kind == "number" else ref
        if not any(word in declared for word in ("CHAR", "STRING", "TEXT")):
            raise self._wrong(table, column, kind, declared)
        # text that holds numbers or dates is accepted if every non-blank value converts
        cast = self.sql.safe_cast(self.sql.text(ref), kind)
        bad = self.scalar(f"SELECT SUM(CASE WHEN {cast} IS NULL AND {self.sql.text(ref)} IS NOT"
                          f" NULL THEN 1 ELSE 0 END) FROM {self.rel(table)} AS a".replace(
                              "{a}", "a"))
        if bad:
            raise self._wrong(table, column, kind, f"{declared} with {int(bad):,} such values")
        return cast

    def _wrong(self, table: str, column: str, kind: str, found: str) -> SourceError:
        wanted = "numbers" if kind == "number" else "dates or timestamps"
        return SourceError(f"{self.source.label}: table {table}, column {column}: expected "
                           f"{wanted}, found {found}")

    def scalar(self, sql: str):
        table = self.source.query(sql)
        return table.column(0)[0].as_py() if table.num_rows else None

    def rows(self, sql: str) -> list[dict]:
        return self.source.query(sql).to_pylist()


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


def summarize(reader: Reader, base: str, k: int, groups: int = 0) -> dict[tuple, Summary]:
    """Summaries of `x` per group of a base query selecting `g0..g{groups-1}, x`."""
    g = [f"g{i}" for i in range(groups)]
    part = f"PARTITION BY {', '.join(g)} " if g else ""
    quantiles = ", ".join(f"{reader.sql.quantile('x', q)} AS q{i}" for i, q in
                          enumerate(QUANTILES))
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
    return {tuple(row[x] for x in g): _summary(row) for row in reader.rows(sql)}


def _summary(row: dict) -> Summary:
    n = int(row["n"] or 0)
    if not n:
        return Summary(total=int(row["total"] or 0), n=0)
    mean = float(row["mean"])
    var = max(float(row["m2"]) - mean * mean, 0.0)
    third = float(row["m3"]) - 3 * mean * float(row["m2"]) + 2 * mean ** 3
    return Summary(total=int(row["total"]), n=n, mean=mean, sd=float(row["sd"] or 0.0),
                   min=float(row["lo"]), max=float(row["hi"]), skew=_skew(third, var),
                   integer=not row["fractional"],
                   quantiles={q: float(row[f"q{i}"]) for i, q in enumerate(QUANTILES)},
                   low_k=_opt(row["lo_k"]), high_k=_opt(row["hi_k"]),
                   below_k=int(row["below_k"] or 0), above_k=int(row["above_k"] or 0))


def _opt(value) -> float | None:
    return None if value is None else float(value)


# ---- counts ---------------------------------------------------------------------------------
def value_counts(reader: Reader, base: str, groups: int = 0) -> dict[tuple, dict]:
    """{group tuple: {value: rows}} of a base query selecting `g0.., v`."""
    g = [f"g{i}" for i in range(groups)]
    keys = ", ".join([*g, "v"])
    sql = f"SELECT {keys}, COUNT(*) AS n FROM ({base}) AS b GROUP BY {keys}"
    result: dict[tuple, dict] = {}
    for row in reader.rows(sql):
        result.setdefault(tuple(row[x] for x in g), {})[row["v"]] = int(row["n"])
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
def measure_base(p, table: str, name: str) -> str:
    """SELECT x for a continuous column, in the unit its rule reads it in."""
    r, sql = p.reader, p.sql
    if (table, name) == ("learner_activity", "due_date"):
        return _due_fraction(r)
    if table == "learner_activity_result" and name in ("response_date", "graded_date"):
        later = sql.seconds(r.col(table, name, "time", "t"))
        if name == "response_date":  # hours from the due date to the submission
            earlier = sql.seconds(r.col("learner_activity", "due_date", "time", "a"))
        else:  # hours from the submission to the grading
            earlier = sql.seconds(r.col(table, "response_date", "time", "t"))
        return (f"SELECT ({later} - {earlier}) / 3600.0 AS x FROM {r.rel(table)} AS t "
                f"JOIN {r.rel('learner_activity')} AS a ON t.learner_activity_id = "
                f"a.learner_activity_id WHERE {later} IS NOT NULL AND {earlier} IS NOT NULL")
    if (table, name) == ("learner_activity_result", "published_score"):
        score = r.col(table, name, "number", "t")
        points = r.col("learner_activity", "points_possible", "number", "a")
        # only graded work: a score missing for submitted work is simply not counted
        return (f"SELECT {score} / {points} AS x FROM {r.rel(table)} AS t "
                f"JOIN {r.rel('learner_activity')} AS a ON t.learner_activity_id = "
                f"a.learner_activity_id WHERE {points} > 0 AND {score} IS NOT NULL")
    return f"SELECT {r.col(table, name, 'number', 't')} AS x FROM {r.rel(table)} AS t"


def _due_fraction(r: Reader) -> str:
    """Fraction of the term (0..1, clipped) at which an assignment is due; null if none."""
    s = r.sql
    due = s.seconds(r.col("learner_activity", "due_date", "time", "a"))
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "term"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "term"))
    return (f"SELECT CASE WHEN d IS NULL THEN NULL ELSE LEAST(GREATEST((d - b) / (e - b), 0), 1)"
            f" END AS x FROM (SELECT {due} AS d, {begin} AS b, {end} AS e "
            f"FROM {r.rel('learner_activity')} AS a JOIN {r.rel('course_offering')} AS o "
            f"ON a.course_offering_id = o.course_offering_id JOIN {r.rel('academic_term')} "
            f"AS term ON o.academic_term_id = term.academic_term_id) AS f WHERE e > b")


def session_names(p) -> tuple[dict]:
    """Counts of sections per session *name* (the ids never leave the source)."""
    r = p.reader
    name = r.col("academic_session", "name", "text", "s")
    r.col("course_section", "academic_session_id", "number", "t")
    base = (f"SELECT {name} AS v FROM {r.rel('course_section')} AS t LEFT JOIN "
            f"{r.rel('academic_session')} AS s ON t.academic_session_id = s.academic_session_id")
    return (value_counts(r, base).get((), {}),)


def campus_skew(p, table: str, name: str) -> dict | None:
    """Skew s of the rank-size curve of sections per campus (weights 1/rank^s), by maximum
    likelihood; campuses without sections count as zeros."""
    import numpy as np
    from scipy import optimize

    r = p.reader
    column = r.col(table, name, "number", "t")
    rows = r.rows(f"SELECT COUNT(*) AS n FROM {r.rel(table)} AS t WHERE {column} IS NOT NULL "
                  f"GROUP BY {column}")
    counts = sorted((row["n"] for row in rows), reverse=True)
    counts += [0] * max(p.counts.get("campus", 0) - len(counts), 0)
    if len(counts) < 2:
        return None
    n, ranks = np.array(counts, float), np.arange(1, len(counts) + 1)

    def loss(s: float) -> float:
        w = ranks ** -s
        return -float(np.dot(n, np.log(w / w.sum())))

    skew = optimize.minimize_scalar(loss, bounds=(0.0, 10.0), method="bounded").x
    return {"kind": "foreign_key", "skew": round(float(skew), 4)}


def _guarded(p, what: str, estimate) -> None:
    try:
        estimate()
    except Missing as missing:
        p.notes.append(f"{what}: kept the default ({missing})")


def sizing_part(p, profile: dict) -> None:
    """settings.fte, settings.terms, instructors per 100 students, section fill rate."""
    _guarded(p, "/settings/terms", lambda: profile.setdefault("settings", {}).update(
        terms=min(max(p.counts["academic_term"], 1), 40)))
    _guarded(p, "/settings/fte", lambda: _fte(p, profile))
    _guarded(p, "/institution", lambda: _ratios(p, profile["institution"]))


def _fte(p, profile: dict) -> None:
    r = p.reader
    load = r.col("person__academic_term", "eot_academic_load", "text", "t")
    begin = r.col("academic_term", "term_begin_date", "time", "a")
    rows = r.rows(
        f"SELECT {load} AS v, COUNT(*) AS n FROM {r.rel('person__academic_term')} AS t "
        f"JOIN {r.rel('academic_term')} AS a ON t.academic_term_id = a.academic_term_id "
        f"WHERE {begin} = (SELECT MAX({begin}) FROM {r.rel('academic_term')} AS a) GROUP BY 1")
    by_load = profile["institution"]["fte_by_load"]
    fte = sum(row["n"] * by_load.get(row["v"], by_load.get(NO_DATA, 0.5)) for row in rows)
    if fte > 0:
        profile["settings"]["fte"] = round(fte, 1)


NO_DATA = "NoData"


def _ratios(p, institution: dict) -> None:
    r = p.reader
    role = r.col("course_section_enrollment", "role", "text", "t")
    person = r.col("course_section_enrollment", "person_id", "number", "t")
    row = r.rows(
        f"SELECT COUNT(DISTINCT CASE WHEN {role} = 'Student' THEN {person} END) AS students, "
        f"COUNT(DISTINCT CASE WHEN {role} <> 'Student' THEN {person} END) AS staff, "
        f"SUM(CASE WHEN {role} = 'Student' THEN 1 ELSE 0 END) AS seats "
        f"FROM {r.rel('course_section_enrollment')} AS t")[0]
    if row["students"] and row["staff"]:
        institution["instructors_per_100_students"] = round(
            100 * row["staff"] / row["students"], 4)
    capacity = r.scalar(f"SELECT AVG({r.col('course_section', 'max_enrollment', 'number')}) "
                        f"FROM {r.rel('course_section')} AS t")
    sections = p.counts["course_section"]
    if capacity and row["seats"]:
        fill = float(row["seats"]) / sections / float(capacity)
        institution["section_fill_rate"] = round(min(max(fill, 0.01), 1.5), 4)


def grading_part(p, profile: dict) -> None:
    """Grading scheme: per letter, the floor of its k-th lowest final score (a cut-off that
    rests on at least k students); letters with fewer than k students are left out."""
    _guarded(p, "/grading_scheme", lambda: _grading(p, profile))


def _grading(p, profile: dict) -> None:
    r, k = p.reader, p.guard.k
    grade = r.col("course_grade", "final_grade", "text", "t")
    score = r.col("course_grade", "le_final_score", "number", "t")
    rows = r.rows(
        f"WITH g AS (SELECT {grade} AS grade, {score} AS s FROM {r.rel('course_grade')} AS t), "
        "ranked AS (SELECT grade, s, ROW_NUMBER() OVER (PARTITION BY grade ORDER BY s) AS rn, "
        "COUNT(*) OVER (PARTITION BY grade) AS n FROM g WHERE grade IS NOT NULL AND s IS NOT "
        f"NULL) SELECT grade, MAX(n) AS n, MAX(CASE WHEN rn = {k} THEN s END) AS cut "
        "FROM ranked GROUP BY grade")
    kept = sorted(((row["grade"], row["cut"]) for row in rows if row["n"] >= k),
                  key=lambda item: -item[1])
    small = sum(row["n"] for row in rows if row["n"] < k)
    if small:
        p.guard.record("/grading_scheme", "suppressed",
                       f"letter grade(s) with fewer than k={k} students", small)
    if len(kept) < 2:
        p.notes.append("/grading_scheme: kept the default (too few graded students)")
        return
    scheme = [{"grade": g, "min_score": float(int(cut))} for g, cut in kept]
    scheme[-1]["min_score"] = 0.0  # the lowest letter takes every score below the others
    profile["grading_scheme"] = scheme


def calendar_part(p, profile: dict) -> None:
    """The calendar from academic_term (and academic_session) dates."""
    from distributions._profiler import build_calendar

    _guarded(p, "/calendar", lambda: build_calendar(p, profile))


def term_rows(r: Reader) -> list[dict]:
    """Each term's type and begin/end dates (institution calendar facts, no people)."""
    s = r.sql
    begin = s.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    end = s.seconds(r.col("academic_term", "term_end_date", "time", "t"))
    kind = r.col("academic_term", "term_type", "text", "t")
    session = (r.col("academic_term", "session_type", "text", "t")
               if r.has("academic_term", "session_type") else "NULL")
    return r.rows(f"SELECT {kind} AS term_type, {session} AS session_type, {begin} AS b, "
                  f"{end} AS e FROM {r.rel('academic_term')} AS t WHERE {begin} IS NOT NULL "
                  f"AND {end} IS NOT NULL ORDER BY b")


def session_rows(r: Reader) -> list[dict]:
    """Per session name: its offset from the term start and its length, in days."""
    s = r.sql
    sb = s.seconds(r.col("academic_session", "begin_date", "time", "x"))
    se = s.seconds(r.col("academic_session", "instr_end_date", "time", "x"))
    tb = s.seconds(r.col("academic_term", "term_begin_date", "time", "t"))
    te = s.seconds(r.col("academic_term", "instr_end_date", "time", "t"))
    name = r.col("academic_session", "name", "text", "x")
    kind = r.col("academic_session", "session_type", "text", "x")
    return r.rows(
        f"SELECT {name} AS name, MAX({kind}) AS session_type, COUNT(*) AS n, "
        f"AVG(({sb} - {tb}) / 86400.0) AS offset_days, AVG(({se} - {sb}) / 86400.0) AS days, "
        f"AVG(({te} - {se}) / 86400.0) AS to_end FROM {r.rel('academic_session')} AS x "
        f"JOIN {r.rel('academic_term')} AS t ON x.academic_term_id = t.academic_term_id "
        f"WHERE {name} IS NOT NULL GROUP BY 1")
