"""The stages of a run: plan, generate (Beam), load (DuckDB), publish the output folder."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from distributions import default_profile_path
from pipeline.cli._faults import guarded, raise_if_interrupted
from pipeline.cli._scenario_out import (
    describe_scenario,
    scenario_errors,
    scenario_manifest,
    with_scenario,
)
from pipeline.cli._settings import Resolved
from pipeline.errors import OutputError, PipelineError
from pipeline.generate._beam import (
    GenerateWarehouse,
    JobConfig,
    block_count,
    engine_for,
    written_rows,
)
from pipeline.generate._plan import Settings
from pipeline.outputs._dbt import build
from pipeline.outputs._duckdb import load_warehouse
from pipeline.outputs._staging import is_remote, staged_output
from pipeline.udp._contract import check_profile
from pipeline.udp._event_schema import QUALIFIED_NAME as EVENTS
from pipeline.udp._event_schema import SCHEMA_NAME, TABLE_NAME
from pipeline.udp._registry import REGISTRY, profile_extras
from pipeline.udp._schema import ENTITY

EVENTS_DIR = f"{SCHEMA_NAME}/{TABLE_NAME}"


class Reporter:
    """What a run tells its user; the CLI prints it, tests may record it."""

    def stage(self, name: str) -> None: ...
    def progress(self, done: int, total: int) -> None: ...
    def stage_done(self, name: str, seconds: float) -> None: ...
    def note(self, text: str) -> None: ...


@dataclass
class RunReport:
    out: Path
    counts: dict[str, int]
    warehouse: Path | None
    seconds: dict[str, float] = field(default_factory=dict)


def planned_rows(profile: dict, settings: Settings) -> dict[str, int]:
    """Rows the plan gives every table (by qualified name) for a profile and settings."""
    engine = engine_for(JobConfig(profile, settings))
    return {REGISTRY[key].qualified_name: engine.n_rows(key) for key in REGISTRY.order()}


def run_job(profile: dict, profile_source: str, resolved: Resolved, out: str,
            load: bool = True, reporter: Reporter | None = None,
            marts: bool = True, scenario: dict | None = None) -> RunReport:
    """Generate the context store into `out` (Parquet, and the DuckDB file when `load`;
    then the dbt marts in that file when `marts`), overlaid by `scenario` when given (a
    validated scenario, distributions/_scenario.py)."""
    reporter = reporter or Reporter()
    check_profile(profile, REGISTRY, profile_source)
    if load and is_remote(out):
        raise OutputError(f"{out}: the DuckDB warehouse is built in a local folder; use "
                          "`campus-synth generate` for object-store output (then `publish`)")
    config = JobConfig(with_scenario(profile, scenario), resolved.settings)
    seconds: dict[str, float] = {}
    with guarded(out), staged_output(out) as staging:
        for folder in getattr(staging, "removed", []):
            reporter.note(f"removed {folder}, left by a run that was killed")
        with _timed("plan", reporter, seconds):
            engine = engine_for(config)
        with _timed("generate", reporter, seconds), scenario_errors(scenario):
            counts = _generate(config, staging.staging, resolved.beam_args, reporter)
        _check_counts(engine, counts)
        warehouse = None
        if load:
            with _timed("load", reporter, seconds):
                load_warehouse(staging.staging, list(engine.registry), reporter.progress)
                describe_scenario(staging.staging / "warehouse.duckdb", scenario)
            warehouse = staging.final / "warehouse.duckdb"
        if load and marts:
            with _timed("build", reporter, seconds):
                _build_marts(staging.staging, profile_source, reporter)
        staging.commit({**_manifest(profile, profile_source, resolved, counts),
                        **scenario_manifest(scenario)})
    return RunReport(staging.final, counts, warehouse, seconds)


def _build_marts(root: Path, profile_source: str, reporter: Reporter) -> None:
    """dbt build on the staged warehouse (pipeline/outputs/_dbt.py); option sets are enforced when
    the data came from the default profile, whose values they are."""

    default = Path(profile_source).resolve() == default_profile_path().resolve()
    build(root, variables={"option_set_severity": "error" if default else "warn"},
          quiet=True, progress=reporter.progress)


class _timed:
    def __init__(self, name: str, reporter: Reporter, seconds: dict):
        self.name, self.reporter, self.seconds = name, reporter, seconds

    def __enter__(self):
        self.reporter.stage(self.name)
        self.start = time.perf_counter()

    def __exit__(self, kind, value, traceback):
        if kind is None:
            raise_if_interrupted()  # a stage that swallowed the signal's exception ends here
            self.seconds[self.name] = time.perf_counter() - self.start
            self.reporter.stage_done(self.name, self.seconds[self.name])


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


def _qualified(key: str) -> str:
    if key == EVENTS or key not in REGISTRY.tables:  # the events, a scenario's table
        return key if key == EVENTS else f"{ENTITY}.{key}"
    return REGISTRY[key].qualified_name


def _manifest(profile: dict, source: str, resolved: Resolved, counts: dict) -> dict:
    digest = hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()
    return {
        "tool": "campus-synth",
        "settings": asdict(resolved.settings),
        "sources": resolved.sources,
        "runner": resolved.runner,
        "profile": {"source": source, "sha256": digest, "name": profile.get("name")},
        "tables": {_qualified(key): rows for key, rows in sorted(counts.items())},
        # the institution's own columns: the loads (DuckDB, BigQuery) declare them too
        "extras": profile_extras(profile),
        # the event table's own columns: the BigQuery load declares them
        "event_extras": {name: {"type": spec["type"]} for name, spec in
                         profile.get("events", {}).get("extras", {}).items()},
    }
