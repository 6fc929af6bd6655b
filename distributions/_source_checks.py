"""A profiling source's keys and dates, checked before any estimate reads it.

Fatal (a SourceError naming the table and column; exit 2, nothing written): a primary key
column that is absent, an absent key the profile joins on (`JOIN_KEYS`), keys stored as
fractions (7.5; keys stored as text are read as integers, digits as theirs and other text as
a number drawn from it, with a note), an empty required table, a term that ends before it
begins. (The checks that need a query, and the cleaning below, run on DuckDB sources: files
and folders; a BigQuery source gets the checks of its declared columns and types.)

Survivable, each counted and named in the profile's notes, with this rule: rows whose primary
key is NULL are left out, and of rows sharing a key one is kept (the least by the MD5 of its
text: a person listed once per enrollment keeps their enrollments); so are rows whose
foreign key names no (kept) parent row, and results dated before their term began or more
than `LATE_DAYS` after it ended; every estimate then reads the cleaned tables (views over
the source, never copies).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from distributions._source_values import (
    CANONICAL,
    canonical_spelling,
    clear_distant_dates,
    clear_non_finite,
    readable_event_times,
    readable_numbers_and_dates,
    readable_types,
)
from distributions._sources import REQUIRED, Source
from distributions._supplied_keys import supply_keys
from distributions._supplied_work import supply_work
from pipeline.errors import SourceError

LATE_DAYS = 60
# the joins the profile makes whenever both tables are in the source
JOIN_KEYS = {("course_offering", "academic_term_id"), ("course_section", "course_offering_id"),
             ("course_section_enrollment", "course_section_id"),
             ("course_section_enrollment", "person_id"),
             ("learner_activity", "course_offering_id"),
             ("learner_activity_result", "learner_activity_id")}
_NUMERIC = ("INT", "DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL")
# stored types no key is read from: text (and bytes, UUIDs) is read as integers, these not
_NOT_KEYS = ("STRUCT", "RECORD", "MAP", "UNION", "DATE", "TIME", "INTERVAL", "BOOL", "BIT")


class UnjoinableKeys(SourceError):
    """Keys stored in a type no join can compare with an integer (a record, a list, a
    timestamp): no figure of the source can be computed either."""


@dataclass
class CheckedSource:
    """A source whose dirty rows are left out: `relation` names a cleaned subquery."""

    inner: Source
    cleaned: dict[str, str]
    # the column types of a cleaned relation as read (DuckDB's names), once described
    read_types: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.inner.label

    @property
    def dialect(self) -> str:
        return self.inner.dialect

    @property
    def connection(self):
        return self.inner.connection

    def tables(self):
        return self.inner.tables()

    def relation(self, table: str) -> str:
        return self.cleaned.get(table) or self.inner.relation(table)

    def query(self, sql: str):
        return self.inner.query(sql)

    def close(self) -> None:
        self.inner.close()


def check_source(source: Source, registry) -> tuple[Source, list[str]]:
    """Refuse a source whose keys or calendar cannot be read; return it with its survivable
    problems left out, and the notes that say what was left out."""
    if source.dialect == "duckdb":  # (a BigQuery source supplies a role itself)
        supply_keys(source, registry)  # key columns a conversion leaves out (a role)
        supply_work(source)  # an activity's points and due date, where it has none
    tables = source.tables()
    entities = [registry[key] for key in registry.order()  # parents before children
                if registry[key].name in tables and registry[key].schema.endswith("entity")]
    for table in entities:
        _fatal_key_problems(source, table, tables)
        if source.dialect == "duckdb":
            readable_types(source, table)
    _fatal_date_problems(source, tables)
    # what reading the source changed (names folded to lower case, keys stored as text read
    # as integers), said first
    read_notes = list(getattr(source, "notes", []))
    if source.dialect != "duckdb":
        return source, read_notes
    for name in REQUIRED:  # said before any cleaning, which would empty their children
        if name not in tables:
            raise SourceError(f"{source.label}: required table {name} is not in the source")
        if not source.query(f"SELECT count(*) AS n FROM {source.relation(name)}").column(0)[0]\
                .as_py():
            raise SourceError(f"{source.label}: table {name} is empty")
    cleaned: dict[str, str] = {}
    notes: list[str] = read_notes
    checked = CheckedSource(source, cleaned)
    for table in entities:
        _clean_table(checked, table, tables, registry, notes)
        readable_numbers_and_dates(checked, table, tables, notes)
        clear_distant_dates(checked, table, tables, notes)
        clear_non_finite(checked, table, tables, notes)
        canonical_spelling(checked, table.name, tables, notes)
    readable_event_times(checked, tables, notes)
    notes += _score_notes(checked, tables)
    _refuse_without_students(checked, tables)
    for name in REQUIRED:  # cleaning can leave nothing (every enrollment an orphan)
        if name in cleaned and not checked.query(
                f"SELECT count(*) AS n FROM {checked.relation(name)}").column(0)[0].as_py():
            said = next((n for n in notes if f"table {name}: left out" in n), "")
            raise SourceError(f"{source.label}: table {name} has no rows left once its dirty "
                              f"rows are left out ({said.split(': ', 1)[-1][:200]})")
    return checked, notes


def _key_columns(table) -> list[str]:
    return list(table.primary_key) + [f.column for f in table.foreign_keys]


def _fatal_key_problems(source: Source, table, tables: dict) -> None:
    columns = tables[table.name]
    for name in table.primary_key:
        if name not in columns:
            raise SourceError(f"{source.label}: table {table.name} has no column {name} "
                              "(part of its primary key)")
    for fk in table.foreign_keys:
        parent = _parent_name(fk)
        if fk.column not in columns and (table.name, fk.column) in JOIN_KEYS \
                and parent in tables:
            raise SourceError(f"{source.label}: table {table.name} has no column {fk.column} "
                              f"(the key that joins it to {parent})")
    for name in dict.fromkeys(_key_columns(table)):
        declared = columns.get(name, "").upper()
        wanted = table.column(name).type if name in {c.name for c in table.columns} else ""
        if wanted == "int64" and (declared.startswith(_NOT_KEYS) or declared.endswith("]")):
            raise UnjoinableKeys(f"{source.label}: table {table.name}, column {name}: keys "
                                 f"must be integers, found {columns[name]} values")
        if declared and wanted == "int64" and not any(w in declared for w in _NUMERIC):
            example = _non_integer(source, table.name, name)
            if hasattr(source, "read_as_integers"):  # keys stored as text
                source.read_as_integers(table.name, name, example)
                continue
            found = f"text such as {example!r}" if example is not None else declared
            raise SourceError(f"{source.label}: table {table.name}, column {name}: keys "
                              f"must be integers, found {found}")
        if declared and wanted == "int64" and not declared.startswith(("INT", "BIGINT",
                                                                        "HUGEINT", "UBIGINT")):
            example = _fractional(source, table.name, name)
            if example is not None:
                raise SourceError(f"{source.label}: table {table.name}, column {name}: keys "
                                  f"must be integers, found {example}")


def _parent_name(fk) -> str:
    return fk.parent  # the registry's key of an entity table is its name


def _non_integer(source: Source, table: str, column: str) -> str | None:
    """A key value that is no 64-bit integer ('abc', '7.5', 22 digits; '7' and '7.0' are)."""
    ref = f'NULLIF(TRIM(CAST("{column}" AS VARCHAR)), \'\')'  # a blank is a NULL
    return _first_value(source, table, column, f"{ref} IS NOT NULL AND (NOT "
                        f"regexp_full_match({ref}, '[-+]?[0-9]+([.]0*)?') OR TRY_CAST({ref} "
                        "AS BIGINT) IS NULL)")


def _fractional(source: Source, table: str, column: str) -> str | None:
    """A key stored as a decimal number with a fraction (7.5): no row could join on it."""
    ref = f'TRY_CAST("{column}" AS DOUBLE)'
    return _first_value(source, table, column, f"{ref} <> floor({ref})")


def _first_value(source: Source, table: str, column: str, where: str) -> str | None:
    """The first (in text order) value of `column` in rows matching `where`, as at most 40
    characters of text; None when no row matches or the source is not DuckDB."""
    if source.dialect != "duckdb":
        return None
    rows = source.query(f"SELECT CAST(\"{column}\" AS VARCHAR) AS v FROM "
                        f"{source.relation(table)} WHERE {where} ORDER BY 1 "
                        "LIMIT 1").column(0).to_pylist()
    return str(rows[0])[:40] if rows else None


def _fatal_date_problems(source: Source, tables: dict) -> None:
    columns = tables.get("academic_term", {})
    if not {"term_begin_date", "term_end_date", "academic_term_id"} <= set(columns):
        return
    if source.dialect != "duckdb":
        return
    rows = source.query(
        "SELECT count(*) AS n, min(CAST(academic_term_id AS VARCHAR)) AS example FROM "
        f"{source.relation('academic_term')} WHERE TRY_CAST(term_end_date AS TIMESTAMP) < "
        "TRY_CAST(term_begin_date AS TIMESTAMP)").to_pylist()[0]
    if rows["n"]:
        raise SourceError(f"{source.label}: table academic_term, column term_end_date: "
                          f"{rows['n']:,} term(s) end before they begin (e.g. academic_term_id "
                          f"{rows['example']})")


def _clean_table(checked: CheckedSource, table, tables: dict, registry,
                 notes: list[str]) -> None:
    """Count and leave out the table's dirty rows (see the module's rule)."""
    base, repeated = _one_row_per_key(checked.inner, table)
    counts: list[tuple[str, str]] = []  # (what the left-out rows are, condition to keep)
    for fk in table.foreign_keys:
        parent = registry[fk.parent]
        if (parent.name not in tables or fk.column not in tables[table.name]
                or len(parent.primary_key) != 1 or parent.primary_key[0] not in
                tables[parent.name]):
            continue
        # a section of no offering (an enrollment of no section, …) has no place in the
        # institution's structure: a NULL there is dirty, as an orphan is
        joins = table.name in REQUIRED and (table.name, fk.column) in JOIN_KEYS
        names = f'src."{fk.column}" IN (SELECT "{parent.primary_key[0]}" FROM ' \
                f"{checked.relation(parent.name)})"
        counts.append((f"whose {fk.column} is NULL or names no {parent.name} row" if joins
                       else f"whose {fk.column} names no {parent.name} row",
                       names if joins else f'src."{fk.column}" IS NULL OR {names}'))
    if table.name == "learner_activity_result":
        counts += _in_term(checked, tables)
    found = _counts(base, counts, checked.inner) if counts else []
    if repeated or any(found):
        where = " AND ".join(f"({condition})" for _, condition in counts) or "true"
        checked.cleaned[table.name] = f"(SELECT src.* FROM {base} AS src WHERE {where})"
        key = table.primary_key[0] if len(table.primary_key) == 1 else \
            f"({', '.join(table.primary_key)})"
        parts = [f"{n:,} row(s) {what}" for n, what in
                 [(repeated, f"with a NULL or repeated {key}"),
                  *zip(found, (what for what, _ in counts), strict=True)] if n]
        notes.append(f"source table {table.name}: left out {'; '.join(parts)} (rule: dirty "
                     "rows are not estimated from; of rows sharing a key, one is kept)")


def _one_row_per_key(source: Source, table) -> tuple[str, int]:
    """The table without NULL keys and with one row of each repeated key (the least by the
    MD5 of its text: the same row whatever order the engine reads them in), and how many
    rows that leaves out. A person listed once per enrollment keeps the enrollments, where
    leaving every copy out lost their enrollments, results and grades as orphans too."""
    raw = source.relation(table.name)
    keys = ", ".join(f'"{c}"' for c in table.primary_key)
    known = " AND ".join(f'd."{c}" IS NOT NULL' for c in table.primary_key)
    row = source.query(f"SELECT (SELECT count(*) FROM {raw}) - (SELECT count(*) FROM "
                       f"(SELECT DISTINCT {keys} FROM {raw} AS d WHERE {known})) AS n"
                       ).to_pylist()[0]
    if not row["n"]:
        return raw, 0
    return (f"(SELECT * FROM {raw} AS d WHERE {known} QUALIFY row_number() OVER (PARTITION "
            f"BY {keys} ORDER BY md5(CAST(d AS VARCHAR))) = 1)"), int(row["n"])


def _refuse_without_students(checked: CheckedSource, tables: dict) -> None:
    """An institution is sized by its students: enrollments with roles but none a Student
    (roles named otherwise, 'Learner') leave nothing to learn the structure from."""
    if "role" not in tables.get("course_section_enrollment", {}):
        return
    relation = checked.relation("course_section_enrollment")
    students = checked.query(f"SELECT count(*) AS n FROM {relation} WHERE role = 'Student'")
    if students.column(0)[0].as_py():
        return
    rows = checked.query(f"SELECT CAST(role AS VARCHAR) AS role, count(*) AS n FROM {relation} "
                         "GROUP BY ALL ORDER BY n DESC, role LIMIT 6").to_pylist()
    if rows:
        found = ", ".join(f"{r['role']!r} ({r['n']:,})" for r in rows)
        raise SourceError(f"{checked.label}: table course_section_enrollment, column role: no "
                          f"enrollment is a Student (UDP roles: "
                          f"{', '.join(CANONICAL[('course_section_enrollment', 'role')])}); "
                          f"found {found}")


def _score_notes(checked: CheckedSource, tables: dict) -> list[str]:
    """Scores that are odd but kept, each counted in a note: below 0, above the activity's
    points (extra credit), or of an activity without points to divide by (not learned)."""
    if not ({"learner_activity_id", "published_score"} <= set(tables.get(
            "learner_activity_result", {})) and {"learner_activity_id", "points_possible"}
            <= set(tables.get("learner_activity", {}))):
        return []
    score = 'TRY_CAST(t."published_score" AS DOUBLE)'
    points = 'TRY_CAST(a."points_possible" AS DOUBLE)'
    row = checked.query(
        f"SELECT count(CASE WHEN {score} < 0 THEN 1 END) AS below, count(CASE WHEN "
        f"{points} > 0 AND {score} > {points} THEN 1 END) AS above, count(CASE WHEN {score} "
        f"IS NOT NULL AND NOT coalesce({points} > 0, false) THEN 1 END) AS pointless FROM "
        f"{checked.relation('learner_activity_result')} AS t JOIN "
        f"{checked.relation('learner_activity')} AS a USING (learner_activity_id)"
    ).to_pylist()[0]
    rules = {"below": "scored below 0 (kept: learned as negative fractions of the points)",
             "above": "scored above their activity's points_possible (kept: extra credit)",
             "pointless": "scored on an activity whose points_possible is 0, negative or "
                          "NULL (left out of the score distribution: no points to divide by)"}
    return [f"source table learner_activity_result: {row[k]:,} result(s) {text}"
            for k, text in rules.items() if row[k]]


def _counts(base: str, counts: list[tuple[str, str]], source: Source) -> list[int]:
    selects = ", ".join(f"sum(CASE WHEN ({condition}) THEN 0 ELSE 1 END) AS c{i}"
                        for i, (_, condition) in enumerate(counts))
    row = source.query(f"SELECT {selects} FROM {base} AS src").to_pylist()[0]
    return [int(row[f"c{i}"] or 0) for i in range(len(counts))]


def _in_term(checked: CheckedSource, tables: dict) -> list[tuple[str, str]]:
    """Results dated before their term began or long after it ended: the response times and
    grading delays would otherwise learn from them."""
    need = {"learner_activity": {"learner_activity_id", "course_offering_id"},
            "course_offering": {"course_offering_id", "academic_term_id"},
            "academic_term": {"academic_term_id", "term_begin_date", "term_end_date"},
            "learner_activity_result": {"learner_activity_id"}}
    dates = [c for c in ("response_date", "graded_date")
             if c in tables.get("learner_activity_result", {})]
    if not dates or any(not cols <= set(tables.get(t, {})) for t, cols in need.items()):
        return []
    rel = checked.relation
    window = (f"SELECT a.learner_activity_id AS id, TRY_CAST(term.term_begin_date AS TIMESTAMP)"
              f" AS b, TRY_CAST(term.term_end_date AS TIMESTAMP) AS e FROM "
              f"{rel('learner_activity')} AS a JOIN {rel('course_offering')} AS o ON "
              f"a.course_offering_id = o.course_offering_id JOIN {rel('academic_term')} AS term "
              f"ON o.academic_term_id = term.academic_term_id")
    outside = " OR ".join(f'TRY_CAST(src."{c}" AS TIMESTAMP) < w.b OR TRY_CAST(src."{c}" AS '
                          f"TIMESTAMP) > w.e + INTERVAL {LATE_DAYS} DAY" for c in dates)
    return [("dated outside their term", f"NOT EXISTS (SELECT 1 FROM ({window}) AS w WHERE "
             f"w.id = src.learner_activity_id AND ({outside}))")]
