"""The stages of a job that run Apache Beam: plan, generate (Beam), check the row counts,
load DuckDB; `run_job` runs them in this process inside the staged frame of
pipeline/cli/_stages.py (`campus-synth generate`), and `run`'s child process runs
`generate_stages` alone (pipeline/cli/_job_child.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.cli._scenario_out import describe_scenario, scenario_errors, with_scenario
from pipeline.cli._settings import Resolved
from pipeline.cli._stages import Job, Reporter, RunReport, staged_job, timed
from pipeline.errors import PipelineError
from pipeline.generate._beam import (
    GenerateWarehouse,
    JobConfig,
    block_count,
    engine_for,
    written_rows,
)
from pipeline.outputs._duckdb import load_warehouse
from pipeline.outputs._staging import is_remote
from pipeline.udp._event_schema import SCHEMA_NAME, TABLE_NAME
from pipeline.udp._registry import REGISTRY
from pipeline.udp._settings import Settings

EVENTS_DIR = f"{SCHEMA_NAME}/{TABLE_NAME}"


def planned_rows(profile: dict, settings: Settings) -> dict[str, int]:
    """Rows the plan gives every table (by qualified name) for a profile and settings."""
    engine = engine_for(JobConfig(profile, settings))
    return {REGISTRY[key].qualified_name: engine.n_rows(key) for key in REGISTRY.order()}


def run_job(profile: dict, profile_source: str, resolved: Resolved, out: str,
            load: bool = True, reporter: Reporter | None = None,
            marts: bool = True, scenario: dict | None = None) -> RunReport:
    """Generate the context store into `out` (Parquet, and the DuckDB file when `load`;
    then the dbt marts in that file when `marts`), overlaid by `scenario` when given (a
    validated scenario, distributions/_scenario.py), every stage in this process."""
    job = Job(profile, profile_source, resolved, out, load, marts, scenario)
    return staged_job(job, reporter or Reporter(), generate_stages)


def generate_stages(job: Job, root: Path, reporter: Reporter, seconds: dict) -> dict[str, int]:
    """Plan, generate and (when `job.load`) load DuckDB in the staging folder `root`; the
    rows written per table (checked against the plan)."""
    config = JobConfig(with_scenario(job.profile, job.scenario), job.resolved.settings)
    with timed("plan", reporter, seconds):
        engine = engine_for(config)
    with timed("generate", reporter, seconds), scenario_errors(job.scenario):
        counts = _generate(config, root, job.resolved.beam_args, reporter)
    _check_counts(engine, counts)
    if job.load:
        with timed("load", reporter, seconds):
            load_warehouse(root, list(engine.registry), reporter.progress)
            describe_scenario(root / "warehouse.duckdb", job.scenario)
    return counts


def _generate(config: JobConfig, root: Path | str, beam_args: list[str],
              reporter: Reporter) -> dict:
    total = block_count(config)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(root, total, reporter, stop), daemon=True)
    if not is_remote(root):  # files written to an object store are not counted as they land
        watcher.start()
    try:
        pipeline = beam.Pipeline(options=PipelineOptions(beam_args))
        _ = pipeline | "Warehouse" >> GenerateWarehouse(config, str(root))
        result = pipeline.run()
        try:
            result.wait_until_finish()
        finally:
            _close_client(result)
    finally:
        stop.set()
        if watcher.is_alive():
            watcher.join()
    reporter.progress(total, total)
    return _row_counts(result, config, str(root))


def _close_client(result) -> None:
    """Disconnect from a Dask cluster (DaskRunner's result holds the client it opened and
    never closes it; left open, it logs connection errors once the cluster is gone)."""
    client = getattr(result, "client", None)
    if client is not None:
        client.close()


def _watch(root: Path, total: int, reporter: Reporter, stop: threading.Event) -> None:
    while not stop.wait(0.25):
        done = sum(1 for _ in root.glob("*/*/part-*.parquet"))
        done += sum(1 for _ in root.glob(f"{EVENTS_DIR}/*/part-*.parquet"))
        reporter.progress(done, total)


def _row_counts(result, config: JobConfig, root: str) -> dict[str, int]:
    """Rows written per table: the job's metrics, or, on a runner that collects none
    (DaskRunner), the row counts in the written files' Parquet footers."""
    try:
        metrics = result.metrics()
    except NotImplementedError:
        return written_rows(config, root)
    query = metrics.query(MetricsFilter().with_namespace("campus_synth"))
    counts: dict[str, int] = {}
    for counter in query["counters"]:
        key = counter.key.metric.name[len("rows["):-1]
        value = counter.committed if counter.committed is not None else counter.attempted
        counts[key] = counts.get(key, 0) + int(value)
    return counts


def _check_counts(engine, counts: dict[str, int]) -> None:
    for table in REGISTRY:
        planned, written = engine.n_rows(table.key), counts.get(table.key, 0)
        if planned != written:
            raise PipelineError(f"{table.qualified_name}: the job wrote {written} rows, "
                                f"the plan has {planned}")
