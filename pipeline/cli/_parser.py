"""The `campus-synth` command line: every subcommand and flag, and its one-line usage errors.
What the commands do is the business of the modules pipeline/cli/_main.py dispatches to;
this module imports none of them, so building the parser (and `--version`, `--help`, a usage
error) loads no engine.
"""

from __future__ import annotations

import argparse
from importlib.metadata import version


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {self.prog} --help)")


class UsageError(Exception):
    """A command line that cannot be used (a flag with the wrong command, a missing one): one
    line, exit 2 (pipeline/errors.py draws the rest of the tree)."""


def command_parser() -> argparse.ArgumentParser:
    """Every subcommand of `campus-synth` and its flags (Beam's own options pass through)."""
    parser = _Parser(prog="campus-synth", description="A synthetic institution warehouse "
                     "modeled on the Unizin Data Platform.")
    parser.add_argument("--version", action="version",
                        version=f"campus-synth {version('campus-synth')}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, text in (("run", "generate the warehouse and load it into DuckDB"),
                       ("generate", "generate the warehouse tables as Parquet only")):
        command = commands.add_parser(name, help=text, description=text + ". Any Apache "
                                      "Beam pipeline option (e.g. --runner, "
                                      "--direct_num_workers) passes through to the job.")
        # a fraction is a size, not a typo: FTE weighs part-time students by their load, a
        # profile's settings.fte has one decimal (the source's mean per term), and the plan
        # rounds FTE / (mean load per student) to whole students
        command.add_argument("--fte", type=float, help="size in student FTE (default 20000; "
                             "a fraction such as 1234.5 is fine: students are FTE over the "
                             "mean load per student, rounded)")
        command.add_argument("--seed", type=int, help="random seed (default 0)")
        command.add_argument("--terms", type=int, help="number of terms (default 2)")
        command.add_argument("--out", default="warehouse", help="output folder (./warehouse)")
        command.add_argument("--profile", help="profile JSON (default: the built-in one)")
        command.add_argument("--block-rows", type=int, dest="block_rows",
                             help="rows per Beam element (default 100000)")
        command.add_argument("--event-scale", type=float, dest="event_scale",
                             help="multiply the event rates, e.g. 0.1 for a quick run "
                                  "(default 1: the profile's rates)")
        command.add_argument("--scenario", action="append", metavar="FILE",
                             help="a scenario (YAML or JSON) overlaying the profile; repeat "
                                  "for several, each written to OUT/<its name>")
        command.add_argument("--event-days", type=int, dest="event_days",
                             help="generate events for the first N days of each term only "
                                  "(default: the whole term)")
    commands.choices["run"].add_argument(
        "--no-marts", dest="marts", action="store_false",
        help="stop after loading DuckDB: do not build the dbt marts")
    commands.choices["run"].add_argument(
        "--target", choices=("duckdb", "bigquery"), default="duckdb",
        help="duckdb: load OUT/warehouse.duckdb (default); bigquery: publish the Parquet to "
             "--project as `campus-synth publish` does")
    _bigquery_options(commands.choices["run"], publish=False)
    _publish_command(commands)
    _profiling_commands(commands)
    _build_command(commands)
    _clean_command(commands)
    _relink_command(commands)
    _evaluate_command(commands)
    commands.choices["run"].add_argument(
        "--no-evaluate", dest="evaluate", action="store_false",
        help="do not evaluate the warehouse against its profile (OUT/evaluation)")
    return parser


def _bigquery_options(command, publish: bool) -> None:
    """The BigQuery options of `publish` (and of `run --target bigquery`)."""
    command.add_argument("--project", required=publish, help="the shared BigQuery project"
                         + ("" if publish else " (--target bigquery)"))
    command.add_argument("--location", help="BigQuery location of its datasets, e.g. US")
    command.add_argument("--run-id", dest="run_id", help="names the run's staging datasets "
                         "and labels (default: a digest of the run's manifest, so the same "
                         "output publishes once); publishing the current run again changes "
                         "nothing, publishing an earlier kept run switches back to it")
    command.add_argument("--retain", type=int, help="published runs to keep, the "
                         "new one included (default 2: it and the previous one, for rollback)")
    command.add_argument("--keyfile", help="service-account key file (default: application "
                         "default credentials)")
    command.add_argument("--api-endpoint", dest="api_endpoint",
                         help="another BigQuery API, e.g. an emulator on loopback")
    command.add_argument("--dbt-select", dest="dbt_select", nargs="+",
                         help="dbt node selection for the build (default: everything)")


def _publish_command(commands) -> None:
    text = "load a generated run into BigQuery, build and check it, then publish it"
    command = commands.add_parser("publish", help=text, description=text + ": run-scoped "
                                  "staging datasets, dbt build and tests there, row counts "
                                  "against the manifest, and only then the consumer-facing "
                                  "datasets switched to the run (pipeline/outputs/_publish.py).")
    command.add_argument("--out", default="warehouse", help="the run's output folder or "
                         "gs:// prefix, holding campus-synth.json (./warehouse)")
    _bigquery_options(command, publish=True)


def _clean_command(commands) -> None:
    text = "remove the staging folders that killed runs left beside an output folder"
    command = commands.add_parser("clean", help=text, description=text + " (.OUT.partial-*; "
                                  "never OUT itself); refused while a run writes OUT.")
    command.add_argument("--out", default="warehouse", help="the output folder (./warehouse)")


