"""The frame of one job, without Apache Beam: the staged output folder with its lock and
signal handling, the stages' reports, the dbt build on the staged warehouse and the manifest
the commit writes.

The stages before the build (plan, generate, load) are handed in: `generate` runs them in its
own process (pipeline/cli/_job.py), `run` in a child process that exits before the build
(pipeline/cli/_job_child.py), so that the process holding DuckDB's memory in the build never
held Beam's (benchmarks/README.md, "The default run's peak, taken apart").
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from distributions import default_profile_path
from pipeline.cli._faults import guarded, raise_if_interrupted
from pipeline.cli._scenario_out import scenario_manifest
from pipeline.cli._settings import Resolved
from pipeline.errors import OutputError
from pipeline.outputs import _dbt_parse as parse_process
from pipeline.outputs._dbt import build, preload
from pipeline.outputs._staging import is_remote, staged_output
from pipeline.udp._contract import check_profile
from pipeline.udp._event_schema import QUALIFIED_NAME as EVENTS
from pipeline.udp._registry import REGISTRY, profile_extras
from pipeline.udp._schema import ENTITY


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


@dataclass
class Job:
    """One job: its profile (and the file it came from), settings, output folder, scenario,
    and whether it loads DuckDB and builds the marts. Pickled for `run`'s child process."""

    profile: dict
    source: str
    resolved: Resolved
    out: str
    load: bool = True
    marts: bool = True
    scenario: dict | None = None


# (job, staging folder, reporter, seconds per stage) → rows written per table
Stages = Callable[[Job, Path, Reporter, dict], dict]


def staged_job(job: Job, reporter: Reporter, stages: Stages) -> RunReport:
    """Run `stages` (plan, generate, load) into a staging folder beside job.out, then the
    dbt marts when asked, and move the folder into place with its manifest."""
    check_profile(job.profile, REGISTRY, job.source)
    if job.load and is_remote(job.out):
        raise OutputError(f"{job.out}: the DuckDB warehouse is built in a local folder; use "
                          "`campus-synth generate` for object-store output (then `publish`)")
    seconds: dict[str, float] = {}
    with guarded(job.out), staged_output(job.out) as staging:
        for folder in getattr(staging, "removed", []):
            reporter.note(f"removed {folder}, left by a run that was killed")
        marts = job.load and job.marts
        variables = _mart_variables(job.source)
        # dbt's parse of the project beside the stages before the build (pipeline/outputs/
        # _dbt_parse.py), which leave a core free, and dbt imported meanwhile; the build reads
        # the parse back and starts with dbt loaded
        parsing = parse_process.start(staging.staging, variables) if marts else None
        importing = preload() if marts else None
        try:
            counts = stages(job, staging.staging, reporter, seconds)
        except BaseException:
            parse_process.finish(parsing, stop=True)
            raise
        parse_process.finish(parsing)
        if importing:
            importing.join()
        warehouse = staging.final / "warehouse.duckdb" if job.load else None
        if marts:
            with timed("build", reporter, seconds):
                build(staging.staging, variables=variables, quiet=True,
                      progress=reporter.progress)
        staging.commit({**_manifest(job.profile, job.source, job.resolved, counts),
                        **scenario_manifest(job.scenario)})
    return RunReport(staging.final, counts, warehouse, seconds)


def _mart_variables(profile_source: str) -> dict:
    """The dbt vars of the build on the staged warehouse (pipeline/outputs/_dbt.py): option
    sets are enforced when the data came from the default profile, whose values they are."""
    default = Path(profile_source).resolve() == default_profile_path().resolve()
    return {"option_set_severity": "error" if default else "warn"}


class timed:
    """A stage, reported when it starts and ends, its seconds kept in `seconds[name]`."""

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
