"""`campus-synth`: the command line.

Exit codes (the error classes behind them, drawn as a tree: pipeline/errors.py):
0 done; 1 a stage failed for a reason outside the input (a full disk, a publish step);
2 a user error (bad flag, impossible size, invalid profile or source, unusable or busy
output folder); each reported as one message without a traceback; 130 interrupted (Ctrl-C;
143 for SIGTERM), with the run's staging folder removed.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table as RichTable

from distributions import default_profile_path, load_profile
from distributions._evaluate import (
    Keys,
    evaluate_run,
    run_evaluate_command,
)
from distributions._merge import merge_profiles
from distributions._profiler import profile_source, write_profile
from distributions._udp_distributions import write_udp_distributions
from pipeline.cli._faults import guarded
from pipeline.cli._job import Reporter, RunReport, run_job
from pipeline.cli._parser import UsageError, command_parser
from pipeline.cli._scenario_out import scenario_tables
from pipeline.cli._scenario_run import load_scenarios, scenario_runs
from pipeline.cli._settings import resolve
from pipeline.errors import CampusSynthError, PipelineError
from pipeline.outputs._caliper_json import envelope, read_events
from pipeline.outputs._dbt import BigQueryTarget, build
from pipeline.outputs._publish import connect, publish
from pipeline.outputs._run_datasets import read_manifest
from pipeline.outputs._staging import clean
from pipeline.udp._caliper import validation_errors
from pipeline.udp._event_schema import QUALIFIED_NAME as EVENTS
from pipeline.udp._registry import REGISTRY

USER_ERROR = 2
_STAGES = {"plan": "Planning row counts", "generate": "Generating tables (Beam)",
           "load": "Loading DuckDB", "build": "Building the marts (dbt)"}
# what the progress bar counts in the stages that show one
_COUNTED = {"generate": "Parquet files written", "load": "tables loaded",
            "build": "dbt nodes done"}
_PATH_FLAGS = ("profile", "out", "source", "scenario", "synthetic", "real", "keyfile",
               "privacy_manifest", "merge")
_BIGQUERY_FLAGS = ("project", "location", "run_id", "keyfile", "api_endpoint", "dbt_select",
                   "retain")
DEFAULT_RETAIN = 2


def _clean(args: argparse.Namespace, console: Console) -> int:
    removed = clean(args.out)
    for folder in removed:
        console.print(f"removed {folder}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"{len(removed)} staging folder(s) removed beside {args.out}", markup=False,
                  highlight=False, soft_wrap=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `campus-synth` console script."""
    console, errors = Console(), Console(stderr=True)
    try:
        args, beam_args = command_parser().parse_known_args(argv)
        _refuse_empty_paths(args)
        if args.command in _PROFILING:
            if beam_args:
                raise UsageError(f"unrecognized arguments: {' '.join(beam_args)}")
            with guarded(str(getattr(args, "out", ""))):  # Ctrl-C → 130 here too
                return _PROFILING[args.command](args, console)
        return _run(args, beam_args, console)
    except (UsageError, CampusSynthError) as error:
        errors.print(f"campus-synth: error: {_bounded(str(error))}", markup=False,
                     highlight=False, soft_wrap=True)
        return getattr(error, "exit_code", USER_ERROR)
    except BrokenPipeError:
        # the reader closed the pipe (`campus-synth caliper | head`): stop quietly, as cat
        # does, and point stdout at /dev/null so the exit's final flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt as error:
        errors.print("campus-synth: interrupted", markup=False, highlight=False)
        return getattr(error, "exit_code", 130)


def _refuse_empty_paths(args: argparse.Namespace) -> None:
    """A path flag given as "" would silently mean the default (or the current folder); a
    counting flag out of range is refused before any work (publish's --retain after a whole
    `run --target bigquery` job, caliper's --limit after reading the events)."""
    for name in _PATH_FLAGS:
        values = getattr(args, name, None)
        for value in values if isinstance(values, list) else [values]:
            if value is not None and not str(value).strip():
                raise UsageError(f"--{name.replace('_', '-')} is empty: give a path")
    for name, least in (("retain", 1), ("limit", 1)):
        if getattr(args, name, None) is not None and getattr(args, name) < least:
            raise UsageError(f"--{name} must be at least {least}, not {getattr(args, name)}")
    out = Path(str(getattr(args, "out", "") or ""))
    if out.is_symlink() and not out.exists():  # the whole job would run, then fail to move
        raise UsageError(f"--out {out}: a symbolic link that leads nowhere (or to itself)")


