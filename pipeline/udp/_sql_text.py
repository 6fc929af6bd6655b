"""SQL string literals, written one way wherever a value goes into a statement's text: the
profiler's and the evaluation's queries, the DuckDB load's comments and file lists."""

from __future__ import annotations


def string_literal(value) -> str:
    """`value` (as text) as a single-quoted SQL string literal, its quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"
