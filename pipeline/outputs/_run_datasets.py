"""A run's own datasets in BigQuery (`csrun_<run>__<dataset>`, labelled with the run): their
names and labels, the run's manifest, the runs a project holds and their state, and the steps
that fill and check them before any switch — load, row check, dbt build, descriptions — and
the retention that deletes old runs. pipeline/outputs/_publish.py runs the steps in order.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from distributions import default_profile_path
from pipeline.errors import PipelineError
from pipeline.outputs._bigquery import load_warehouse
from pipeline.outputs._dbt import BigQueryTarget, build
from pipeline.udp._registry import REGISTRY
from pipeline.udp._schema import Table

RUN_PREFIX = "csrun_"
RUN_LABEL = "campus_synth_run"
STATE_LABEL = "campus_synth_state"          # on run datasets: loading, checked, published
PUBLISHED_LABEL = "campus_synth_published"  # on run datasets: unix seconds of the switch
CONSUMER_DATASETS = ("context_store_entity", "context_store_keymap", "event_store",
                     "mart_general", "mart_course_offering", "mart_course_section",
                     "mart_taskforce", "udp_distributions")
_LABEL_VALUE = re.compile(r"[^a-z0-9_-]")


# ---- names and labels ---------------------------------------------------------------------
def label_value(value: Any) -> str:
    """A BigQuery label value: lowercase, at most 63 characters of [a-z0-9_-]."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _LABEL_VALUE.sub("_", str(value).lower())[:63]


def run_token(run_id: str) -> str:
    """The run id as it appears in dataset names and labels."""
    token = re.sub(r"[^a-z0-9_]", "_", run_id.strip().lower())
    if not token.strip("_") or len(token) > 40:
        raise PipelineError(f"--run-id {run_id!r}: give 1 to 40 letters, digits, '_', '-' "
                            "or '.'")
    return token


def run_prefix(token: str) -> str:
    return f"{RUN_PREFIX}{token}__"


def default_run_id(manifest: dict) -> str:
    """Same output folder, same run id: publishing it again changes nothing."""
    text = json.dumps(manifest, sort_keys=True, default=str)
    return "m" + hashlib.sha256(text.encode()).hexdigest()[:12]


def run_labels(token: str, manifest: dict) -> dict[str, str]:
    """The labels of every table and dataset of the run: run id, seed, FTE, profile digest."""
    settings = manifest.get("settings", {})
    profile = manifest.get("profile", {})
    return {RUN_LABEL: token, "seed": label_value(settings.get("seed", "")),
            "fte": label_value(settings.get("fte", "")),
            "profile_sha256": label_value(str(profile.get("sha256", ""))[:16]),
            "tool": "campus-synth"}


def scenario_labels(manifest: dict) -> dict[str, str]:
    """The labels of what a scenario run's scenario touched (manifest `scenario.tables`, as
    in the DuckDB comments): its name, file and digest. A label value holds 63 characters,
    so the digest's first 16 hex digits; the table's description ends with the whole
    (`scenario_note`). Nothing for a run without a scenario."""
    scenario = manifest.get("scenario")
    if not scenario:
        return {}
    return {"scenario": label_value(scenario["name"]),
            "scenario_file": label_value(_file_name(scenario["source"])),
            "scenario_sha256": label_value(scenario["sha256"][:16])}


def scenario_note(scenario: dict) -> str:
    """What a touched table's description ends with: the DuckDB comment's note."""
    return (f"[scenario {scenario['name']}: {_file_name(scenario['source'])}, "
            f"sha256 {scenario['sha256']}]")


def _file_name(source: str) -> str:
    return Path(str(source)).name


