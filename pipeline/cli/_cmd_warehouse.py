"""The commands on an existing output folder that run no Beam job: `build` (the dbt marts),
`caliper` (events as Caliper JSON-LD), `clean` (staging folders left by killed runs) and
`relink` (a moved warehouse's event view)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
from rich.console import Console

from pipeline.cli._parser import UsageError
from pipeline.errors import OutputError, PipelineError
from pipeline.outputs._caliper_json import envelope, read_events
from pipeline.outputs._dbt import BigQueryTarget, build
from pipeline.outputs._duckdb import WAREHOUSE_FILE, point_event_store
from pipeline.outputs._staging import clean
from pipeline.udp._caliper import validation_errors
from pipeline.udp._schema import ENTITY as ENTITY_SCHEMA


def build_marts(args: argparse.Namespace, console: Console) -> int:
    """`campus-synth build`: dbt build (and docs) on the warehouse in --out or on BigQuery."""
    bigquery = None
    if args.target == "bigquery":
        if not args.project:
            raise UsageError("--target bigquery needs --project")
        bigquery = BigQueryTarget(args.project, args.location, args.keyfile, args.api_endpoint)
    elif args.project or args.api_endpoint or args.keyfile or args.location:
        raise UsageError("--project, --location, --keyfile and --api-endpoint are for "
                          "--target bigquery")
    if args.target == "duckdb":
        _refuse_unopenable(args.out, needs=ENTITY_SCHEMA)
    report = build(args.out, args.target, bigquery=bigquery, select=args.select)
    console.print(report.summary, markup=False, highlight=False)
    if args.docs:
        docs = build(args.out, args.target, bigquery=bigquery, command="docs generate")
        console.print(f"Docs: {docs.artefacts / 'index.html'}", markup=False)
    return 0


def caliper(args: argparse.Namespace, console: Console) -> int:
    """`campus-synth caliper`: the chosen events as one Caliper 1.1 envelope on stdout."""
    _refuse_unopenable(args.out)
    document = envelope(read_events(args.out, args.ids, args.limit))
    problems = validation_errors(document) if args.validate else []
    if problems:  # nothing on stdout: a pipe reader gets no invalid events
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise PipelineError(f"{args.out}: the events are not valid Caliper 1.1 "
                            f"({len(problems)} problem(s)):\n  " + "\n  ".join(problems[:20])
                            + more)
    # plain JSON, never re-wrapped, written as it is encoded: a reader that stops early
    # (`| head`) closes the pipe while it is written, which main() ends quietly
    for chunk in json.JSONEncoder(indent=2).iterencode(document):
        sys.stdout.write(chunk)
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


def clean_out(args: argparse.Namespace, console: Console) -> int:
    """`campus-synth clean`: remove the staging folders of killed runs beside --out."""
    removed = clean(args.out)
    for folder in removed:
        console.print(f"removed {folder}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"{len(removed)} staging folder(s) removed beside {args.out}", markup=False,
                  highlight=False, soft_wrap=True)
    return 0


def relink(args: argparse.Namespace, console: Console) -> int:
    """`campus-synth relink`: point event_store.expanded at the Parquet in --out."""
    warehouse = Path(args.out) / WAREHOUSE_FILE
    if not warehouse.is_file():
        raise PipelineError(f"{warehouse}: no warehouse here (a `campus-synth run` folder "
                            "holds one)")
    _refuse_unopenable(args.out)
    state = point_event_store(warehouse)
    expanded = Path(args.out).resolve() / "event_store" / "expanded"
    if state == "no parquet":
        raise OutputError(f"{expanded}: not found; {warehouse}'s event_store.expanded reads "
                          "the event Parquet beside it: move or copy the warehouse folder "
                          "whole, event_store/ included, then relink")
    if state == "no view":
        raise OutputError(f"{warehouse}: no event_store.expanded view to point at "
                          f"{expanded} (not a warehouse `campus-synth run` wrote)")
    told = {"none": "no event store (a run without events): nothing to relink",
            "relinked": f"event_store.expanded now reads {expanded}",
            "in place": f"event_store.expanded already reads {expanded}"}[state]
    console.print(f"{warehouse}: {told}", markup=False, highlight=False, soft_wrap=True)
    return 0


def _refuse_unopenable(out: str, needs: str | None = None) -> None:
    """One line naming the warehouse.duckdb in `out` when DuckDB cannot open it (not a
    DuckDB file, a newer DuckDB's, held for writing by another process), or when it has no
    table in the schema `needs` (a DuckDB file campus-synth did not write: dbt would fail on
    every model and leave its dbt/ folder behind), before a command reads it; a folder
    without one is each command's own message."""
    warehouse = Path(out) / WAREHOUSE_FILE
    if not warehouse.is_file():
        return
    try:
        with duckdb.connect(str(warehouse), read_only=True) as connection:
            found = needs is None or connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?",
                [needs]).fetchone()[0]
    except duckdb.Error as error:
        raise OutputError(f"{warehouse}: cannot open the warehouse: {_first_line(error)}") \
            from None
    if not found:
        raise OutputError(f"{warehouse}: not a campus-synth warehouse (no {needs} tables); "
                          "`campus-synth run` writes one")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
