"""The marts: running the dbt project in `dbt/` on a generated warehouse.

`build()` writes a dbt profile for the chosen target (the warehouse's DuckDB file by default,
or a BigQuery project), runs `dbt build` in-process through dbt's programmatic entry point
and raises a PipelineError naming every failed model or test. dbt's artefacts (manifest, run
results, the docs catalog) go to `<out>/dbt/target`, its log to `<out>/dbt/logs`.

The staging layer over the context store is rendered from the registry (`render_staging`):
one `stg_<source>__<table>` view per generated table that only renames and casts, and one
YAML file with its sources, descriptions and tests — unique and not_null on every key,
relationships on every foreign key, accepted values for the option sets of the default
profile. The rendered files are committed; a test checks they match the registry.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from distributions import load_profile
from pipeline.errors import PipelineError
from pipeline.udp._registry import REGISTRY
from pipeline.udp._schema import ENTITY, KEYMAP, Table

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
STAGING_DIR = PROJECT_DIR / "models" / "staging" / "context_store"
PROFILE_NAME = "campus_synth"
TARGETS = ("duckdb", "bigquery")
MART_SCHEMAS = ("mart_general", "mart_taskforce", "mart_course_offering", "udp_distributions")
HELPER_SCHEMA = "mart_helper"
DUCKDB_MEMORY_LIMIT = "3GB"
SOURCES = {ENTITY: "context_store", KEYMAP: "context_store_keymap"}


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
    """The profiles.yml document for one target."""
    if target == "duckdb":
        if warehouse is None:
            raise PipelineError("the duckdb target needs the warehouse file")
        output = {"type": "duckdb", "path": str(warehouse), "schema": HELPER_SCHEMA,
                  "threads": threads,
                  "settings": {"TimeZone": "UTC", "memory_limit": DUCKDB_MEMORY_LIMIT,
                               "preserve_insertion_order": False}}
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
    out = Path(out)
    if not (PROJECT_DIR / "dbt_project.yml").is_file():
        raise PipelineError(f"{PROJECT_DIR}: no dbt project there (set CAMPUS_SYNTH_DBT_PROJECT "
                            "to campus-synth's dbt/ folder)")
    if target == "duckdb":
        warehouse = warehouse or out / "warehouse.duckdb"
        if not warehouse.is_file():
            raise PipelineError(f"{warehouse}: no warehouse to build the marts on (run "
                                "`campus-synth run` first)")
        if events is None:
            events = has_event_store(warehouse)
    elif events is None:
        events = True
    variables = {"option_set_severity": _option_set_severity(out), **(variables or {})}
    artefacts = out / "dbt"
    artefacts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="campus-synth-dbt-") as profiles_dir:
        Path(profiles_dir, "profiles.yml").write_text(
            json.dumps(profile(target, warehouse, bigquery)), encoding="utf-8")
        args = [*command.split(), "--project-dir", str(PROJECT_DIR),
                "--profiles-dir", profiles_dir, "--target", target,
                "--target-path", str(artefacts / "target"),
                "--log-path", str(artefacts / "logs"),
                "--vars", json.dumps(variables)]
        if select:
            args += ["--select", *select]
        if not events and command.split()[0] in ("build", "run", "test", "compile"):
            args += ["--exclude", "tag:events"]
        if quiet:
            args.append("--quiet")
        start = time.perf_counter()
        try:
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


def _collect(report: BuildReport, result) -> None:
    for node in getattr(result.result, "results", None) or []:
        status = str(getattr(node.status, "value", node.status))
        report.statuses[status] = report.statuses.get(status, 0) + 1
        if status in ("error", "fail", "runtime error"):
            name = getattr(node.node, "unique_id", "?")
            message = (node.message or "").strip().splitlines()
            report.failures.append(f"{name}: {message[0] if message else status}")


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


# ---- the staging layer, rendered from the registry ---------------------------------------
def staging_name(table: Table) -> str:
    return f"stg_{SOURCES[table.schema]}__{table.name}"


def _renamed(table: Table, column: str) -> str:
    """A keymap's `id` is the entity's key: it gets the entity key's name."""
    return f"{table.name}_id" if table.schema == KEYMAP and column == "id" else column


def render_staging(registry=None, profile_doc: dict | None = None) -> dict[str, str]:
    """{file name: text} of the context-store staging layer (models, sources, tests)."""
    registry = registry or REGISTRY
    profile_doc = profile_doc or load_profile()
    tables = [t for t in registry if t.schema in SOURCES]
    files = {f"{staging_name(t)}.sql": _staging_sql(t) for t in tables}
    files["_context_store__sources.yml"] = _sources_yaml(tables)
    files["_context_store__models.yml"] = _models_yaml(tables, registry, profile_doc)
    return files


