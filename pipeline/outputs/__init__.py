"""Outputs of a generated run: the staged output folder, the DuckDB load, the dbt project
(rendered and built), Caliper JSON-LD of the events, and the BigQuery load and publication.
They read the UDP schema and the run's Parquet; nothing here imports generation.
"""

from pipeline.outputs._caliper_json import caliper_event, envelope, read_events

__all__ = ["caliper_event", "envelope", "read_events"]
