"""campus-synth's generation stage: the UDP schema registry, the plan, the Beam job.

The public surface is small; the implementation lives in `_private` modules.
"""

from pipeline import _rules  # noqa: F401  (registers the entity rules with the engine)
from pipeline._beam import GenerateWarehouse, JobConfig
from pipeline._cli import main
from pipeline._errors import OutputError, PipelineError, PlanError, SettingsError
from pipeline._events.caliper import caliper_event, envelope, is_valid_combination
from pipeline._job import RunReport, planned_rows, run_job
from pipeline._plan import Settings
from pipeline._registry import REGISTRY, Registry
from pipeline._schema import Column, ForeignKey, Layout, Table

__all__ = [
    "REGISTRY",
    "Column",
    "ForeignKey",
    "GenerateWarehouse",
    "JobConfig",
    "Layout",
    "OutputError",
    "PipelineError",
    "PlanError",
    "Registry",
    "RunReport",
    "SettingsError",
    "Settings",
    "Table",
    "caliper_event",
    "envelope",
    "is_valid_combination",
    "main",
    "planned_rows",
    "run_job",
]
