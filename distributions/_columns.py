"""Every column of every source table: the institution's own columns profiled by their type,
sensitive ones recognised by name and by content, and a record of what was read, skipped
(and why) or defaulted.

An *extra* is a column of a context-store table that the registry does not list (a
demographic band, an outcome label, a registration day). It is profiled like a registry
column — categorical shares for text, booleans and integer codes; a continuous summary with
quantiles for numbers; dates and timestamps as days since the epoch — and recorded under
`/tables/<table>/extras/<name>` with its type, so the generator emits it under its own name
and type. Nothing leaves the source for a column that looks sensitive: its name says so
(`distributions._privacy.sensitive_name`), or its values do (e-mail-like, long free text,
near-unique strings, an integer distinct on every row).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from distributions._estimators import Summary, summarize, value_cells, value_counts
from distributions._noisy_continuous import noised_column
from distributions._privacy import sensitive_name
from distributions._structure import has_people

CATEGORICAL_MAX = 20  # numbers with at most this many distinct values are shares, not a range
FREE_TEXT_LENGTH = 40  # mean characters above which text is free text, not a category
NEAR_UNIQUE = 0.5  # distinct/non-null above which strings identify rows, not group them
EMAIL = r"^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$"
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# candidate columns counted per scan of a table (each COUNT(DISTINCT) holds its own hash table)
STATS_PER_SCAN = 64
DAY_UNIT = "days since 1970-01-01"
# registry columns that count (a section's capacity): shares of their few values where the
# source has at most CATEGORICAL_MAX of them, as an evaluation compares them, else a range
COUNTED_LEVELS = frozenset({("course_section", "max_enrollment")})


def generated_type(declared: str) -> str | None:
    """The registry type (string, int64, float64, bool, date, timestamp) a source column of
    engine type `declared` is generated as, or None for types campus-synth does not make."""
    kind = declared.upper()
    if "[" in kind or kind.startswith(("STRUCT", "MAP", "UNION", "ARRAY", "RECORD", "JSON")):
        return None  # nested values: no flat distribution
    if kind.startswith("BOOL"):
        return "bool"
    if any(word in kind for word in ("TIMESTAMP", "DATETIME")):
        return "timestamp"
    if kind == "DATE":
        return "date"
    if "INT" in kind and "INTERVAL" not in kind:
        return "int64"
    if any(word in kind for word in ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC")):
        return "float64"
    if any(word in kind for word in ("CHAR", "STRING", "TEXT")):
        return "string"
    return None


def count_levels(counts: dict) -> dict | None:
    """`counts` ({value: count}) when a count takes few whole values (a capacity the
    registrar sets in a handful of levels: 30, 45, 2000), else None (drawn as a range)."""
    values = [v for v in counts if v is not None]
    if not values or len(values) > CATEGORICAL_MAX or \
            any(not float(v).is_integer() for v in values):
        return None
    return counts


@dataclass
class Stats:
    """What one query over a table tells about a column: non-null rows, distinct values,
    mean length and e-mail-like values (text only)."""

    n: int
    distinct: int
    length: float = 0.0
    emails: int = 0


def extras_part(p, profile: dict) -> None:
    """Profile every extra column of the source's context-store tables into `profile`;
    the outcome of each is kept in `p.column_status` for the coverage record."""
    p.column_status = getattr(p, "column_status", {})
    for table in sorted(set(p.reader.tables) & set(p.entities)):
        _registry_sensitive(p, table)
        known = {c.name for c in p.entities[table].columns}
        extras = {c: t for c, t in p.reader.tables[table].items() if c not in known}
        if extras:
            _table_extras(p, profile, table, extras)


def _registry_sensitive(p, table: str) -> None:
    """Name in the notes the registry's sensitive columns the source holds (keys aside:
    they are read, for the structure, and never published)."""
    entity = p.entities[table]
    for column in p.reader.tables[table]:
        if column in {c.name for c in entity.columns} and entity.column(column).sensitive \
                and not (entity.parent_of(column) or column in entity.primary_key):
            p.notes.append(f"/tables/{table}/columns/{column}: not profiled (sensitive: "
                           f"marked {entity.column(column).sensitive} in the registry)")


def _table_extras(p, profile: dict, table: str, extras: dict[str, str]) -> None:
    for column, (kind, stats) in screened_extras(p, table, extras).items():
        _profile_extra(p, profile, table, column, kind, stats)


def screened_extras(p, table: str, extras: dict[str, str]) -> dict[str, tuple[str, Stats]]:
    """The extras ({column: engine type}) that may be profiled, each with its generated type
    and counts; every other one is skipped with its reason in the notes (a name that is not
    an identifier, a type campus-synth does not make, a sensitive name or content, no
    value)."""
    typed = {c: generated_type(t) for c, t in extras.items()}
    for column, kind in typed.items():
        if not PLAIN_NAME.fullmatch(column):
            typed[column] = None
            _skip(p, table, column, "its name is not a plain identifier (letters, digits, _)")
        elif kind is None:
            _skip(p, table, column, f"unsupported type {extras[column]}")
        elif sensitive_name(column):
            _skip(p, table, column, f"sensitive: its name says {sensitive_name(column)}")
    candidates = {c: k for c, k in typed.items() if k and not sensitive_name(c)}
    stats = column_stats(p, table, candidates) if candidates else {}
    kept = {}
    for column, kind in candidates.items():
        reason = sensitive_content(stats[column], kind, p.guard.k)
        if stats[column].n == 0:
            _skip(p, table, column, "every value is null")
        elif reason:
            _skip(p, table, column, f"sensitive: {reason}")
        else:
            kept[column] = (kind, stats[column])
    return kept


def _skip(p, table: str, column: str, reason: str) -> None:
    p.column_status[(table, column)] = ("skipped", reason)
    p.notes.append(f"/tables/{table}/columns/{column}: not profiled ({reason})")


def column_stats(p, table: str, columns: dict[str, str]) -> dict[str, Stats]:
    """Every candidate column's counts, one scan of the table per STATS_PER_SCAN columns:
    each COUNT(DISTINCT) holds its own hash table, and a table of hundreds of columns in one
    scan exhausted the source's memory limit (400 columns of 80 rows: out of memory)."""
    names = list(columns)
    stats: dict[str, Stats] = {}
    for start in range(0, len(names), STATS_PER_SCAN):
        chunk = names[start:start + STATS_PER_SCAN]
        stats |= _scanned_stats(p, table, {c: columns[c] for c in chunk})
    return stats


