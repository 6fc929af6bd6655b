"""The marts: running the dbt project in `dbt/` on a generated warehouse.

`build()` writes a dbt profile for the chosen target (the warehouse's DuckDB file by default,
or a BigQuery project), runs `dbt build` in-process through dbt's programmatic entry point
and raises a PipelineError naming every failed model or test. dbt's artefacts (manifest, run
results, the docs catalog) go to `<out>/dbt/target`, its log to `<out>/dbt/logs`.

The staging layer the project reads the context store through is rendered from the registry:
pipeline/outputs/_dbt_render.py.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from pipeline.errors import PipelineError
from pipeline.outputs._duckdb import WAREHOUSE_FILE, point_event_store

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def _project_dir() -> Path:
    """Where the dbt project is: CAMPUS_SYNTH_DBT_PROJECT if set; else the copy installed with
    the package (`pipeline/_dbt_project`, shipped under a name that cannot collide with
    dbt-core's `dbt`); else `dbt/` at the root of a source checkout (an editable install)."""
    if os.environ.get("CAMPUS_SYNTH_DBT_PROJECT"):
        return Path(os.environ["CAMPUS_SYNTH_DBT_PROJECT"])
    package = Path(__file__).resolve().parents[1]  # pipeline/ (this file is in outputs/)
    installed = package / "_dbt_project"
    return installed if (installed / "dbt_project.yml").is_file() else package.parent / "dbt"


PROJECT_DIR = _project_dir()
PROFILE_NAME = "campus_synth"
TARGETS = ("duckdb", "bigquery")
MART_SCHEMAS = ("mart_general", "mart_taskforce", "mart_course_offering", "udp_distributions")
HELPER_SCHEMA = "mart_helper"
DUCKDB_MEMORY_LIMIT = "1500MB"  # with dbt itself (~0.4 GB), the build stays under 2 GB
# DuckDB's spill to disk (OUT/warehouse.duckdb.tmp) is capped by its max_temp_directory_size,
# by default 90 % of the disk's free space when it first spills; this variable sets another
# cap (e.g. 20GB). Read into the profile, so keep it the same between builds: dbt's kept parse
# (_parse_cache) is keyed on the profile's settings.
SPILL_LIMIT_ENV = "CAMPUS_SYNTH_DUCKDB_SPILL_LIMIT"
DBT_THREADS = 2  # dbt's nodes at once (DuckDB's own threads are its `threads` setting)
PARSE_FILE = "partial_parse.msgpack"
ARTEFACTS = "dbt"  # dbt's artefacts (target, logs) in an output folder


# ---- the profile --------------------------------------------------------------------------
@dataclass(frozen=True)
class BigQueryTarget:
    """Where the BigQuery target builds: a project, and how dbt reaches it.

    `api_endpoint` points dbt-bigquery at another BigQuery API (an emulator on loopback);
    with it the profile uses `oauth-secrets` and a dummy token, since nothing checks them.
    Without it dbt authenticates with `keyfile` (a service account) or the ambient
    application-default credentials (`oauth`)."""

    project: str
    location: str | None = None
    keyfile: str | None = None
    api_endpoint: str | None = None


def profile(target: str, warehouse: Path | None = None,
            bigquery: BigQueryTarget | None = None, threads: int = 2) -> dict:
    """The profiles.yml document for one target. On DuckDB, `warehouse` as given: `build`
    passes the file's bare name and runs dbt in its folder, so that the profile, which dbt's
    parse cache is keyed on, is the same for every output folder."""
    if target == "duckdb":
        if warehouse is None:
            raise PipelineError("the duckdb target needs the warehouse file")
        output = {"type": "duckdb", "path": str(warehouse), "schema": HELPER_SCHEMA,
                  "threads": threads,
                  "settings": {"TimeZone": "UTC", "memory_limit": DUCKDB_MEMORY_LIMIT,
                               "preserve_insertion_order": False}}
        if os.environ.get(SPILL_LIMIT_ENV):
            output["settings"]["max_temp_directory_size"] = os.environ[SPILL_LIMIT_ENV]
    elif target == "bigquery":
        if bigquery is None or not bigquery.project:
            raise PipelineError("the bigquery target needs --project")
        output = {"type": "bigquery", "project": bigquery.project, "dataset": HELPER_SCHEMA,
                  "threads": threads, "job_execution_timeout_seconds": 600,
                  "job_retries": 0 if bigquery.api_endpoint else 1}
        if bigquery.location:
            output["location"] = bigquery.location
        if bigquery.api_endpoint:
            output.update(method="oauth-secrets", token="unused-by-the-emulator",
                          api_endpoint=bigquery.api_endpoint)
        elif bigquery.keyfile:
            output.update(method="service-account", keyfile=bigquery.keyfile)
        else:
            output["method"] = "oauth"
    else:
        raise PipelineError(f"unknown dbt target {target!r} (expected one of "
                            f"{', '.join(TARGETS)})")
    return {PROFILE_NAME: {"target": target, "outputs": {target: output}}}


# ---- running dbt --------------------------------------------------------------------------
@dataclass
class BuildReport:
    """What one dbt invocation did: counts by status, the failures, its time."""

    target: str
    command: str
    seconds: float
    statuses: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    artefacts: Path | None = None

    @property
    def summary(self) -> str:
        parts = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        return f"dbt {self.command} on {self.target}: {parts or 'nothing run'} " \
               f"in {self.seconds:.1f} s"


def build(out: str | Path, target: str = "duckdb", *, bigquery: BigQueryTarget | None = None,
          command: str = "build", select: list[str] | None = None,
          events: bool | None = None, variables: dict | None = None,
          warehouse: Path | None = None, quiet: bool = False,
          progress: Callable[[int, int], None] | None = None) -> BuildReport:
    """Run `dbt <command>` (build, run, test, docs generate, ...) on the warehouse in `out`.

    `events` says whether the event store exists; None looks (DuckDB only; BigQuery
    assumes it does). Without it the event marts are left out (`--exclude tag:events`).
    `progress(done, total)` is called as each dbt node (model, test) finishes."""
    out = Path(out).absolute()  # dbt runs in the warehouse's folder (_working_directory)
    if not (PROJECT_DIR / "dbt_project.yml").is_file():
        raise PipelineError(f"{PROJECT_DIR}: no dbt project there (set CAMPUS_SYNTH_DBT_PROJECT "
                            "to campus-synth's dbt/ folder)")
    if target == "duckdb":
        warehouse = Path(warehouse).absolute() if warehouse else out / WAREHOUSE_FILE
        if not warehouse.is_file():
            raise PipelineError(f"{warehouse}: no warehouse to build the marts on (run "
                                "`campus-synth run` first)")
        point_event_store(warehouse)  # the folder may have moved since the run
        if events is None:
            events = has_event_store(warehouse)
    elif events is None:
        events = True
    artefacts = out / ARTEFACTS
    # the DuckDB file by its bare name, dbt run in its folder: the same profile for every
    # output folder, so dbt's parse of the project is reused (_parse_cache)
    where = warehouse.parent if target == "duckdb" else Path.cwd()
    named = Path(warehouse.name) if target == "duckdb" else None
    with _arguments(command, target, out, variables, named, bigquery) as args:
        if select:
            args += ["--select", *select]
        if not events and command.split()[0] in ("build", "run", "test", "compile"):
            args += ["--exclude", "tag:events"]
        if quiet:
            args.append("--quiet")
        release_memory()
        start = time.perf_counter()
        try:
            with _parse_cache(target, artefacts / "target"), _working_directory(where):
                result = _invoke(args, progress)
        finally:
            if target == "duckdb":
                _release_duckdb()
        seconds = time.perf_counter() - start
    report = BuildReport(target, command, seconds, artefacts=artefacts / "target")
    _collect(report, result)
    if not result.success:
        detail = "; ".join(report.failures[:8]) or str(result.exception or "see the dbt log")
        more = f" (and {len(report.failures) - 8} more)" if len(report.failures) > 8 else ""
        raise PipelineError(f"dbt {command} on {target} failed: {detail}{more}; log: "
                            f"{artefacts / 'logs' / 'dbt.log'}")
    return report


def parse(out: str | Path, variables: dict) -> bool:
    """dbt's parse of the project for a DuckDB warehouse that will be in `out`, with the
    arguments `build(out, variables=variables)` uses (`_arguments`): that build then reads the
    parse back (its `partial_parse.msgpack`) instead of parsing the whole project, ~3.6 s of a
    build whose parse cache is empty (benchmarks/README.md). The warehouse need not exist yet:
    the parse opens no database. `run` calls it in a process of its own while it generates
    (pipeline/outputs/_dbt_parse.py). True when dbt parsed."""
    out = Path(out).absolute()
    with _arguments("parse", "duckdb", out, variables, Path(WAREHOUSE_FILE)) as args, \
            _parse_cache("duckdb", out / ARTEFACTS / "target"):
        result = _invoke([*args, "--quiet"])
    return bool(result.success)


@contextlib.contextmanager
def _arguments(command: str, target: str, out: Path, variables: dict | None,
               warehouse: Path | None = None,
               bigquery: BigQueryTarget | None = None) -> Iterator[list[str]]:
    """dbt's arguments for `command` on `target` for the output folder `out`, its profile
    written to a temporary folder while they are in use. `build` and `parse` both take them
    from here: a parse made with them is valid for a build made with them."""
    artefacts = out / ARTEFACTS
    (artefacts / "target").mkdir(parents=True, exist_ok=True)
    variables = {"option_set_severity": _option_set_severity(out), **(variables or {})}
    with tempfile.TemporaryDirectory(prefix="campus-synth-dbt-") as profiles_dir:
        Path(profiles_dir, "profiles.yml").write_text(
            json.dumps(profile(target, warehouse, bigquery, threads=DBT_THREADS)),
            encoding="utf-8")
        yield [*command.split(), "--project-dir", str(PROJECT_DIR),
               "--profiles-dir", profiles_dir, "--target", target,
               "--target-path", str(artefacts / "target"), "--log-path", str(artefacts / "logs"),
               "--vars", json.dumps(variables)]


def preload() -> threading.Thread:
    """dbt's runner and DuckDB adapter imported in a thread (~1.2 s, the first thing a build
    does), for a caller with other work to wait on first: `run`, while its generate child
    works. A failed import is left for the build to meet and report; join the thread before
    building."""
    thread = threading.Thread(target=_import_dbt, name="dbt-import", daemon=True)
    thread.start()
    return thread


def _import_dbt() -> None:
    with contextlib.suppress(Exception):
        import dbt.adapters.duckdb  # noqa: F401
        import dbt.cli.main  # noqa: F401


def release_memory() -> None:
    """Hand the memory a run's earlier stages freed (Python objects, Arrow buffers, malloc
    arenas) back to the system before dbt and DuckDB take theirs, since in `run` it would sit
    under the build's peak. Measured, it is little: 389 → 350 MB after a 5,000-FTE generate
    and load (benchmarks/README.md)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # glibc only
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """dbt-duckdb opens the profile's relative path against the working directory."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextlib.contextmanager
def _parse_cache(target: str, target_path: Path) -> Iterator[None]:
    """dbt's parse of the project (its `partial_parse.msgpack`), kept between builds: every
    `run` builds into a new output folder, where dbt would parse all ~340 nodes again (6 s
    wall of a one-view build; benchmarks/README.md). The kept file is copied into the
    target folder before dbt runs and back after; dbt itself checks it against the project's
    files, the vars, the profile and its own version, and parses in full what changed (or
    everything, when the file is stale or unreadable), so a kept file is never wrong, only
    unused. Kept in CAMPUS_SYNTH_DBT_CACHE, else the user's cache folder, per project folder
    and target; a cache that cannot be written is skipped."""
    kept = _cache_dir() / hashlib.sha256(f"{PROJECT_DIR.resolve()}|{target}".encode()
                                         ).hexdigest()[:16] / PARSE_FILE
    used = target_path / PARSE_FILE
    if kept.is_file() and not used.exists():
        with contextlib.suppress(OSError):
            shutil.copyfile(kept, used)
    try:
        yield
    finally:
        if used.is_file():
            with contextlib.suppress(OSError):
                kept.parent.mkdir(parents=True, exist_ok=True)
                partial = kept.with_name(f".{PARSE_FILE}.{os.getpid()}")
                shutil.copyfile(used, partial)
                os.replace(partial, kept)  # whole, whatever other builds do at once


def _cache_dir() -> Path:
    if os.environ.get("CAMPUS_SYNTH_DBT_CACHE"):
        return Path(os.environ["CAMPUS_SYNTH_DBT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "campus-synth" / "dbt"


def _invoke(args: list[str], progress: Callable[[int, int], None] | None = None):
    from dbt.cli.main import dbtRunner  # heavy: imported only when dbt runs

    callbacks = [_NodeCounter(progress)] if progress else []
    try:
        return dbtRunner(callbacks=callbacks).invoke(args)
    except Exception as error:  # dbt raises for a broken project before it returns
        raise PipelineError(f"dbt could not start: {error}") from None


class _NodeCounter:
    """A dbt event callback: `progress(done, total)` each time a node finishes. dbt's start
    lines carry the number of nodes it runs; its threads call this concurrently."""

    def __init__(self, progress: Callable[[int, int], None]):
        self.progress, self.done, self.total = progress, 0, 0
        self.lock = threading.Lock()

    def __call__(self, event) -> None:
        name = event.info.name
        if name == "LogStartLine" and not self.total:
            self.total = event.data.total
        elif name == "NodeFinished":
            with self.lock:
                self.done += 1
                self.progress(self.done, max(self.total, self.done))


def _release_duckdb() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process after a run, so the
    warehouse can be opened again (read-only, or by the next dbt invocation)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager

    with manager._LOCK:
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None


# the first line of dbt's message for a failed node, which names the node again; the
# database's own error (e.g. DuckDB's "Out of Memory Error: ...") is on the next line
_DBT_ERROR_HEADERS = ("Runtime Error in ", "Database Error in ", "Compilation Error in ")


def _collect(report: BuildReport, result) -> None:
    for node in getattr(result.result, "results", None) or []:
        status = str(getattr(node.status, "value", node.status))
        report.statuses[status] = report.statuses.get(status, 0) + 1
        if status in ("error", "fail", "runtime error"):
            name = getattr(node.node, "unique_id", "?")
            message = (node.message or "").strip().splitlines()
            if "max_temp_directory_size" in (node.message or ""):
                # DuckDB words a full spill as "Out of Memory Error: failed to offload data
                # block ..." and names the cap on a later line
                cap = os.environ.get(SPILL_LIMIT_ENV) or "90 % of the free disk, DuckDB's default"
                report.failures.append(
                    f"{name}: DuckDB's spill to disk (warehouse.duckdb.tmp) reached its cap, "
                    f"max_temp_directory_size ({cap}): free disk space beside the warehouse, "
                    f"set another cap in {SPILL_LIMIT_ENV}, or build a smaller warehouse")
                continue
            lines = [line.strip() for line in message if line.strip()]
            if len(lines) > 1 and lines[0].startswith(_DBT_ERROR_HEADERS):
                lines = lines[1:]  # "Runtime Error in model X (path)": the node is named already
            report.failures.append(f"{name}: {lines[0] if lines else status}")


def has_event_store(warehouse: Path) -> bool:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        found = connection.execute(
            "select count(*) from information_schema.tables where table_schema = "
            "'event_store' and table_name = 'expanded'").fetchone()[0]
    return bool(found)


def _option_set_severity(out: Path) -> str:
    """Option sets are the default profile's: a warehouse generated from another profile may
    hold other values legitimately, so for it the accepted-values tests only warn."""
    try:
        manifest = json.loads((out / "campus-synth.json").read_text())
    except (OSError, ValueError):
        return "error"
    source = str(manifest.get("profile", {}).get("source", ""))
    return "error" if source.endswith("distributions/default_profile.json") else "warn"
