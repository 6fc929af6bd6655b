"""Generation: the plan (row counts per table), the engine and its samplers, the entity rules,
the event streams, scenario effects, and the Beam job that writes every table as Parquet.
It reads the UDP schema (`pipeline.udp`) and profiles (`distributions`), never the outputs.
"""

from pipeline.generate import _rules  # noqa: F401  (registers the entity rules with the engine)
from pipeline.generate._beam import GenerateWarehouse, JobConfig
from pipeline.generate._plan import Settings

__all__ = ["GenerateWarehouse", "JobConfig", "Settings"]