def _scanned_stats(p, table: str, columns: dict[str, str]) -> dict[str, Stats]:
    """One scan of the table for the counts of `columns`."""
    r, sql = p.reader, p.sql
    parts = []
    for i, (column, kind) in enumerate(columns.items()):
        ref = f"t.{sql.ident(column)}"
        value = sql.text(ref) if kind == "string" else ref
        parts.append(f"COUNT({value}) AS n{i}, COUNT(DISTINCT {value}) AS d{i}")
        if kind == "string":
            parts.append(f"AVG(LENGTH({value})) AS l{i}, "
                         f"SUM(CASE WHEN {_matches(sql, value, EMAIL)} THEN 1 ELSE 0 END) AS e{i}")
    row = r.rows(f"SELECT {', '.join(parts)} FROM {r.rel(table)} AS t")[0]
    return {column: Stats(int(row[f"n{i}"] or 0), int(row[f"d{i}"] or 0),
                          float(row.get(f"l{i}") or 0.0), int(row.get(f"e{i}") or 0))
            for i, column in enumerate(columns)}


def _matches(sql, expr: str, pattern: str) -> str:
    if sql.dialect == "bigquery":
        return f"REGEXP_CONTAINS({expr}, r'{pattern.replace('[:space:]', chr(92) + 's')}')"
    return f"regexp_full_match({expr}, '{pattern}')"


def sensitive_content(s: Stats, kind: str, k: int) -> str | None:
    """Why the values look like identifiers, names, e-mails or free text, or None."""
    if kind == "string":
        if s.emails:
            return f"e-mail-like values ({s.emails:,} of {s.n:,})"
        if s.length > FREE_TEXT_LENGTH:
            return f"free text (mean length {s.length:.0f} characters)"
        if s.distinct >= k and s.distinct > NEAR_UNIQUE * s.n:
            return f"near-unique values ({s.distinct:,} distinct of {s.n:,})"
    if kind == "int64" and s.n >= 2 * k and s.distinct == s.n:
        return f"an identifier (every one of {s.n:,} values is distinct)"
    return None


def _profile_extra(p, profile: dict, table: str, column: str, kind: str, s: Stats) -> None:
    path = f"/tables/{table}/columns/{column}"
    dist = extra_distribution(p, path, table, column, kind, s)
    if dist is None:
        _skip(p, table, column, "no value survives the privacy rules")
        return
    spec = profile["tables"].setdefault(table, {"columns": {}})
    spec["columns"][column] = dist
    spec.setdefault("extras", {})[column] = {"type": kind}
    how = dist["kind"] + (f" ({dist.get('family')})" if dist["kind"] == "continuous" else "")
    p.column_status[(table, column)] = ("profiled", f"institution column, {kind}, as {how}")
    p.notes.append(f"{path}: institution column profiled as {how}, generated as {kind}")


def extra_distribution(p, path: str, table: str, column: str, kind: str, s: Stats,
                       person: str | None = None) -> dict | None:
    """An extra column's distribution: shares of its values for text, booleans and few
    numbers, else a continuous summary with quantiles. `person` is the SQL (alias t) of the
    person behind a row in a table without `person_id` (the events' `person.udp_id`): the
    cells then count people, and ε noises person-weighted histograms."""
    categorical = kind in ("string", "bool") or (kind in ("int64", "float64")
                                                 and s.distinct <= CATEGORICAL_MAX)
    return (_categorical(p, path, table, column, kind, person) if categorical
            else _continuous(p, path, table, column, kind, person))


