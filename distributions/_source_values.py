"""Values of a profiling source read as the registry needs them, each change counted in a
note (the relation becomes `SELECT * REPLACE (...)` over the changed columns, never a copy):

- numbers and dates stored as text (a CSV column with one 'NA', a date in 08/26/2024 or
  26.08.2024 form, a number with thousands separators) are read as numbers and timestamps;
  a value that reads as neither is missing (an 'NA', a '?', 'soon'): one such value would
  otherwise make the whole column unreadable;
- NaN, ±Infinity and numbers beyond ±10^15 in a number column are missing;
- role and status values in another spelling ('student') are read in their UDP spelling.
"""

from __future__ import annotations

import re

from pipeline.udp._contract import MAX_MAGNITUDE

_FLOATS = ("DOUBLE", "FLOAT", "REAL")
_INTEGER = re.compile(r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?(8|16|32|64|128)?$")
_TEXT = ("VARCHAR", "CHAR", "STRING", "TEXT")
_NUMERIC = ("INT", "DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL")
# (a TIME of day is no date: a column of times is read as not in the source)
_TEMPORAL = ("DATE", "TIMESTAMP")
EVENT_TABLE = "expanded"
# the years a profile's calendar can hold (profile.schema.json, /calendar/first_term/year)
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
# the stored types a registry column of each type is read from (and text, and Parquet's null)
_READABLE = {"float64": _NUMERIC, "int64": _NUMERIC, "timestamp": _TEMPORAL, "date": _TEMPORAL}
# columns whose UDP values the profiler and generator name, in their UDP spelling
CANONICAL = {("course_section_enrollment", "role"): (
                 "Student", "Teacher", "TeachingAssistant", "Designer", "Observer", "Faculty"),
             ("course_section_enrollment", "role_status"): (
                 "Enrolled", "Withdrawn", "Dropped", "Completed", "NoData")}



# date and time layouts tried, after ISO 8601, on a date column stored as text: each column
# reads its values in the layouts that fit them, the one fitting most first (so 03/04/2024 is
# read day-first in a column where 26/08/2024 shows the day comes first)
DATE_LAYOUTS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d/%m/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M", "%d/%m/%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
                "%d.%m.%Y", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%d-%b-%Y", "%d %b %Y",
                "%b %d %Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y")
# 1,234,567.5 (and 1,250: thousands, never a decimal comma); 12,5 and 0,25 (decimal commas)
_THOUSANDS = "[-+]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]+)?"
_DECIMAL_COMMA = "[-+]?[0-9]+,[0-9]+"


def readable_types(source, table) -> None:
    """The registry's number and date columns (keys aside) whose stored type can be neither:
    dates stored as integers yyyymmdd (20240826) are read as dates; any other (dates as
    other numbers — day offsets, epoch seconds —, numbers as dates or booleans) is read as
    not in the source, so the profile keeps the default's part for it: both in a note."""
    keys = set(table.primary_key) | {fk.column for fk in table.foreign_keys}
    declared = source.tables()[table.name]
    for column in table.columns:
        readable = _READABLE.get(column.type)
        if readable is None or column.name in keys or column.name not in declared:
            continue
        stored = declared[column.name].upper().strip('"')
        if stored.startswith(_TEXT) or stored == "NULL" or any(w in stored for w in readable):
            continue  # (text is read by readable_numbers_and_dates)
        if readable is _TEMPORAL and _INTEGER.match(stored) and _all_yyyymmdd(
                source, table.name, column.name):
            ref = f'"{column.name}"'
            source.read_through(table.name, column.name, f"CAST(strptime(CAST({ref} AS "
                                f"VARCHAR), '%Y%m%d') AS VARCHAR)", "VARCHAR",
                                f"column {column.name} read as dates from integers yyyymmdd")
        else:
            what = "dates" if readable is _TEMPORAL else "numbers"
            source.forget(table.name, column.name, f"column {column.name} holds {stored}, "
                          f"not {what}: read as not in the source")


def _all_yyyymmdd(source, name: str, column: str) -> bool:
    """Whether every value of an integer column reads as a date yyyymmdd (1900–2199)."""
    ref = f'"{column}"'
    bad = source.query(f"SELECT count(*) AS n FROM {source.relation(name)} WHERE {ref} IS NOT "
                       f"NULL AND ({ref} NOT BETWEEN 19000101 AND 21991231 OR try_strptime("
                       f"CAST({ref} AS VARCHAR), '%Y%m%d') IS NULL)").column(0)[0].as_py()
    return bad == 0


def readable_numbers_and_dates(checked, table, tables: dict, notes: list[str]) -> None:
    """The registry's number and date columns (keys aside) that the source stores as text,
    read as numbers and timestamps: text in another date layout or with thousands
    separators converted, text that reads as neither missing, both counted in a note."""
    keys = set(table.primary_key) | {fk.column for fk in table.foreign_keys}
    declared = tables[table.name]
    wanted = {c.name: "number" if c.type in ("float64", "int64") else "time"
              for c in table.columns if c.type in ("float64", "int64", "timestamp", "date")
              and c.name not in keys and c.name in declared
              and declared[c.name].upper().startswith(_TEXT)}
    _read_as(checked, table.name, wanted, notes)