def read_manifest(out: str) -> dict:
    path = f"{str(out).rstrip('/')}/campus-synth.json"
    try:
        if path.startswith("gs://"):
            from apache_beam.io.filesystems import FileSystems

            with FileSystems.open(path) as handle:
                return json.loads(handle.read())
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path}: no campus-synth manifest (the output of `campus-synth "
                            "generate`)") from None
    except (OSError, ValueError) as error:
        raise PipelineError(f"{path}: cannot read the manifest ({first_line(error)})") from None


# ---- the runs, load and check ------------------------------------------------------------
def run_datasets(client, project: str) -> dict[str, list]:
    """{run token: [dataset list items]} of every run-scoped dataset in the project."""
    found: dict[str, list] = {}
    for item in client.list_datasets(project):
        name = item.dataset_id
        if name.startswith(RUN_PREFIX) and "__" in name:
            found.setdefault(name[len(RUN_PREFIX):].split("__", 1)[0], []).append(item)
    return found


def list_runs(client, project: str) -> dict[str, dict]:
    """{run token: labels of its datasets (the state of the run)}."""
    runs = {}
    for token, items in run_datasets(client, project).items():
        states = [dict(client.get_dataset(i.reference).labels or {}) for i in items]
        state = {s.get(STATE_LABEL) for s in states}
        merged = dict(states[0]) if states else {}
        merged[STATE_LABEL] = state.pop() if len(state) == 1 else "loading"
        runs[token] = merged
    return runs


def drop_run(client, project: str, token: str) -> None:
    for item in run_datasets(client, project).get(token, []):
        client.delete_dataset(item.reference, delete_contents=True, not_found_ok=True)


def load_run(client, out: str, project: str, prefix: str, location: str | None,
          labels: dict, tables: list[Table] | None = None) -> None:
    """The run's datasets, labelled, and its tables loaded: `tables` (a scenario run's
    registry, with its extension tables and columns), by default the registry with the
    institution's own columns as the run recorded them."""
    from google.cloud import bigquery

    events = _has_events(out)
    datasets = sorted({t.schema for t in REGISTRY} | ({"event_store"} if events else set())) \
        + ["mart_helper"] + [d for d in CONSUMER_DATASETS if d.startswith(("mart_", "udp_"))]
    for name in dict.fromkeys(datasets):
        dataset = bigquery.Dataset(f"{project}.{prefix}{name}")
        if location:
            dataset.location = location
        dataset.labels = {**labels, STATE_LABEL: "loading"}
        dataset.description = f"campus-synth run {labels[RUN_LABEL]}: staging, not for consumers"
        client.create_dataset(dataset)
    manifest = read_manifest(out)
    if tables is None:
        tables = list(REGISTRY.with_extras(manifest.get("extras", {})))
    load_warehouse(client, out, project, tables, events=events, dataset_prefix=prefix,
                   location=location, event_extras=manifest.get("event_extras", {}))


def _has_events(out: str) -> bool:
    folder = f"{out.rstrip('/')}/event_store/expanded"
    if out.startswith("gs://"):
        from apache_beam.io.filesystems import FileSystems

        return bool(FileSystems.match([f"{folder}/*/*.parquet"])[0].metadata_list)
    return any(Path(folder).glob("*/*.parquet"))


def check_rows(client, project: str, prefix: str, manifest: dict) -> None:
    problems = []
    for qualified, want in sorted(manifest.get("tables", {}).items()):
        dataset, table = qualified.split(".", 1)
        got = client.get_table(f"{project}.{prefix}{dataset}.{table}").num_rows
        if int(got or 0) != int(want):
            problems.append(f"{qualified} holds {got} rows, the manifest says {want}")
    if problems:
        raise PipelineError("; ".join(problems))