def _relink_command(commands) -> None:
    text = "point a moved warehouse's event store at the Parquet beside it"
    command = commands.add_parser("relink", help=text, description=text + " (event_store."
                                  "expanded is a view over OUT/event_store/expanded by its "
                                  "absolute path; run this after moving or copying OUT).")
    command.add_argument("--out", default="warehouse", help="the warehouse folder of a "
                         "`campus-synth run` (./warehouse)")


def _build_command(commands) -> None:
    text = "build the dbt marts on an existing warehouse"
    command = commands.add_parser("build", help=text, description=text + " (dbt build: "
                                  "staging, marts and their tests).")
    command.add_argument("--out", default="warehouse", help="the warehouse folder of a "
                         "`campus-synth run` (./warehouse); dbt's artefacts go to OUT/dbt")
    command.add_argument("--target", choices=("duckdb", "bigquery"), default="duckdb",
                         help="duckdb: OUT/warehouse.duckdb (default); bigquery: a project "
                         "holding the warehouse's datasets")
    command.add_argument("--project", help="BigQuery project (--target bigquery)")
    command.add_argument("--location", help="BigQuery location, e.g. US")
    command.add_argument("--keyfile", help="service-account key file (default: application "
                         "default credentials)")
    command.add_argument("--api-endpoint", dest="api_endpoint",
                         help="another BigQuery API, e.g. an emulator on loopback")
    command.add_argument("--select", nargs="+", help="dbt node selection (default: all)")
    command.add_argument("--docs", action="store_true",
                         help="also run `dbt docs generate` (OUT/dbt/target/index.html)")


def _profiling_commands(commands) -> None:
    text = "profile real UDP tables into a privacy-checked profile"
    command = commands.add_parser("profile", help=text, description=text + ".")
    command.add_argument("merge", nargs="*", metavar="merge PROFILE", help="`profile merge "
                         "A.json B.json … --out FILE`: pool profiles institutions made on "
                         "their own into one consortium profile (distributions/_merge.py)")
    command.add_argument("--source", help="a .duckdb file, a folder of Parquet "
                         "or CSV files (one per UDP table), or bigquery://project.dataset")
    command.add_argument("--out", default="profile.json", help="profile to write "
                         "(./profile.json); the privacy manifest goes beside it")
    command.add_argument("--k", type=int, default=10, help="smallest publishable cell (10)")
    command.add_argument("--epsilon", type=float, help="add Laplace(1/epsilon) noise to counts")
    command.add_argument("--seed", type=int, default=0, help="seed of the noise (0)")
    command.add_argument("--api-endpoint", dest="api_endpoint", help="another BigQuery API "
                         "for a bigquery:// source, e.g. an emulator on loopback (also: "
                         "BIGQUERY_EMULATOR_HOST)")
    text = "export a profile in Unizin's udp_distributions layout"
    command = commands.add_parser("export-distributions", help=text, description=text + ".")
    command.add_argument("--profile", help="profile JSON (default: the built-in one)")
    command.add_argument("--out", required=True, help="a .parquet or .csv file to write")
    text = "print generated events as a Caliper 1.1 JSON-LD envelope"
    command = commands.add_parser("caliper", help=text, description=text + ".")
    command.add_argument("--out", default="warehouse", help="the output folder of a run "
                         "(./warehouse): its DuckDB file, or its Parquet when there is none")
    command.add_argument("--id", nargs="+", dest="ids", help="event ids (urn:uuid:...)")
    command.add_argument("--limit", type=int, default=3, help="events to print when no --id "
                         "is given (3)")
    command.add_argument("--validate", action="store_true", help="check the envelope and "
                         "every event against the Caliper 1.1 JSON Schemas first; print "
                         "nothing and exit 2 when they do not validate")


def _evaluate_command(commands) -> None:
    """`evaluate` (what it does: distributions/_evaluate/_command.py)."""
    text = "compare a synthetic warehouse with the real source or its profile"
    command = commands.add_parser("evaluate", help=text, description=text + ": fidelity and "
                                  "privacy figures beside the real source's split-half noise "
                                  "floor, written as OUT/report.json and OUT/report.html.")
    against = command.add_mutually_exclusive_group(required=True)
    against.add_argument("--real", help="the real source: a .duckdb file or a folder of "
                         "Parquet/CSV files (one per UDP table)")
    against.add_argument("--profile", help="a profile JSON: compare with its distributions "
                         "(its privacy manifest, <profile>.privacy.json, is read when present)")
    command.add_argument("--synthetic", default="warehouse", help="the run's output folder "
                         "holding warehouse.duckdb, or the .duckdb file (./warehouse)")
    command.add_argument("--out", default="evaluation", help="report folder (./evaluation)")
    command.add_argument("--privacy-manifest", dest="privacy_manifest",
                         help="a profile's privacy manifest to report beside the figures")
    command.add_argument("--fail-under", dest="fail_under", type=float, nargs="?", const=1.0,
                         metavar="SHARE", help="exit with code 1 when a gate fails or the "
                         "share of judged figures that pass is below SHARE (1.0 when given "
                         "alone: every figure must pass)")
    command.add_argument("--api-endpoint", dest="api_endpoint", help="another BigQuery API "
                         "for bigquery:// sides, e.g. an emulator on loopback (also: "
                         "BIGQUERY_EMULATOR_HOST)")
    command.add_argument("--no-detection", dest="detection", action="store_false",
                         help="skip the real-vs-synthetic classifiers")
