"""`campus-synth run`: generate and load DuckDB (in a child process: pipeline/cli/_job_child.py),
build the marts, then the evaluation; or, with `--target bigquery`, the publish.

A run that builds the marts never imports Apache Beam nor the generation package in its own
process: the dbt build's peak memory is DuckDB's plus this process's (benchmarks/README.md).
A run without the build (`--no-marts`, `--target bigquery`) has no such peak to keep Beam out
of, and generates in its own process (pipeline/cli/_job.py), sparing a child's start."""

from __future__ import annotations

import argparse
import importlib
from functools import partial

from rich.console import Console

from pipeline.cli._console import read_inputs, run_jobs
from pipeline.cli._job_child import run_job_in_child
from pipeline.cli._parser import UsageError
from pipeline.cli._stages import RunReport
from pipeline.outputs._publish import connect

# the evaluation's module, imported when the evaluation starts, as a command's module is
# (pipeline/cli/_main.py): it loads scikit-learn, ~70 MiB that would otherwise sit in the
# process under the dbt build's peak (benchmarks/README.md)
EVALUATION = "pipeline.cli._cmd_evaluate"
# the publish step's module, imported for `--target bigquery` alone: it reads a scenario's
# tables through the generation package, which loads Beam
PUBLISH = "pipeline.cli._cmd_publish"
# the in-process job, imported for a run without the build alone: it loads Beam, and the
# child's start it spares (its imports, ~2 s) is most of a small run's time
IN_PROCESS = "pipeline.cli._job"
_BIGQUERY_FLAGS = ("project", "location", "run_id", "keyfile", "api_endpoint", "dbt_select",
                   "retain")


def run(args: argparse.Namespace, console: Console, beam_args: list[str]) -> int:
    """`campus-synth run`: one job per scenario (or the baseline alone)."""
    bigquery = args.target == "bigquery"
    marts = args.marts and not bigquery
    # a child checks the Beam options itself (this process must not import Beam to do so)
    inputs = read_inputs(args, beam_args, check_options=not marts)
    client = _check_target(args, bigquery, inputs.scenarios)
    job = run_job_in_child if marts else importlib.import_module(IN_PROCESS).run_job
    report = run_jobs(args, console, inputs, job, load=not bigquery, marts=marts,
                      after=partial(_evaluate_after_run, args, inputs.source, console))
    if bigquery:
        publish = importlib.import_module(PUBLISH).publish_command
        return publish(args, console, client=client, out=str(report.out))
    return 0


def _check_target(args: argparse.Namespace, bigquery: bool, scenarios: list[dict]):
    """Flags that only go with `--target bigquery` (or not with it), before any work; the
    BigQuery client when that is the target."""
    if scenarios and bigquery:
        raise UsageError("--scenario: only with --target duckdb (publish a scenario's "
                          "folder with `campus-synth publish --out OUT/NAME`)")
    if not bigquery:
        given = [f"--{n.replace('_', '-')}" for n in _BIGQUERY_FLAGS
                 if getattr(args, n) is not None]
        if given:
            raise UsageError(f"{', '.join(given)}: only with --target bigquery")
    if not bigquery:
        return None
    if not args.project:
        raise UsageError("--target bigquery needs --project")
    return connect(args.project, args.location, args.keyfile, args.api_endpoint)


def _evaluate_after_run(args, source: str, console: Console, report: RunReport) -> None:
    """`run` ends by evaluating the new warehouse against its profile (--no-evaluate
    skips it); the report goes to OUT/evaluation."""
    if args.evaluate and report.warehouse:
        importlib.import_module(EVALUATION).evaluate_new_run(report.out, source, console)