def build_marts(out: str, project: str, prefix: str, location, keyfile, api_endpoint,
         manifest: dict, select: list[str] | None, variables: dict | None,
         dbt_dir) -> dict:
    source = str(manifest.get("profile", {}).get("source", ""))
    default = source.endswith("distributions/default_profile.json") or \
        source == str(default_profile_path())
    where = Path(dbt_dir) if dbt_dir else (
        Path(tempfile.mkdtemp(prefix="campus-synth-publish-")) if out.startswith("gs://")
        else Path(out) / "publish" / prefix.rstrip("_"))
    where.mkdir(parents=True, exist_ok=True)
    names = {f"{d}_schema": f"{prefix}{d}" for d in
             ("context_store_entity", "context_store_keymap", "event_store")}
    # a selection runs only the tests whose every parent is in it (not the relationships
    # tests of unselected models)
    command = "build --indirect-selection cautious" if select else "build"
    build(where, "bigquery", command=command,
          bigquery=BigQueryTarget(project, location, keyfile, api_endpoint),
          events=_has_events(out), quiet=True, select=select,
          variables={"option_set_severity": "error" if default else "warn",
                     "dataset_prefix": prefix, **names, **(variables or {})})
    return json.loads((where / "dbt" / "target" / "manifest.json").read_text())


def describe_run(client, project: str, prefix: str, labels: dict, dbt_manifest: dict,
                 manifest: dict | None = None) -> None:
    """Labels on every run table, and the scenario's (`scenario_labels`, `scenario_note`) on
    every table the run's scenario touched; dbt's descriptions on the marts (dbt does not
    persist them on BigQuery unless told to)."""
    from google.cloud import bigquery

    docs = {}
    for node in dbt_manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model":
            docs[(node["schema"], node.get("alias") or node["name"])] = node
    scenario = (manifest or {}).get("scenario")
    touched = set(scenario["tables"]) if scenario else set()
    for name in published_datasets(client, project, prefix):
        for item in client.list_tables(f"{project}.{prefix}{name}"):
            table = client.get_table(item.reference)
            fields = ["labels"]
            table.labels = {**(table.labels or {}), **labels}
            if f"{name}.{table.table_id}" in touched:
                table.labels.update(scenario_labels(manifest))
                table.description = f"{table.description or ''} {scenario_note(scenario)}"\
                    .strip()
                fields.append("description")
            node = docs.get((table.dataset_id, table.table_id))
            if node:
                columns = node.get("columns", {})
                table.description = node.get("description") or table.description
                table.schema = [bigquery.SchemaField(
                    f.name, f.field_type, mode=f.mode, fields=f.fields,
                    description=(columns.get(f.name, {}).get("description") or f.description))
                    for f in table.schema]
                fields += ["description", "schema"]
            client.update_table(table, fields)


def published_datasets(client, project: str, prefix: str) -> list[str]:
    """The consumer-facing datasets the run has tables for, in CONSUMER_DATASETS order."""
    have = {i.dataset_id[len(prefix):] for i in client.list_datasets(project)
            if i.dataset_id.startswith(prefix)}
    return [d for d in CONSUMER_DATASETS if d in have
            and any(True for _ in client.list_tables(f"{project}.{prefix}{d}"))]


def set_run_state(client, project: str, prefix: str, state: dict) -> None:
    for item in client.list_datasets(project):
        if item.dataset_id.startswith(prefix):
            dataset = client.get_dataset(item.reference)
            dataset.labels = {**(dataset.labels or {}), **state}
            client.update_dataset(dataset, ["labels"])


# ---- retention ----------------------------------------------------------------------------
def retain_runs(client, project: str, retain: int, keep: set[str]) -> list[str]:
    """Keep the newest `retain` published runs (and `keep`); delete every other run."""
    runs = list_runs(client, project)
    published = sorted((t for t, s in runs.items() if s.get(STATE_LABEL) == "published"),
                       key=lambda t: int(runs[t].get(PUBLISHED_LABEL, 0) or 0), reverse=True)
    kept = set(published[:retain]) | keep
    deleted = []
    for token in sorted(runs):
        if token not in kept:
            drop_run(client, project, token)
            deleted.append(token)
    return deleted


# ---- messages -----------------------------------------------------------------------------
def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