def render_distribution_fields(registry=None, profile_doc: dict | None = None) -> str:
    """`macros/distribution_fields.sql`: the fields udp_distributions.context_store_distributions
    describes — every column distribution of the default profile, with its kind, the
    columns it is conditional on, its registry type and the unit the profile measures it in
    (a due date as a fraction of its term, a score as a fraction of the points, ...)."""
    registry = registry or REGISTRY
    profile_doc = profile_doc or load_profile()
    fields = []
    for table, spec in profile_doc["tables"].items():
        for name, dist in spec.get("columns", {}).items():
            inner = dist["otherwise"] if dist["kind"] == "conditional" else dist
            if inner["kind"] not in ("categorical", "continuous"):
                continue  # a foreign-key skew has no place in the layout
            given = []
            for column in dist.get("given", []):
                if "." in column:
                    fk, parent_column = column.split(".", 1)
                    parent = registry[registry[table].parent_of(fk)]
                    given.append({"name": column, "fk": fk, "parent": parent.name,
                                  "parent_key": parent.primary_key[0],
                                  "column": parent_column})
                else:
                    given.append({"name": column})
            fields.append({"entity": table, "field": name, "kind": inner["kind"],
                           "type": registry[table].column(name).type,
                           "unit": inner.get("unit"), "given": given})
    body = "[\n" + ",\n".join("  " + json.dumps(f).replace(": null", ": none")
                               for f in fields) + "\n]"
    return ("{#- Rendered by pipeline/outputs/_dbt.py from the default profile and the registry; "
            "do not edit.\n    The fields context_store_distributions describes. -#}\n"
            "{% macro distribution_fields() %}\n{{ return(" + body + ") }}\n{% endmacro %}\n")


def _staging_sql(table: Table) -> str:
    width = max(len(c.name) for c in table.columns)
    lines = []
    for column in table.columns:
        cast = f"{{{{ cs_cast('{column.name}', '{column.type}') }}}}"
        lines.append(f"        {cast:<{width + 30}} as {_renamed(table, column.name)}")
    return (f"-- {table.description or table.name} Rendered by pipeline/outputs/_dbt.py from the "
            "registry: only renames and casts.\n\n"
            f"with source as (\n\n    select * from {{{{ source('{SOURCES[table.schema]}', "
            f"'{table.name}') }}}}\n\n),\n\nrenamed as (\n\n    select\n"
            + ",\n".join(lines) + "\n    from source\n\n),\n\nfinal as (\n\n"
            "    select * from renamed\n\n)\n\nselect * from final\n")


def _sources_yaml(tables: list[Table]) -> str:
    sources = []
    for schema, name in SOURCES.items():
        sources.append({
            "name": name,
            "description": f"The generated UDP {schema} (a schema of the DuckDB warehouse, a "
                           "dataset on BigQuery).",
            "schema": f"{{{{ var('{schema}_schema') }}}}",
            "tables": [{"name": t.name, "description": t.description or t.name}
                       for t in tables if t.schema == schema],
        })
    return _yaml({"version": 2, "sources": sources})


def _accepted_values(profile_doc: dict) -> dict[tuple[str, str], list]:
    found: dict[tuple[str, str], list] = {}
    for table, spec in profile_doc["tables"].items():
        for column, dist in spec.get("columns", {}).items():
            parts = _leaves(dist)  # a conditional's cells may nest (learned dependencies)
            if any(p["kind"] != "categorical" for p in parts):
                continue
            values: list = []
            for part in parts:
                for item in part["values"]:
                    if item["value"] is not None and item["value"] not in values:
                        values.append(item["value"])
            found[(table, column)] = values
    return found


def _leaves(dist: dict) -> list[dict]:
    if dist["kind"] != "conditional":
        return [dist]
    return [leaf for part in (dist["otherwise"], *(c["distribution"] for c in dist["cells"]))
            for leaf in _leaves(part)]


def _models_yaml(tables: list[Table], registry, profile_doc: dict) -> str:
    options = _accepted_values(profile_doc)
    models = []
    for table in tables:
        key = [_renamed(table, c) for c in table.primary_key]
        columns = []
        for column in table.columns:
            name = _renamed(table, column.name)
            tests: list = []
            if name in key:
                tests.append("not_null")
                if len(key) == 1:
                    tests.append("unique")
            parent = table.parent_of(column.name)
            if parent:
                parent_table = registry[parent]
                tests.append({"relationships": {"arguments": {
                    "to": f"ref('{staging_name(parent_table)}')",
                    "field": parent_table.primary_key[0]}}})
            values = options.get((table.name, column.name)) \
                if table.schema == ENTITY and column.name != "academic_session_id" else None
            if values:
                quote = column.type == "string"
                tests.append({"accepted_values": {
                    "arguments": {"values": [str(v) if quote else v for v in values],
                                  "quote": quote},
                    "config": {"severity": "{{ var('option_set_severity') }}"}}})
            entry = {"name": name}
            if column.description:
                entry["description"] = column.description
            if tests:
                entry["data_tests"] = tests
            columns.append(entry)
        model = {"name": staging_name(table),
                 "description": f"{table.description} Grain: one row per "
                                f"{', '.join(key)}.",
                 "columns": columns}
        if len(key) > 1:
            model["data_tests"] = [{"unique_combination": {"arguments": {"columns": key}}}]
        models.append(model)
    return _yaml({"version": 2, "models": models})


def _yaml(document: dict) -> str:
    import yaml

    return ("# Rendered by pipeline/outputs/_dbt.py from the registry and the default profile; "
            "do not edit.\n" + yaml.safe_dump(document, sort_keys=False, width=100))


def write_staging(directory: Path = STAGING_DIR) -> list[Path]:
    """Render the staging layer into `directory` (what `python -m pipeline.outputs._dbt` does)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_staging().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in directory.glob("stg_*.sql"):
        if stale not in written:
            stale.unlink()
    macro = PROJECT_DIR / "macros" / "distribution_fields.sql"
    macro.write_text(render_distribution_fields(), encoding="utf-8")
    return [*written, macro]


if __name__ == "__main__":
    for path in write_staging():
        print(path.relative_to(PROJECT_DIR.parent))