def _categorical(p, path: str, table: str, column: str, kind: str,
                 person: str | None) -> dict | None:
    text = kind in ("string", "bool")
    expr = p.reader.col(table, column, "text" if text else "number")
    rel = p.reader.rel(table)
    counts = (value_cells(p.reader, f"SELECT {expr} AS v, {person} AS pid FROM {rel} AS t")
              if person else value_counts(p.reader, f"SELECT {expr} AS v FROM {rel} AS t"))
    values = {_value(v, kind): c for v, c in counts.get((), {}).items()}
    return p.guard.categorical(path, values, text=kind == "string", nodata=False)


def _value(value, kind: str):
    if value is None:
        return None
    if kind == "bool":
        return str(value).strip().lower() in ("true", "t", "1", "yes", "y")
    if kind == "string":
        return str(value)
    number = float(value)
    return int(number) if number.is_integer() else number


def _continuous(p, path: str, table: str, column: str, kind: str,
                person: str | None) -> dict | None:
    r, sql = p.reader, p.sql
    template: dict = {"null_fraction": 0.0, "integer": kind == "int64"}
    if kind in ("date", "timestamp"):
        x = f"{sql.seconds(r.col(table, column, 'time'))} / 86400.0"
        template["unit"] = DAY_UNIT
    else:
        x = r.col(table, column, "number")
    pid = person or (r.col(table, "person_id", "key", "t") if r.has(table, "person_id")
                     else None)
    if p.guard.epsilon is not None and pid:  # noised histograms
        return noised_column(p, path, f"SELECT {x} AS x, {pid} AS pid FROM {r.rel(table)} AS t",
                             template)
    summary = summarize(r, f"SELECT {x} AS x FROM {r.rel(table)} AS t", p.guard.k)
    return p.guard.continuous(path, summary.get((), Summary(0, 0)), template,
                              people=bool(person) or has_people(p, table))


# ---- coverage ---------------------------------------------------------------------------
def coverage(p, profile: dict) -> dict:
    """Every source table and column with what the profile did with it: read, profiled,
    skipped (why) or defaulted; and the registry's tables the source lacks."""
    out: dict = {}
    listed = set(p.reader.tables) | set(p.counts)  # empty tables were dropped from the reader
    for table in sorted(listed):
        if table not in p.entities:
            out[table] = {"status": "skipped" if table not in _OTHER_READERS else "read",
                          "reason": _OTHER_READERS.get(table, "not a context-store table "
                                                       "campus-synth generates")}
            if table == "expanded" and table in p.reader.tables:
                out[table]["columns"] = _event_columns(p)
            continue
        if table not in p.reader.tables:
            out[table] = {"status": "skipped", "reason": "empty: treated as missing"}
            continue
        # the released count: under ε a person table's is noised (_noisy_counts)
        out[table] = {"status": "read", "rows": p.released_counts.get(table, 0),
                      "columns": _columns(p, profile, table)}
    for table in sorted(set(p.entities) - listed):
        out[table] = {"status": "defaulted", "reason": "not in the source: generated from "
                      "the default profile"}
    return out


_OTHER_READERS = {"expanded": "read by the event-rate model (distributions/_event_rates.py)",
                  "context_store_distributions": "Unizin's distributions table: read only "
                  "when the context store is absent"}


def _columns(p, profile: dict, table: str) -> dict:
    entity, source = p.entities[table], p.reader.tables[table]
    kept = {note.split(":", 1)[0] for note in p.notes if "kept the default" in note}
    out = {}
    for column in source:
        if (table, column) in p.column_status:
            status, reason = p.column_status[(table, column)]
        elif column not in {c.name for c in entity.columns}:
            status, reason = "skipped", "not examined"
        else:
            status, reason = _registry_column(entity, column, profile, kept)
        out[column] = {"status": status, "reason": reason}
    for c in entity.columns:
        if c.name not in source:
            out[c.name] = {"status": "defaulted", "reason": "not in the source: " + (
                "the default profile's distribution is kept" if c.from_profile
                else f"generated by the `{c.gen}` rule")}
    return out


def _event_columns(p) -> dict:
    """The event table's columns: the event store's, read by the event-rate model where it
    needs them, and the table's own, profiled or skipped (distributions/_event_extras.py)."""
    status = getattr(p, "column_status", {})
    return {column: dict(zip(("status", "reason"), status.get(
        ("expanded", column), ("read", "an event store column (the event-rate model reads "
                               "those it needs)")), strict=True))
            for column in p.reader.tables["expanded"]}


def _registry_column(entity, column: str, profile: dict, kept: set[str]) -> tuple[str, str]:
    c = entity.column(column)
    path = f"/tables/{entity.name}/columns/{column}"
    if entity.parent_of(column) or column in entity.primary_key:
        return "read", "a key: its joins give the structure (rows per parent)"
    if c.sensitive:
        return "skipped", f"sensitive: marked {c.sensitive} in the registry"
    if column in profile["tables"].get(entity.name, {}).get("columns", {}):
        if path in kept:
            return "defaulted", "read, but the default profile's distribution is kept"
        return "profiled", "registry column"
    return "read", f"generated by the `{c.gen}` rule (its parameters, where profiled, " \
                   "come from the source)"
