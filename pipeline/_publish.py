"""Publish a generated warehouse to a shared BigQuery project, all or nothing.

`publish()` takes the Parquet of one run (a local folder or `gs://…`, with its manifest
`campus-synth.json`) through these steps, each named in the error when it fails:

  credentials  a client from `--keyfile` (a service account) or application-default
               credentials; a missing or refused credential is one line, no traceback
  manifest     the run's settings, profile digest and row counts
  load         run-scoped datasets `csrun_<run>__<dataset>` (labelled with the run),
               one load job per table (pipeline/_bigquery.py: registry schemas, the event
               table partitioned by event_date and clustered by tool and course)
  check rows   every loaded table holds exactly the manifest's rows
  dbt          `dbt build` (models and their tests) with the BigQuery target, reading and
               writing the run's own datasets (`csrun_<run>__mart_general`, …)
  describe     descriptions (registry; dbt's for the marts) and labels on every run table
  switch       each consumer-facing dataset (`context_store_entity`, `event_store`,
               `mart_*`, `udp_distributions`, …) gets the run's tables by copy jobs with
               WRITE_TRUNCATE — all of one dataset's copies started together; each copy
               replaces its table atomically, keeps its partitioning and clustering, and
               consumers keep querying `project.dataset.table`. A failure part-way copies
               the previous run back (or drops what this run added to an empty dataset),
               so consumers see the previous publication
  retention    the newest `retain` published runs stay (the one just published and the one
               before it, for rollback, by default); older runs and failed ones are deleted

Nothing in a consumer-facing dataset changes before every check passed. Publishing a run id
that is already the publication changes nothing; publishing a run id whose datasets were
checked before (the previous run) switches back to it without loading again (rollback).

BigQuery has no multi-table transaction for copy jobs: within one dataset the tables switch
one atomic copy each, started together, so for the seconds the copies take a reader may see
some tables of the new run beside some of the previous one.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline._bigquery import _reason
from pipeline._errors import PipelineError, StageFailure

RUN_PREFIX = "csrun_"
RUN_LABEL = "campus_synth_run"
STATE_LABEL = "campus_synth_state"          # on run datasets: loading, checked, published
PUBLISHED_LABEL = "campus_synth_published"  # on run datasets: unix seconds of the switch
CONSUMER_DATASETS = ("context_store_entity", "context_store_keymap", "event_store",
                     "mart_general", "mart_course_offering", "mart_course_section",
                     "mart_taskforce", "udp_distributions")
DEFAULT_RETAIN = 2
_LABEL_VALUE = re.compile(r"[^a-z0-9_-]")


class PublishError(StageFailure):
    """A step of the publication failed; the consumer-facing datasets are as they were
    (exit code 1, as every StageFailure: see pipeline/_errors.py)."""


class CredentialsError(PipelineError):
    """No usable credential, or one BigQuery refused: a user error (exit code 2)."""


@dataclass
class PublishReport:
    run_id: str
    project: str
    status: str                       # published, unchanged, switched back
    tables: dict[str, int] = field(default_factory=dict)     # consumer table -> rows
    datasets: list[str] = field(default_factory=list)        # consumer datasets switched
    deleted_runs: list[str] = field(default_factory=list)
    previous_run: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


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
    settings = manifest.get("settings", {})
    profile = manifest.get("profile", {})
    return {RUN_LABEL: token, "seed": label_value(settings.get("seed", "")),
            "fte": label_value(settings.get("fte", "")),
            "profile_sha256": label_value(str(profile.get("sha256", ""))[:16]),
            "tool": "campus-synth", **_scenario_labels(manifest)}


def _scenario_labels(manifest: dict) -> dict[str, str]:
    """A scenario run's tables carry the scenario's name and digest (pipeline/_scenario_out.py)."""
    scenario = manifest.get("scenario")
    if not scenario:
        return {}
    return {"scenario": label_value(scenario["name"]),
            "scenario_sha256": label_value(scenario["sha256"][:16])}


# ---- credentials --------------------------------------------------------------------------
def connect(project: str, location: str | None = None, keyfile: str | None = None,
            api_endpoint: str | None = None):
    """A BigQuery client: a service-account `keyfile`, else application-default credentials;
    with `api_endpoint` and no keyfile, anonymous (an emulator on loopback)."""
    from google.cloud import bigquery

    options = {"api_endpoint": api_endpoint} if api_endpoint else None
    try:
        if keyfile:
            path = Path(keyfile).expanduser()
            if not path.is_file():
                raise CredentialsError(f"--keyfile {keyfile}: no such file")
            from google.oauth2 import service_account

            try:
                credentials = service_account.Credentials.from_service_account_file(str(path))
            except (ValueError, KeyError, OSError) as error:
                raise CredentialsError(f"--keyfile {keyfile}: not a service-account key file "
                                    f"({_first_line(error)})") from None
        elif api_endpoint:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
        else:
            import google.auth
            from google.auth.exceptions import DefaultCredentialsError

            try:
                credentials, _ = google.auth.default(
                    scopes=["https://www.googleapis.com/auth/cloud-platform"])
            except DefaultCredentialsError:
                raise CredentialsError("no Google Cloud credentials: run `gcloud auth "
                                    "application-default login`, set "
                                    "GOOGLE_APPLICATION_CREDENTIALS, or pass --keyfile"
                                    ) from None
        return bigquery.Client(project=project, credentials=credentials, location=location,
                               client_options=options)
    except CredentialsError:
        raise
    except Exception as error:  # noqa: BLE001 - any client construction problem is one line
        raise CredentialsError(f"cannot create a BigQuery client for {project}: "
                            f"{_first_line(error)}") from None


def _credential_problem(error: BaseException) -> str | None:
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(error, (auth.RefreshError, auth.TransportError, auth.DefaultCredentialsError)):
        return f"the credentials were refused: {_first_line(error)}"
    if isinstance(error, (api.Unauthorized, api.Forbidden)):
        return f"BigQuery refused the request ({error.code}): {_reason(error)}"
    return None


# ---- the steps ----------------------------------------------------------------------------
@contextmanager
def _step(name: str, run_id: str, seconds: dict, echo: Callable[[str], None],
          note: str = "the consumer-facing datasets were not changed") -> Iterator[None]:
    echo(f"{name} …")
    start = time.perf_counter()
    try:
        yield
    except (PublishError, CredentialsError):
        raise
    except Exception as error:  # noqa: BLE001 - reported as one line naming the step
        problem = _credential_problem(error)
        if problem:
            raise CredentialsError(f"publish {run_id}: step {name}: {problem}") from None
        reason = str(error) if isinstance(error, PipelineError) else _reason(error)
        raise PublishError(f"publish {run_id}: step {name} failed: {reason}; {note}") from None
    seconds[name] = time.perf_counter() - start
    echo(f"  {name} done in {seconds[name]:.1f} s")


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
        raise PipelineError(f"{path}: cannot read the manifest ({_first_line(error)})") from None


def publish(out: str, project: str, *, run_id: str | None = None, location: str | None = None,
            keyfile: str | None = None, api_endpoint: str | None = None,
            retain: int = DEFAULT_RETAIN, client: Any = None,
            dbt_select: list[str] | None = None, dbt_variables: dict | None = None,
            dbt_dir: str | Path | None = None,
            echo: Callable[[str], None] = lambda _: None) -> PublishReport:
    """Load, build, check and publish the run in `out` (see the module's docstring)."""
    if retain < 1:
        raise PipelineError("--retain must be at least 1 (the publication itself)")
    out = str(out)
    manifest = read_manifest(out)
    run_id = run_id or default_run_id(manifest)
    token = run_token(run_id)
    prefix = run_prefix(token)
    labels = run_labels(token, manifest)
    seconds: dict[str, float] = {}

    def step(name: str, **kw):
        return _step(name, run_id, seconds, echo, **kw)

    with step("credentials"):
        client = client or connect(project, location, keyfile, api_endpoint)
        runs = _runs(client, project)                  # also proves the credentials work
    current = _current_run(client, project)
    report = PublishReport(run_id, project, "published", previous_run=current)
    if current == token and runs.get(token, {}).get(STATE_LABEL) == "published":
        report.status = "unchanged"
        report.tables = _consumer_rows(client, project, token)
        return report
    reuse = runs.get(token, {}).get(STATE_LABEL) in ("checked", "published")
    if reuse:
        report.status = "switched back"
        echo(f"run {run_id} was loaded and checked before: switching to it without loading")
    else:
        with step("load"):
            _drop_run(client, project, token)          # a failed earlier attempt
            _load(client, out, project, prefix, location, labels)
        with step("check rows"):
            _check_rows(client, project, prefix, manifest)
        with step("dbt"):
            dbt_manifest = _dbt(out, project, prefix, location, keyfile, api_endpoint, manifest,
                                dbt_select, dbt_variables, dbt_dir)
        with step("describe"):
            _describe(client, project, prefix, labels, dbt_manifest)
            _set_run_state(client, project, prefix, {STATE_LABEL: "checked"})
    with step("switch", note="the consumer-facing datasets were restored to the previous run"):
        report.datasets, report.tables = _switch(client, project, prefix, token, current,
                                                 location)
        _set_run_state(client, project, prefix, {STATE_LABEL: "published",
                                                 PUBLISHED_LABEL: str(int(time.time()))})
    with step("retention", note="the new run is published; only the clean-up failed"):
        report.deleted_runs = _retain(client, project, retain, keep={token})
    report.seconds = seconds
    return report


# ---- load and check -----------------------------------------------------------------------
def _run_datasets(client, project: str) -> dict[str, list]:
    """{run token: [dataset list items]} of every run-scoped dataset in the project."""
    found: dict[str, list] = {}
    for item in client.list_datasets(project):
        name = item.dataset_id
        if name.startswith(RUN_PREFIX) and "__" in name:
            found.setdefault(name[len(RUN_PREFIX):].split("__", 1)[0], []).append(item)
    return found


def _runs(client, project: str) -> dict[str, dict]:
    """{run token: labels of its datasets (the state of the run)}."""
    runs = {}
    for token, items in _run_datasets(client, project).items():
        states = [dict(client.get_dataset(i.reference).labels or {}) for i in items]
        state = {s.get(STATE_LABEL) for s in states}
        merged = dict(states[0]) if states else {}
        merged[STATE_LABEL] = state.pop() if len(state) == 1 else "loading"
        runs[token] = merged
    return runs


def _drop_run(client, project: str, token: str) -> None:
    for item in _run_datasets(client, project).get(token, []):
        client.delete_dataset(item.reference, delete_contents=True, not_found_ok=True)


def _load(client, out: str, project: str, prefix: str, location: str | None,
          labels: dict) -> None:
    from google.cloud import bigquery

    from pipeline._bigquery import load_warehouse
    from pipeline._registry import REGISTRY

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
    # the institution's own columns (from the profile) are declared as the run recorded them
    tables = list(REGISTRY.with_extras(read_manifest(out).get("extras", {})))
    load_warehouse(client, out, project, tables, events=events, dataset_prefix=prefix,
                   location=location)


def _has_events(out: str) -> bool:
    folder = f"{out.rstrip('/')}/event_store/expanded"
    if out.startswith("gs://"):
        from apache_beam.io.filesystems import FileSystems

        return bool(FileSystems.match([f"{folder}/*/*.parquet"])[0].metadata_list)
    return any(Path(folder).glob("*/*.parquet"))


def _check_rows(client, project: str, prefix: str, manifest: dict) -> None:
    problems = []
    for qualified, want in sorted(manifest.get("tables", {}).items()):
        dataset, table = qualified.split(".", 1)
        got = client.get_table(f"{project}.{prefix}{dataset}.{table}").num_rows
        if int(got or 0) != int(want):
            problems.append(f"{qualified} holds {got} rows, the manifest says {want}")
    if problems:
        raise PipelineError("; ".join(problems))


def _dbt(out: str, project: str, prefix: str, location, keyfile, api_endpoint,
         manifest: dict, select: list[str] | None, variables: dict | None,
         dbt_dir) -> dict:
    from distributions import default_profile_path
    from pipeline._dbt import BigQueryTarget, build

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


def _describe(client, project: str, prefix: str, labels: dict, dbt_manifest: dict) -> None:
    """Labels on every run table; dbt's descriptions on the marts (dbt does not persist
    them on BigQuery unless told to)."""
    from google.cloud import bigquery

    docs = {}
    for node in dbt_manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model":
            docs[(node["schema"], node.get("alias") or node["name"])] = node
    for name in _published_datasets(client, project, prefix):
        for item in client.list_tables(f"{project}.{prefix}{name}"):
            table = client.get_table(item.reference)
            fields = ["labels"]
            table.labels = {**(table.labels or {}), **labels}
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


def _published_datasets(client, project: str, prefix: str) -> list[str]:
    """The consumer-facing datasets the run has tables for, in CONSUMER_DATASETS order."""
    have = {i.dataset_id[len(prefix):] for i in client.list_datasets(project)
            if i.dataset_id.startswith(prefix)}
    return [d for d in CONSUMER_DATASETS if d in have
            and any(True for _ in client.list_tables(f"{project}.{prefix}{d}"))]


def _set_run_state(client, project: str, prefix: str, state: dict) -> None:
    for item in client.list_datasets(project):
        if item.dataset_id.startswith(prefix):
            dataset = client.get_dataset(item.reference)
            dataset.labels = {**(dataset.labels or {}), **state}
            client.update_dataset(dataset, ["labels"])


# ---- the switch ---------------------------------------------------------------------------
def _current_run(client, project: str) -> str | None:
    """The run the consumer-facing tables carry (None before the first publication)."""
    from google.api_core.exceptions import NotFound

    for name in CONSUMER_DATASETS:
        try:
            items = list(client.list_tables(f"{project}.{name}"))
        except NotFound:
            continue
        for item in items:
            run = (client.get_table(item.reference).labels or {}).get(RUN_LABEL)
            if run:
                return run
    return None


def _consumer_tables(client, project: str, name: str) -> dict[str, str | None]:
    """{table: its run label} in one consumer-facing dataset ({} when it does not exist)."""
    from google.api_core.exceptions import NotFound

    try:
        items = list(client.list_tables(f"{project}.{name}"))
    except NotFound:
        return {}
    return {i.table_id: (client.get_table(i.reference).labels or {}).get(RUN_LABEL)
            for i in items}


def _consumer_rows(client, project: str, token: str) -> dict[str, int]:
    rows = {}
    for name in CONSUMER_DATASETS:
        for table, run in _consumer_tables(client, project, name).items():
            if run == token:
                rows[f"{name}.{table}"] = int(client.get_table(
                    f"{project}.{name}.{table}").num_rows or 0)
    return rows


def _copy_dataset(client, project: str, source_prefix: str, name: str,
                  location: str | None) -> dict[str, int]:
    """Every table of `source_prefix + name` over `name`: the copies started together, each
    replacing its table atomically; then the source's description, labels and column
    descriptions on each (a copy carries data, schema, partitioning and clustering)."""
    from google.cloud import bigquery

    dataset = bigquery.Dataset(f"{project}.{name}")
    if location:
        dataset.location = location
    client.create_dataset(dataset, exists_ok=True)
    config = bigquery.CopyJobConfig(write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
                                    create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED)
    sources = [client.get_table(i.reference)
               for i in client.list_tables(f"{project}.{source_prefix}{name}")]
    jobs = [(source, client.copy_table(source, f"{project}.{name}.{source.table_id}",
                                       job_config=config)) for source in sources]
    rows = {}
    for _, job in jobs:
        job.result(timeout=1800)
    for source, _ in jobs:
        target = client.get_table(f"{project}.{name}.{source.table_id}")
        target.description = source.description
        target.labels = dict(source.labels or {})
        target.schema = source.schema
        client.update_table(target, ["description", "labels", "schema"])
        rows[f"{name}.{source.table_id}"] = int(source.num_rows or 0)
    return rows


def _switch(client, project: str, prefix: str, token: str, previous: str | None,
            location: str | None) -> tuple[list[str], dict[str, int]]:
    names = _published_datasets(client, project, prefix)
    before = {name: _consumer_tables(client, project, name) for name in CONSUMER_DATASETS}
    previous_prefix = run_prefix(previous) if previous else None
    if previous_prefix and not _published_datasets(client, project, previous_prefix):
        previous_prefix = None            # its datasets are gone: nothing to copy back
    touched, rows = [], {}
    try:
        for name in names:
            touched.append(name)
            rows.update(_copy_dataset(client, project, prefix, name, location))
        # a campus-synth table the new run no longer has would mislead: it goes
        for name in CONSUMER_DATASETS:
            for table, run in before[name].items():
                if run and f"{name}.{table}" not in rows:
                    if name not in touched:
                        touched.append(name)
                    client.delete_table(f"{project}.{name}.{table}", not_found_ok=True)
    except Exception:
        _restore(client, project, touched, before, previous_prefix, location)
        raise
    return names, rows


def _restore(client, project: str, touched: list[str], before: dict, previous_prefix,
             location) -> None:
    """Put the touched datasets back as they were: the previous run's tables copied back,
    tables that did not exist before dropped."""
    for name in touched:
        if previous_prefix:
            # a failure here must not hide the original error, which is the one reported
            with suppress(Exception):
                _copy_dataset(client, project, previous_prefix, name, location)
        for item in list(client.list_tables(f"{project}.{name}")):
            if item.table_id not in before[name]:
                client.delete_table(item.reference, not_found_ok=True)


# ---- retention ----------------------------------------------------------------------------
def _retain(client, project: str, retain: int, keep: set[str]) -> list[str]:
    """Keep the newest `retain` published runs (and `keep`); delete every other run."""
    runs = _runs(client, project)
    published = sorted((t for t, s in runs.items() if s.get(STATE_LABEL) == "published"),
                       key=lambda t: int(runs[t].get(PUBLISHED_LABEL, 0) or 0), reverse=True)
    kept = set(published[:retain]) | keep
    deleted = []
    for token in sorted(runs):
        if token not in kept:
            _drop_run(client, project, token)
            deleted.append(token)
    return deleted


# ---- messages -----------------------------------------------------------------------------
def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
