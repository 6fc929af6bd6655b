"""The `campus-synth` command line (`main`) and the run it drives (`run_job`): settings,
signals and a full disk (`_faults`), scenario runs; a thin layer over generation and outputs.
"""

from pipeline.cli._job import RunReport, planned_rows, run_job
from pipeline.cli._main import main

__all__ = ["RunReport", "main", "planned_rows", "run_job"]