def _bounded(message: str, width: int = 400, lines: int = 25) -> str:
    """A message of at most `lines` lines of `width` characters: an engine's error may quote
    a whole value or query, and a user should never get a screenful for one problem."""
    kept = [line if len(line) <= width else line[:width - 1] + "…"
            for line in message.split("\n")[:lines]]
    return "\n".join(kept)


def _run(args: argparse.Namespace, beam_args: list[str], console: Console) -> int:
    source = args.profile or str(default_profile_path())
    profile = load_profile(source)
    flags = {"fte": args.fte, "seed": args.seed, "terms": args.terms,
             "block_rows": args.block_rows, "event_scale": args.event_scale,
             "event_days": args.event_days}
    resolved = resolve(profile, flags, beam_args, command=args.command)
    bigquery = getattr(args, "target", "duckdb") == "bigquery"
    scenarios = load_scenarios(args.scenario)  # every file checked before anything is written
    if scenarios and bigquery:
        raise UsageError("--scenario: only with --target duckdb (publish a scenario's "
                          "folder with `campus-synth publish --out OUT/NAME`)")
    if args.command == "run" and not bigquery:
        given = [f"--{n.replace('_', '-')}" for n in _BIGQUERY_FLAGS
                 if getattr(args, n) is not None]
        if given:
            raise UsageError(f"{', '.join(given)}: only with --target bigquery")
    client = None
    if bigquery:
        if not args.project:
            raise UsageError("--target bigquery needs --project")

        client = connect(args.project, args.location, args.keyfile, args.api_endpoint)
    _print_settings(console, args, resolved, source)
    with _ConsoleReporter(console) as reporter, scenario_runs(args.out, scenarios) as runs:
        for scenario, out in runs:  # OUT/<name> per scenario
            report = run_job(profile, source, resolved, out,
                             load=args.command == "run" and not bigquery, reporter=reporter,
                             marts=getattr(args, "marts", False) and not bigquery,
                             scenario=scenario)
            _print_report(console, report)
            _evaluate_after_run(args, report, source, console)
    if bigquery:
        return _publish(args, console, client=client, out=str(report.out))
    return 0


def _print_settings(console: Console, args, resolved, source: str) -> None:
    table = RichTable(title="campus-synth settings", title_justify="left", show_edge=False)
    for name in ("setting", "value", "from"):
        table.add_column(name)
    settings = resolved.settings
    for name in ("fte", "seed", "terms", "block_rows", "event_scale", "event_days"):
        value = getattr(settings, name)
        shown = "whole term" if value is None else f"{value:,}"
        table.add_row(name, shown, resolved.sources[name])
    table.add_row("profile", source, "flag" if args.profile else "default")
    table.add_row("out", args.out, "flag" if args.out != "warehouse" else "default")
    table.add_row("runner", resolved.runner, resolved.sources["runner"])
    extra = [a for a in resolved.beam_args if not a.startswith("--runner")]
    if extra:
        table.add_row("beam options", " ".join(extra), "flag")
    console.print(table)