def readable_event_times(checked, tables: dict, notes: list[str]) -> None:
    """The event table's `event_time` stored as text, read as timestamps the same way: a
    value that reads as none (a blank, 'not a time') is missing, and its event is not
    counted, where one such value among millions stopped the whole profile."""
    declared = tables.get(EVENT_TABLE, {}).get("event_time", "")
    if declared.upper().startswith(_TEXT):
        _read_as(checked, EVENT_TABLE, {"event_time": "time"}, notes)


def _read_as(checked, name: str, wanted: dict[str, str], notes: list[str]) -> None:
    """Read each of `wanted` ({column: number or time}) as its kind, with a note."""
    if not wanted:
        return
    layouts = {c: _date_layouts(checked, name, c) for c, k in wanted.items() if k == "time"}
    expressions = {c: _readable(c, kind, layouts.get(c, [])) for c, kind in wanted.items()}
    unreadable = _unreadable(checked, name, expressions)
    found = rewrite_values(checked, name, expressions)
    if found:
        notes.append(f"source table {name}: " + "; ".join(
            _readable_note(c, wanted[c], n, layouts.get(c, []), unreadable.get(c))
            for c, n in found.items()))


def _text(column: str) -> str:
    return f"""NULLIF(TRIM(CAST("{column}" AS VARCHAR)), '')"""


def _readable(column: str, kind: str, layouts: list[str]) -> str:
    """SQL reading `column` as `kind`: a value that already reads as one unchanged, one in
    another layout converted (as text: the column's declared type stays), else NULL."""
    t = _text(column)
    if kind == "number":
        other = (f"WHEN regexp_full_match({t}, '{_THOUSANDS}') THEN replace({t}, ',', '') "
                 f"WHEN regexp_full_match({t}, '{_DECIMAL_COMMA}') THEN replace({t}, ',', '.')")
        cast = "DOUBLE"
    else:
        other = (f"WHEN try_strptime({t}, {_sql_list(layouts)}) IS NOT NULL THEN CAST("
                 f"try_strptime({t}, {_sql_list(layouts)}) AS VARCHAR)") if layouts else ""
        cast = "TIMESTAMP"
    return (f'CASE WHEN {t} IS NULL OR TRY_CAST({t} AS {cast}) IS NOT NULL THEN "{column}" '
            f"{other} ELSE NULL END")


def _sql_list(layouts: list[str]) -> str:
    return "[" + ", ".join(f"'{f}'" for f in layouts) + "]"


def _date_layouts(checked, name: str, column: str) -> list[str]:
    """The layouts of DATE_LAYOUTS that read some of the column's non-ISO values, the one
    reading most first."""
    t = _text(column)
    row = checked.query("SELECT " + ", ".join(
        f"count(try_strptime({t}, '{f}')) AS c{i}" for i, f in enumerate(DATE_LAYOUTS))
        + f" FROM {checked.relation(name)} WHERE TRY_CAST({t} AS TIMESTAMP) IS NULL"
    ).to_pylist()[0]
    counted = [(-(row[f"c{i}"] or 0), i) for i in range(len(DATE_LAYOUTS)) if row[f"c{i}"]]
    return [DATE_LAYOUTS[i] for _, i in sorted(counted)]


def _unreadable(checked, name: str, expressions: dict[str, str]) -> dict[str, tuple]:
    """Per column, how many values its expression reads as missing, and the first of them
    (in text order)."""
    row = checked.query("SELECT " + ", ".join(
        f"count(CASE WHEN ({e}) IS NULL THEN {_text(c)} END) AS n{i}, "
        f"min(CASE WHEN ({e}) IS NULL THEN left({_text(c)}, 40) END) AS c{i}"
        for i, (c, e) in enumerate(expressions.items()))
        + f" FROM {checked.relation(name)}").to_pylist()[0]
    return {c: (row[f"n{i}"], _shown(row[f"c{i}"])) for i, c in enumerate(expressions)
            if row[f"n{i}"]}


def _shown(value: str | None) -> str | None:
    """A value fit to quote in the notes, which the privacy manifest keeps: a short word or
    mark ('NA', '?', 'thirty'), never one holding a digit (an id, a phone number, a date of
    birth) or longer text."""
    return value if value and len(value) <= 12 and not any(ch.isdigit() for ch in value) \
        else None


def _readable_note(column: str, kind: str, changed: int, layouts: list[str],
                   unreadable: tuple | None) -> str:
    what = "numbers" if kind == "number" else "dates"
    missing, example = unreadable or (0, None)
    parts = []
    if changed > missing:
        how = (f"in the layout {' or '.join(layouts[:3])}" if layouts else
               "(thousands separators or decimal commas)" if kind == "number" else "")
        parts.append(f"{changed - missing:,} value(s) of {column} read as {what} {how}")
    if missing:
        such = f" (such as {example!r})" if example else ""
        parts.append(f"{missing:,} value(s) of {column} that are not {what}{such} read as "
                     "missing")
    return "; ".join(parts)


