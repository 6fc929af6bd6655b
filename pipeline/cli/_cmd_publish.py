"""`campus-synth publish` (and the end of `run --target bigquery`): a generated run into
BigQuery, built, checked and switched to (pipeline/outputs/_publish.py), then a summary."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table as RichTable

from distributions._scenario import column_order
from pipeline.generate._scenario_gen import extend_registry
from pipeline.outputs._publish import publish
from pipeline.outputs._run_datasets import read_manifest
from pipeline.udp._registry import REGISTRY
from pipeline.udp._schema import Table

DEFAULT_RETAIN = 2


def publish_command(args: argparse.Namespace, console: Console, client=None,
                    out: str | None = None) -> int:
    """Publish the run in `out` (default --out) to --project; print what was switched."""
    out = out or args.out
    report = publish(out, args.project, run_id=args.run_id, location=args.location,
                     keyfile=args.keyfile, api_endpoint=args.api_endpoint,
                     retain=DEFAULT_RETAIN if args.retain is None else args.retain,
                     client=client, dbt_select=args.dbt_select,
                     tables=scenario_tables(read_manifest(out)),
                     echo=lambda line: console.print(line, markup=False, highlight=False))
    if report.status == "unchanged":
        console.print(f"{args.project}: run {report.run_id} is already published; nothing "
                      "changed", markup=False, highlight=False)
        return 0
    table = RichTable(title=f"published to {args.project} (run {report.run_id})",
                      title_justify="left", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(report.tables.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"Switched {len(report.datasets)} dataset(s) to run {report.run_id} "
                  f"({report.status}); previous run: {report.previous_run or 'none'}; "
                  f"deleted runs: {', '.join(report.deleted_runs) or 'none'}",
                  markup=False, highlight=False)
    return 0


def scenario_tables(manifest: dict) -> list[Table] | None:
    """The registry a scenario run was generated with, from its manifest (the institution's
    own columns and the scenario's tables and columns), for `publish`; None for a run
    without a scenario (publish's default)."""
    scenario = manifest.get("scenario")
    if not scenario:
        return None
    document = scenario["document"]
    registry = REGISTRY.with_extras(manifest.get("extras", {}))
    return list(extend_registry(registry, {"document": document,
                                           "order": column_order(document)}))
