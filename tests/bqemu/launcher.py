"""Start bqemulator (a BigQuery REST API over DuckDB) on 127.0.0.1 for the test suite, offline.

Run it with the emulator's own interpreter, never the project's (bqemulator resolves a pyarrow
above Apache Beam's cap, so it lives in `.venv-bqemu`):

    .venv-bqemu/bin/python tests/bqemu/launcher.py --port 9050

bqemulator's `DuckDBEngine.start()` runs `INSTALL spatial; LOAD spatial` (fatal when it fails)
and, unless `enable_format_extensions` is off, `INSTALL avro; LOAD avro`; both INSTALLs download
from DuckDB's extension repository, which is unreachable here. This launcher replaces those two
start-up hooks with no-ops (GEOGRAPHY functions and Avro loads are then unavailable; nothing in
the suite uses them), turns DuckDB's automatic extension install off so no later query can
reach out either, and then runs the server exactly as `bqemulator start` would. It patches the
classes in memory only; the installed package is not edited.

It also parses each SQL text once (`_parse_once`): bqemulator parses a query's text with
sqlglot again in each of its steps (statement kind, DML and DDL guards, fast paths, rewriters,
the catalog sync), and parsing was four fifths of the emulator's time (sampled) under
tests/test_evaluate_bigquery.py, whose long nested queries take sqlglot's BigQuery parser
seconds. Each step now gets a fresh copy of the one parse: the tree a parse would give it.
And sqlglot's BigQuery parser copies every subquery it reads in a FROM or JOIN whole, to take
its alias (`_implicit_unnests_to_explicit`), at every level of nesting (`_light_subqueries`):
it now copies the subquery without its query, and the alias it reads is the same.
"""

from __future__ import annotations

import argparse
import sys


def _offline_engine() -> None:
    from bqemulator.storage.engine import DuckDBEngine

    hooks = ("_load_spatial", "_load_format_extensions", "_apply_session_pragmas")
    missing = [name for name in hooks if not hasattr(DuckDBEngine, name)]
    if missing:  # a bqemulator release that moved its start-up hooks: fail loudly, do not hang
        raise SystemExit(f"bqemulator's DuckDBEngine has no {', '.join(missing)}; "
                         "tests/bqemu/launcher.py needs updating for this version")

    original_pragmas = DuckDBEngine._apply_session_pragmas

    def _apply_session_pragmas(self) -> None:
        original_pragmas(self)
        # parquet, json and icu are statically linked in the duckdb wheel; anything else must
        # fail instead of being downloaded on first use
        self._connection.execute("SET autoinstall_known_extensions = false")

    def _skip(self) -> None:
        return None

    DuckDBEngine._apply_session_pragmas = _apply_session_pragmas
    DuckDBEngine._load_spatial = _skip
    DuckDBEngine._load_format_extensions = _skip


def _parse_once(size: int = 256) -> None:
    """Memoise sqlglot's `Dialect.parse` by (dialect, its version and settings, the parser's
    options, the SQL text).

    A parse is a pure function of those; callers rewrite the trees they get in place, so each
    call returns deep copies (`Expr.copy`, sqlglot's own), never the kept trees. A text that
    fails to parse is not kept: each call raises as before. The last `size` texts are kept."""
    import threading
    from collections import OrderedDict

    from sqlglot.dialects.dialect import Dialect

    original = Dialect.parse
    kept: OrderedDict = OrderedDict()
    lock = threading.Lock()  # the server answers from more than one thread

    def parse(self, sql: str, **opts):
        try:
            key = (type(self), getattr(self, "version", None),
                   getattr(self, "normalization_strategy", None),
                   tuple(sorted(getattr(self, "settings", {}).items())),
                   tuple(sorted(opts.items())), sql)
            hash(key)
        except TypeError:  # an option that cannot be a key: parse as before
            return original(self, sql, **opts)
        with lock:
            trees = kept.get(key)
            if trees is not None:
                kept.move_to_end(key)
        if trees is None:
            trees = original(self, sql, **opts)
            with lock:
                kept[key] = trees
                if len(kept) > size:
                    kept.popitem(last=False)
        return [tree.copy() if tree is not None else None for tree in trees]

    Dialect.parse = parse


def _light_subqueries() -> None:
    """sqlglot's `Parser._implicit_unnests_to_explicit` (dialects with implicit UNNEST, such as
    BigQuery) copies each FROM and JOIN source and normalises the copy's identifiers, only to
    read its `alias_or_name` (and, of a table, its parts). For a subquery that copy holds the
    whole query below it, at every level of nesting: half of a parse of `campus-synth
    evaluate`'s nested queries. While it runs, each such subquery hides its query (`this`),
    which neither the name read (a subquery's is its alias: `text("this")` of a query is "")
    nor the alias's normalisation (an identifier's, by its own parents) depends on; the
    query is put back untouched afterwards. The parsed tree is the same."""
    from sqlglot import exp
    from sqlglot.parser import Parser

    if not hasattr(Parser, "_implicit_unnests_to_explicit"):
        raise SystemExit("sqlglot's Parser has no _implicit_unnests_to_explicit; "
                         "tests/bqemu/launcher.py needs updating for this version")
    original = Parser._implicit_unnests_to_explicit

    def _implicit_unnests_to_explicit(self, this):
        sources = [this.args["from_"].this, *(join.this for join in this.args.get("joins") or [])]
        hidden = [(node, node.args["this"]) for node in sources
                  if isinstance(node, exp.Subquery) and isinstance(node.args.get("this"),
                                                                   exp.Query)]
        for node, _ in hidden:
            node.args["this"] = None  # the dict only: the query keeps its parent link
        try:
            return original(self, this)
        finally:
            for node, query in hidden:
                node.args["this"] = query

    Parser._implicit_unnests_to_explicit = _implicit_unnests_to_explicit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="REST port on 127.0.0.1")
    parser.add_argument("--grpc-port", type=int, default=0,
                        help="gRPC port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--project", default="test-project", help="default project id")
    parser.add_argument("--log-level", default="warning",
                        choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)

    _offline_engine()
    _parse_once()
    _light_subqueries()

    from bqemulator.config import LogLevel, PersistenceMode, Settings
    from bqemulator.server import run_forever

    settings = Settings(
        rest_host="127.0.0.1",
        rest_port=args.port,
        grpc_host="127.0.0.1",
        grpc_port=args.grpc_port,
        persistence_mode=PersistenceMode.EPHEMERAL,
        default_project_id=args.project,
        enable_format_extensions=False,
        tracing_enabled=False,
        otlp_endpoint=None,
        log_level=LogLevel(args.log_level),
    )
    run_forever(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
