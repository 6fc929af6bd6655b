"""What a command running jobs shows and reads: its inputs (profile, settings, scenario
files, each checked before anything is written), the settings table, each job's stage lines
and progress bars, the rows per table. Shared by `generate` (its jobs in its own process)
and `run` (plan, generate and load in a child process: pipeline/cli/_job_child.py), and free
of Apache Beam, so `run`'s own process never loads it.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table as RichTable

from distributions import default_profile_path, load_profile
from pipeline.cli._parser import UsageError
from pipeline.cli._scenario_run import load_scenarios, scenario_runs
from pipeline.cli._settings import Resolved, resolve
from pipeline.cli._stages import Reporter, RunReport
from pipeline.outputs._staging import is_remote
from pipeline.udp._event_schema import QUALIFIED_NAME as EVENTS
from pipeline.udp._registry import REGISTRY

_STAGES = {"plan": "Planning row counts", "generate": "Generating tables (Beam)",
           "load": "Loading DuckDB", "build": "Building the marts (dbt)"}
# what the progress bar counts in the stages that show one
_COUNTED = {"generate": "Parquet files written", "load": "tables loaded",
            "build": "dbt nodes done"}


@dataclass
class Inputs:
    """A run's inputs, each read and checked before anything is written."""

    profile: dict
    source: str          # the profile's file (or the built-in one)
    resolved: Resolved   # settings and Beam options, with where each came from
    scenarios: list[dict]


def read_inputs(args: argparse.Namespace, beam_args: list[str],
                check_options: bool = True) -> Inputs:
    """The profile, the settings layered over it and the scenario files; the Beam options
    are checked here unless `check_options` is false (`run`: its child checks them)."""
    source = args.profile or str(default_profile_path())
    profile = load_profile(source)
    flags = {"fte": args.fte, "seed": args.seed, "terms": args.terms,
             "block_rows": args.block_rows, "event_scale": args.event_scale,
             "event_days": args.event_days}
    resolved = resolve(profile, flags, beam_args, command=args.command,
                       check_options=check_options)
    scenarios = load_scenarios(args.scenario)  # every file checked before anything is written
    _refuse_inputs_in_out(args, scenarios)
    return Inputs(profile, source, resolved, scenarios)


def _refuse_inputs_in_out(args: argparse.Namespace, scenarios: list[dict]) -> None:
    """A profile or scenario file inside a folder the finished run replaces (OUT, or
    OUT/<name> per scenario) would be deleted with the folder's old contents: refused
    before anything is written."""
    if is_remote(args.out):
        return
    out = os.path.realpath(os.path.expanduser(args.out))
    replaced = [os.path.join(out, s["name"]) for s in scenarios] or [out]
    given = [("--profile", args.profile), *(("--scenario", s) for s in args.scenario or [])]
    for flag, path in given:
        where = os.path.realpath(path) if path else None
        for folder in replaced:
            if where and where.startswith(folder + os.sep):
                raise UsageError(f"{flag} {path} is inside {folder}, which the finished run "
                                 "replaces: it would be deleted; move it out of --out or "
                                 "choose another --out")


def run_jobs(args: argparse.Namespace, console: Console, inputs: Inputs, run_job, *,
             load: bool = False, marts: bool = False, after=None) -> RunReport:
    """Print the settings, then run one job per scenario into OUT/<name> (or the baseline
    into OUT) with `run_job` (pipeline/cli/_job.py run_job's signature), printing each report
    and calling `after(report)` on it; the last report."""
    _print_settings(console, args, inputs.resolved, inputs.source)
    with _ConsoleReporter(console) as reporter, \
            scenario_runs(args.out, inputs.scenarios) as runs:
        for scenario, out in runs:  # OUT/<name> per scenario
            report = run_job(inputs.profile, inputs.source, inputs.resolved, out, load=load,
                             reporter=reporter, marts=marts, scenario=scenario)
            _print_report(console, report)
            if after is not None:
                after(report)
    return report


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
