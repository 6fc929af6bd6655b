"""`campus-synth evaluate` (and the evaluation that ends `campus-synth run`): the run and
what is printed. The CLI declares its flags (pipeline/cli/_parser.py, so that parsing loads
nothing of the evaluation) and hands in the registry's keys.

Exit codes: 0 written (and, with --fail-under, good enough); 1 written but below
--fail-under; 2 bad input (one message, nothing written)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from distributions._evaluate._keys import Keys
from distributions._evaluate._run import Report, evaluate
from distributions._evaluate._write import write_report
from pipeline.errors import EvaluateError

BELOW_THRESHOLD = 1
SHOWN_FAILURES = 15


def run_command(args: argparse.Namespace, console: Console, keys: Keys | None) -> int:
    """`campus-synth evaluate`: evaluate, write the report, print its summary."""
    if args.fail_under is not None and not 0.0 <= args.fail_under <= 1.0:
        raise EvaluateError(f"--fail-under {args.fail_under}: expected a share from 0 to 1")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise EvaluateError(f"{args.out}: not a folder (the report goes into a folder)")
    report = evaluate(args.synthetic, real=args.real, profile=args.profile, keys=keys,
                      privacy_manifest=args.privacy_manifest, detection=args.detection,
                      api_endpoint=args.api_endpoint)
    json_path, html_path = write_report(report, out)
    print_summary(console, report, json_path, html_path)
    if args.fail_under is not None and not good_enough(report, args.fail_under):
        console.print(f"Below --fail-under {args.fail_under:g}: exit code {BELOW_THRESHOLD}",
                      markup=False)
        return BELOW_THRESHOLD
    return 0


def evaluate_run(out: Path, profile: str, keys: Keys | None, console: Console) -> Report:
    """The evaluation that ends `campus-synth run`: the new warehouse against its profile,
    written to OUT/evaluation."""
    console.print("Evaluating against the profile …")
    report = evaluate(str(out), profile=profile, keys=keys, detection=False)
    json_path, html_path = write_report(report, out / "evaluation")
    print_summary(console, report, json_path, html_path, failures=5)
    return report


def good_enough(report: Report, share: float) -> bool:
    """No gate failed, and at least `share` of the judged figures passed."""
    judged = [f for f in report.figures if f.passed is not None]
    if any(f.kind == "gate" and f.passed is False for f in judged):
        return False
    passed = sum(f.passed is True for f in judged)
    return not judged or passed / len(judged) >= share - 1e-12


def _columns(figure) -> str:
    """A figure's columns for one line: the first two, and how many more (a detection figure
    uses a table's every column; the first two alone read as if they were what told the
    rows apart)."""
    columns = figure.columns or []
    more = f" (+{len(columns) - 2} more columns)" if len(columns) > 2 else ""
    return " × ".join(columns[:2]) + more


def print_summary(console: Console, report: Report, json_path: Path, html_path: Path,
                  failures: int = SHOWN_FAILURES) -> None:
    """Counts by kind, the first failures, where the report is."""
    table = RichTable(title="evaluation", title_justify="left", show_edge=False)
    for name in ("kind", "passed", "failed", "n/a"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    for kind, counts in report.summary().items():
        if sum(counts.values()):
            table.add_row(kind, str(counts["passed"]), str(counts["failed"]),
                          str(counts["not_applicable"]))
    console.print(table)
    for figure in report.failed()[:failures]:
        where = ".".join(x for x in (figure.table, figure.column or _columns(figure)) if x)
        console.print(f"  FAIL {figure.kind} {where} {figure.metric} = {figure.value:.4g} "
                      f"(threshold {figure.threshold:.4g})", markup=False, highlight=False)
    hidden = len(report.failed()) - failures
    if hidden > 0:
        console.print(f"  … and {hidden} more failure(s) in the report", markup=False)
    verdict = "PASSED" if report.passed else "FAILED"
    console.print(f"Evaluation {verdict}. Report: {html_path} (figures: {json_path})",
                  markup=False, highlight=False)
