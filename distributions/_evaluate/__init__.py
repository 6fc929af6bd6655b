"""Evaluation: compare a synthetic warehouse with a real source or a profile, and write the
fidelity and privacy report (report.json and a self-contained report.html)."""

from distributions._evaluate._command import evaluate_run
from distributions._evaluate._command import run_command as run_evaluate_command
from distributions._evaluate._keys import ForeignKey, Keys, infer_keys
from distributions._evaluate._run import Report, evaluate, load_report
from pipeline.errors import EvaluateError

__all__ = ["EvaluateError", "ForeignKey", "Keys", "Report", "evaluate",
           "evaluate_run", "infer_keys", "load_report", "run_evaluate_command"]
