"""Publish a generated warehouse to a shared BigQuery project, all or nothing.

`publish()` takes the Parquet of one run (a local folder or `gs://…`, with its manifest
`campus-synth.json`) through these steps, each named in the error when it fails:

  credentials  a client from `--keyfile` (a service account) or application-default
               credentials; a missing or refused credential is one line, no traceback
  manifest     the run's settings, profile digest and row counts
  load         run-scoped datasets `csrun_<run>__<dataset>` (labelled with the run),
               one load job per table (pipeline/outputs/_bigquery.py: registry schemas, the event
               table partitioned by event_date and clustered by tool and course)
  check rows   every loaded table holds exactly the manifest's rows
  dbt          `dbt build` (models and their tests) with the BigQuery target, reading and
               writing the run's own datasets (`csrun_<run>__mart_general`, …)
  describe     descriptions (registry; dbt's for the marts) and labels on every run table;
               a scenario run's scenario name, file and digest on every table it touched
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

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import CredentialsError, PipelineError, PublishError
from pipeline.outputs._bigquery import _reason
from pipeline.outputs._publish_switch import consumer_rows, current_run, switch_to
from pipeline.outputs._run_datasets import (
    PUBLISHED_LABEL,
    STATE_LABEL,
    build_marts,
    check_rows,
    default_run_id,
    describe_run,
    drop_run,
    first_line,
    list_runs,
    load_run,
    read_manifest,
    retain_runs,
    run_labels,
    run_prefix,
    run_token,
    set_run_state,
)
from pipeline.udp._schema import Table

DEFAULT_RETAIN = 2


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
                                    f"({first_line(error)})") from None
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
                            f"{first_line(error)}") from None


def _credential_problem(error: BaseException) -> str | None:
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(error, (auth.RefreshError, auth.TransportError, auth.DefaultCredentialsError)):
        return f"the credentials were refused: {first_line(error)}"
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


def publish(out: str, project: str, *, run_id: str | None = None, location: str | None = None,
            keyfile: str | None = None, api_endpoint: str | None = None,
            retain: int = DEFAULT_RETAIN, client: Any = None,
            dbt_select: list[str] | None = None, dbt_variables: dict | None = None,
            dbt_dir: str | Path | None = None, tables: list[Table] | None = None,
            echo: Callable[[str], None] = lambda _: None) -> PublishReport:
    """Load, build, check and publish the run in `out` (see the module's docstring).
    `tables`: the registry the run was generated with, when it is not the default (a
    scenario's, with its extension tables and columns)."""
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
        runs = list_runs(client, project)                  # also proves the credentials work
    current = current_run(client, project)
    report = PublishReport(run_id, project, "published", previous_run=current)
    if current == token and runs.get(token, {}).get(STATE_LABEL) == "published":
        report.status = "unchanged"
        report.tables = consumer_rows(client, project, token)
        return report
    reuse = runs.get(token, {}).get(STATE_LABEL) in ("checked", "published")
    if reuse:
        report.status = "switched back"
        echo(f"run {run_id} was loaded and checked before: switching to it without loading")
    else:
        with step("load"):
            drop_run(client, project, token)          # a failed earlier attempt
            load_run(client, out, project, prefix, location, labels, tables)
        with step("check rows"):
            check_rows(client, project, prefix, manifest)
        with step("dbt"):
            dbt_manifest = build_marts(out, project, prefix, location, keyfile, api_endpoint,
                                       manifest, dbt_select, dbt_variables, dbt_dir)
        with step("describe"):
            describe_run(client, project, prefix, labels, dbt_manifest, manifest)
            set_run_state(client, project, prefix, {STATE_LABEL: "checked"})
    with step("switch", note="the consumer-facing datasets were restored to the previous run"):
        report.datasets, report.tables = switch_to(client, project, prefix, token, current,
                                                 location)
        set_run_state(client, project, prefix, {STATE_LABEL: "published",
                                                 PUBLISHED_LABEL: str(int(time.time()))})
    with step("retention", note="the new run is published; only the clean-up failed"):
        report.deleted_runs = retain_runs(client, project, retain, keep={token})
    report.seconds = seconds
    return report