def clear_non_finite(checked, table, tables: dict, notes: list[str]) -> None:
    """NaN, ±Infinity and numbers beyond ±MAX_MAGNITUDE in a number column (keys aside: a
    float or integer column, or text that reads as numbers) are read as missing, counted in
    a note: one such value makes every mean, quantile and correlation of the column NaN or
    overflow, and a profile cannot hold it (a score of 1e300 is a broken row, not a score)."""
    keys = set(table.primary_key) | {fk.column for fk in table.foreign_keys}
    registry_numbers = {c.name for c in table.columns if c.type in ("float64", "int64")}
    columns = [c for c, declared in tables[table.name].items() if c not in keys and (
        declared.upper().startswith((*_FLOATS, "DECIMAL")) or _INTEGER.match(declared.upper())
        or (
            c in registry_numbers and declared.upper().startswith("VARCHAR")))]
    found = rewrite_values(checked, table.name, {
        c: f'CASE WHEN isfinite(TRY_CAST("{c}" AS DOUBLE)) IS FALSE OR abs(TRY_CAST("{c}" AS '
           f'DOUBLE)) > {MAX_MAGNITUDE:g} THEN NULL ELSE "{c}" END' for c in columns})
    if found:
        notes.append(f"source table {table.name}: " + "; ".join(
            f"{n:,} value(s) of {c} are NaN or infinite or beyond ±{MAX_MAGNITUDE:g}"
            for c, n in found.items()) + " (read as missing)")


def clear_distant_dates(checked, table, tables: dict, notes: list[str]) -> None:
    """Dates of the registry's date columns (keys aside) before EARLIEST_YEAR or after
    LATEST_YEAR (1800-08-26, a 9999-12-31 placeholder) are read as missing, counted in a note:
    a profile's calendar cannot hold such a year, and no term or result of an institution
    whose data a UDP holds lies there."""
    keys = set(table.primary_key) | {fk.column for fk in table.foreign_keys}
    columns = [c.name for c in table.columns if c.type in ("timestamp", "date")
               and c.name not in keys and c.name in tables[table.name]]
    found = rewrite_values(checked, table.name, {
        c: f'CASE WHEN NOT (TRY_CAST("{c}" AS TIMESTAMP) BETWEEN TIMESTAMP '
           f"'{EARLIEST_YEAR}-01-01' AND TIMESTAMP '{LATEST_YEAR}-12-31 23:59:59.999999') "
           f'THEN NULL ELSE "{c}" END' for c in columns})
    if found:
        notes.append(f"source table {table.name}: " + "; ".join(
            f"{n:,} value(s) of {c} dated before {EARLIEST_YEAR} or after {LATEST_YEAR}"
            for c, n in found.items()) + " (read as missing)")


def canonical_spelling(checked, name: str, tables: dict,
                        notes: list[str]) -> None:
    """Values of the columns whose UDP values the profile and generator name (a Student, a
    Withdrawn status) read in their UDP spelling when they differ from it only in case,
    spaces, hyphens or underscores ('student', 'TEACHING_ASSISTANT'), counted in a note:
    otherwise a source whose roles are spelled 'student' has no students at all."""
    columns = {c: words for (t, c), words in CANONICAL.items()
               if t == name and c in tables.get(name, {})}

    def folded(column: str) -> str:
        return f"""lower(regexp_replace(CAST("{column}" AS VARCHAR), '[^A-Za-z0-9]', '', 'g'))"""

    found = rewrite_values(checked, name, {
        c: "CASE " + " ".join(f"WHEN {folded(c)} = '{w.lower()}' THEN '{w}'" for w in words)
        + f' ELSE "{c}" END' for c, words in columns.items()})
    if found:
        notes.append(f"source table {name}: " + "; ".join(
            f"{n:,} value(s) of {c} read in their UDP spelling ({', '.join(columns[c])})"
            for c, n in found.items()))


def rewrite_values(checked, name: str, rewritten: dict[str, str]) -> dict:
    """Read each column of `rewritten` through its SQL expression wherever that changes a
    value: the table's relation becomes `SELECT * REPLACE (...)` over those columns. Returns
    how many values each changed column had rewritten (none changed: the relation stays)."""
    if not rewritten:
        return {}
    relation = checked.relation(name)
    row = checked.query("SELECT " + ", ".join(
        f'count(CASE WHEN ({e}) IS DISTINCT FROM "{c}" THEN 1 END) AS c{i}'
        for i, (c, e) in enumerate(rewritten.items())) + f" FROM {relation}").to_pylist()[0]
    found = {c: int(row[f"c{i}"] or 0) for i, c in enumerate(rewritten) if row[f"c{i}"]}
    if found:
        replaced = ", ".join(f'{rewritten[c]} AS "{c}"' for c in found)
        checked.cleaned[name] = f"(SELECT * REPLACE ({replaced}) FROM {relation})"
    return found
