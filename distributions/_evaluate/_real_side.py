"""The real side of `evaluate --real`, read as `profile` reads it: the same checks and
value readers (distributions/_source_checks.py), and the registry's number and date
columns stored as text cast to their type, so that each figure compares the values the
profile learned (a score column with one '?' is numbers, not text categories)."""

from __future__ import annotations

from distributions._source_checks import CheckedSource, UnjoinableKeys, check_source
from distributions._sources import Source
from pipeline.errors import SourceError
from pipeline.udp._registry import REGISTRY


def as_profiled(source: Source) -> Source:
    """The real source as the profiler reads it: numbers and dates stored as text read as
    such (an 'NA' or '?' missing), non-finite numbers missing, roles in UDP spelling, rows
    whose keys do not resolve left out — so each figure compares the values the profile
    learned, not a column of text. Its notes are the profile's to say. A source the
    profiler would refuse (a key column missing) is compared as it is stored, as before,
    unless its keys cannot join at all (stored as records or timestamps: refused)."""
    try:
        checked, _ = check_source(source, REGISTRY)
    except UnjoinableKeys:
        source.close()
        raise
    except SourceError:
        return source
    except BaseException:
        source.close()
        raise
    if isinstance(checked, CheckedSource):
        for table, relation in list(checked.cleaned.items()):
            checked.cleaned[table], checked.read_types[table] = _typed(checked, table,
                                                                       relation)
    return checked


_SQL_TYPE = {"float64": "DOUBLE", "int64": "DOUBLE", "timestamp": "TIMESTAMP",
             "date": "TIMESTAMP"}


def _typed(checked: CheckedSource, table: str, relation: str) -> tuple[str, dict[str, str]]:
    """`relation` with the registry's number and date columns that the source stores as
    text cast to their type (the checks read them, but keep the declared text type), and
    its column types as read: the one DESCRIBE of the cleaned relation."""
    described = checked.connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    stored = {row[0]: row[1] for row in described}
    spec = REGISTRY.tables.get(table)
    cast = {c.name: _SQL_TYPE[c.type] for c in (spec.columns if spec else ())
            if c.type in _SQL_TYPE and stored.get(c.name, "").upper() == "VARCHAR"}
    if not cast:
        return relation, stored
    casts = ", ".join(f'TRY_CAST("{c}" AS {kind}) AS "{c}"' for c, kind in cast.items())
    return f"(SELECT * REPLACE ({casts}) FROM {relation})", {**stored, **cast}