def _print_report(console: Console, report: RunReport) -> None:
    table = RichTable(title="rows per table", title_justify="left", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for key in REGISTRY.order():
        table.add_row(REGISTRY[key].qualified_name, f"{report.counts.get(key, 0):,}")
    if EVENTS in report.counts:
        table.add_row(EVENTS, f"{report.counts[EVENTS]:,}")
    table.add_row("[bold]total[/bold]", f"[bold]{sum(report.counts.values()):,}[/bold]")
    console.print(table)
    timing = ", ".join(f"{name} {secs:.1f} s" for name, secs in report.seconds.items())
    console.print(f"Parquet: {report.out}/<schema>/<table>/   ({timing})")
    if report.warehouse:
        console.print(f"Warehouse: [bold]{report.warehouse}[/bold]")


def _check_profile_flags(args: argparse.Namespace) -> None:
    """`profile`'s flags, before the source is opened or anything is written."""
    if not 1 <= args.k <= 1_000_000:
        raise UsageError(f"--k must be between 1 and 1000000 people, not {args.k}")
    if args.epsilon is not None and not (math.isfinite(args.epsilon) and args.epsilon > 0):
        raise UsageError(f"--epsilon must be a positive finite budget, not {args.epsilon}")
    if args.seed < 0:
        raise UsageError(f"--seed must be zero or positive, not {args.seed}")
    inputs = args.merge[1:] if args.merge[:1] == ["merge"] else [args.source or ""]
    out = os.path.realpath(args.out)  # (Path.resolve raises on a symbolic link loop)
    for given in inputs:
        if given and os.path.realpath(given) == out:
            raise UsageError(f"--out {args.out} is also an input: it would be overwritten")
    if args.merge[:1] == ["merge"] and (args.source or args.epsilon is not None):
        raise UsageError("profile merge pools profiles: --source and --epsilon are for "
                         "`profile --source`")


def _profile(args: argparse.Namespace, console: Console) -> int:
    _check_profile_flags(args)
    if args.merge[:1] == ["merge"]:
        result = merge_profiles(args.merge[1:])
    elif args.merge or not args.source:
        raise UsageError("profile: give --source SOURCE, or `profile merge A.json B.json "
                          "… --out FILE`")
    else:
        result = profile_source(args.source, k=args.k, epsilon=args.epsilon, seed=args.seed,
                                api_endpoint=args.api_endpoint)
    profile_path, manifest_path = write_profile(result, args.out)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    actions = result.manifest["actions"]
    suppressed = sum(1 for a in actions if a["action"] in ("suppressed", "merged"))
    console.print(f"Read {len(result.manifest['tables'])} table(s) from "
                  f"{result.manifest['source']}; {suppressed} small cell(s) suppressed or "
                  f"merged, {len(actions) - suppressed} other privacy action(s).", markup=False)
    console.print(f"Profile: {profile_path}\nPrivacy manifest: {manifest_path}", markup=False)
    return 0


def _export_distributions(args: argparse.Namespace, console: Console) -> int:
    profile = load_profile(args.profile or str(default_profile_path()))
    rows = write_udp_distributions(profile, args.out)
    console.print(f"Wrote {rows:,} udp_distributions row(s) to {args.out}", markup=False)
    return 0


def _build(args: argparse.Namespace, console: Console) -> int:
    bigquery = None
    if args.target == "bigquery":
        if not args.project:
            raise UsageError("--target bigquery needs --project")
        bigquery = BigQueryTarget(args.project, args.location, args.keyfile, args.api_endpoint)
    elif args.project or args.api_endpoint or args.keyfile or args.location:
        raise UsageError("--project, --location, --keyfile and --api-endpoint are for "
                          "--target bigquery")
    report = build(args.out, args.target, bigquery=bigquery, select=args.select)
    console.print(report.summary, markup=False, highlight=False)
    if args.docs:
        docs = build(args.out, args.target, bigquery=bigquery, command="docs generate")
        console.print(f"Docs: {docs.artefacts / 'index.html'}", markup=False)
    return 0


# commands that run no Beam job (Beam options are an error there)
def _caliper(args: argparse.Namespace, console: Console) -> int:
    import json

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


def _publish(args: argparse.Namespace, console: Console, client=None,
             out: str | None = None) -> int:
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


def _evaluate(args: argparse.Namespace, console: Console) -> int:
    return run_evaluate_command(args, console, Keys.from_tables(REGISTRY))


def _evaluate_after_run(args, report: RunReport, source: str, console: Console) -> None:
    """`run` ends by evaluating the new warehouse against its profile (--no-evaluate
    skips it); the report goes to OUT/evaluation."""
    if args.command == "run" and getattr(args, "evaluate", False) and report.warehouse:
        evaluate_run(report.out, source, Keys.from_tables(REGISTRY), console)


_PROFILING = {"evaluate": _evaluate, "profile": _profile,
              "export-distributions": _export_distributions,
              "build": _build, "caliper": _caliper, "publish": _publish, "clean": _clean}


class _ConsoleReporter(Reporter):
    """Stage lines always; a progress bar for the Beam job, the DuckDB load and the dbt
    build when the terminal shows one."""

    def __init__(self, console: Console):
        self.console = console
        self.bar = Progress("  {task.description}", BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=True)
        self.task = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.stop()

    def stage(self, name: str) -> None:
        self.console.print(f"{_STAGES.get(name, name)} …")
        if name in _COUNTED:
            self.bar.start()
            self.task = self.bar.add_task(_COUNTED[name], total=None)

    def progress(self, done: int, total: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=done, total=total)

    def note(self, text: str) -> None:
        self.console.print(f"  {text}", markup=False, highlight=False, soft_wrap=True)

    def stage_done(self, name: str, seconds: float) -> None:
        if self.task is not None:
            self.bar.stop()
            self.bar.remove_task(self.task)
            self.task = None
        self.console.print(f"  done in {seconds:.1f} s")
