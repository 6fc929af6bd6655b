"""campus-synth: a synthetic institution warehouse shaped like the Unizin Data Platform.

Data flows one way through the subpackages, each importing only those below it:

    pipeline.cli        the `campus-synth` command line and the run it drives (top)
    pipeline.outputs    staging, the DuckDB load, dbt, BigQuery load and publish
    pipeline.generate   the plan, the engine, the entity rules and the Beam job
    distributions       profiling a real warehouse into a profile (a sibling package)
    pipeline.udp        the UDP schema: tables, keys, the event schema, Caliper, the
                        profile contract (bottom; imports only pipeline.errors)

This package's own surface is the UDP registry and the errors: importing it loads neither
Apache Beam nor dbt. `main` is `pipeline.cli.main`; the Beam transform is
`pipeline.generate.GenerateWarehouse`.
"""

from pipeline.errors import (
    CampusSynthError,
    DistributionsError,
    OutputError,
    PipelineError,
    PlanError,
    SettingsError,
)
from pipeline.udp import REGISTRY, Column, ForeignKey, Layout, Registry, Table

__all__ = [
    "REGISTRY",
    "CampusSynthError",
    "Column",
    "DistributionsError",
    "ForeignKey",
    "Layout",
    "OutputError",
    "PipelineError",
    "PlanError",
    "Registry",
    "SettingsError",
    "Table",
]
