"""BigQuery as a profiling source: `bigquery://project.dataset`, read through google-cloud-bigquery.

The profiler sees every source through the same small interface (`dialect`, `label`, `tables()`,
`relation()`, `query()`); this is its BigQuery implementation. Aggregates run as SQL inside
BigQuery and only their (small) results come back, as Arrow tables over the REST API.

Every failure the caller can do something about becomes one `SourceError` line that names the
source: a dataset that does not exist or cannot be read, missing or refused Google credentials,
a query BigQuery rejects, an endpoint that cannot be reached.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pyarrow as pa

from distributions._column_case import (
    ROLE,
    ROLE_NOTE,
    ROLE_TABLE,
    folded_note,
    lacks_role,
    refuse_case_clash,
    with_student_role,
)

# the one error class of every profiling source (pipeline/errors.py, below both)
from pipeline.errors import SourceError

__all__ = ["NO_CREDENTIALS", "BigQuerySource", "SourceError", "parse_uri"]

NO_CREDENTIALS = ("no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS or run "
                  "gcloud auth application-default login")

SCHEME = "bigquery://"
# google-cloud-bigquery's own variable for another API endpoint (an emulator)
EMULATOR_HOST = "BIGQUERY_EMULATOR_HOST"
_PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:_-]*")   # incl. domain-scoped "example.com:p"
_DATASET = re.compile(r"[A-Za-z0-9_]+")
_URI = re.compile(r"bigquery://(?P<project>.+)\.(?P<dataset>[A-Za-z0-9_]+)/?")
_HTTP_PREFIX = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE) \S+: ")


def parse_uri(uri: str) -> tuple[str, str]:
    """`bigquery://project.dataset` -> (project, dataset). The project may itself hold dots
    (domain-scoped projects); dataset names cannot, so the last dot separates them."""
    match = _URI.fullmatch(uri.strip())
    if not match or not _PROJECT.fullmatch(match["project"]):
        raise SourceError(f"{uri}: not a BigQuery dataset; expected bigquery://project.dataset")
    return match["project"], match["dataset"]


def _one_line(text: str) -> str:
    text = _HTTP_PREFIX.sub("", str(text).strip())
    first = text.splitlines()[0] if text else ""
    return " ".join(first.split()) or "unknown error"


def _reason(exc: BaseException) -> str:
    """The server's own message of a google.api_core error, without URL, job id or traceback."""
    for error in getattr(exc, "errors", None) or ():
        if isinstance(error, dict) and error.get("message"):
            return _one_line(error["message"])
    message = getattr(exc, "message", None)
    return _one_line(message if message else str(exc) or type(exc).__name__)


class BigQuerySource:
    """One BigQuery dataset, holding UDP tables by their UDP names.

    `client` is injected by tests (an emulator on loopback); otherwise a
    `google.cloud.bigquery.Client(project=project)` is made from Application Default Credentials.
    """

    dialect = "bigquery"
    #: how long the first call (the dataset look-up) keeps retrying an unreachable endpoint;
    #: the client's own default is 600 s, far too long for a CLI to sit silent
    reach_timeout = 60.0

    def __init__(self, project: str, dataset: str, client: Any = None,
                 api_endpoint: str | None = None):
        self.project = project
        self.dataset = dataset
        # another BigQuery API (an emulator on loopback): the flag, else the client
        # library's own variable
        self.api_endpoint = api_endpoint or os.environ.get(EMULATOR_HOST) or None
        if not _PROJECT.fullmatch(project or "") or not _DATASET.fullmatch(dataset or ""):
            raise SourceError(f"{self.label}: not a valid BigQuery project and dataset name")
        self._client = client if client is not None else self._default_client()
        self._location: str | None = None
        self._checked = False
        self._tables: dict[str, dict[str, str]] | None = None
        self._declared: dict[str, list[str]] = {}  # tables whose columns are read folded
        self._roleless: str | None = None  # the enrollment table, when it has no role column
        self.notes: list[str] = []  # columns read under another name, for the profile's notes

    @classmethod
    def from_uri(cls, uri: str, client: Any = None) -> BigQuerySource:
        project, dataset = parse_uri(uri)
        return cls(project, dataset, client=client)

    @property
    def label(self) -> str:
        return f"{SCHEME}{self.project}.{self.dataset}"

    def __repr__(self) -> str:
        return f"BigQuerySource({self.label!r})"

    # ---- the source interface -----------------------------------------------------------
    def tables(self) -> dict[str, dict[str, str]]:
        """table -> {column: BigQuery type} for every table and view of the dataset, columns
        in their declared order (standard SQL type names: INT64, STRING, STRUCT<...>), under
        their lower-case names (as a file or DuckDB source reads them; a note says so)."""
        if self._tables is None:
            self._tables = {name: self._folded(name, columns)
                            for name, columns in self._described().items()}
            if lacks_role(ROLE_TABLE, self._tables.get(ROLE_TABLE, {ROLE: ""})):
                self._tables[ROLE_TABLE][ROLE] = "STRING"
                self._roleless = ROLE_TABLE  # read through with_student_role
                self.notes.append(f"source table {ROLE_TABLE}: {ROLE_NOTE}")
        return self._tables

    def _folded(self, name: str, columns: dict[str, str]) -> dict[str, str]:
        note = folded_note(name, list(columns))
        if note is None:
            return columns
        refuse_case_clash(f"{self.label}, table {name}", list(columns))
        self._declared[name] = list(columns)
        self.notes.append(note)
        return {c.lower(): kind for c, kind in columns.items()}

    def _described(self) -> dict[str, dict[str, str]]:
        self._check_dataset()
        sql = (f"SELECT table_name, column_name, data_type "
               f"FROM `{self.project}.{self.dataset}`.INFORMATION_SCHEMA.COLUMNS "
               f"ORDER BY table_name, ordinal_position")
        rows = self._run(sql, failure="cannot read the dataset").to_pylist()
        found: dict[str, dict[str, str]] = {}
        for row in rows:
            found.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
        return found

    def relation(self, table: str) -> str:
        """The fully qualified, quoted name to use in SQL: `project.dataset.table`."""
        if not table or any(c in table for c in "`\\\n\r"):
            raise SourceError(f"{self.label}: not a valid table name: {table!r}")
        name = f"`{self.project}.{self.dataset}.{table}`"
        self.tables()  # described first: a table with folded names is read through a rename
        declared = self._declared.get(table)
        if declared is not None:
            # column names are case-insensitive in BigQuery, but the names a query returns
            # are not: every column is selected under its lower-case name
            selects = ", ".join(f"`{c}` AS `{c.lower()}`" for c in declared)
            name = f"(SELECT {selects} FROM {name})"
        return with_student_role(name) if table == self._roleless else name

    def query(self, sql: str) -> pa.Table:
        """Run standard SQL in BigQuery and return its result as an Arrow table."""
        self._check_dataset()
        return self._run(sql, failure="query failed")

    # ---- internals ----------------------------------------------------------------------
    def _default_client(self) -> Any:
        from google.auth import exceptions as auth
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        try:
            if self.api_endpoint:  # an emulator takes no credentials
                return bigquery.Client(project=self.project,
                                       credentials=AnonymousCredentials(),
                                       client_options={"api_endpoint": self.api_endpoint})
            return bigquery.Client(project=self.project)
        except auth.DefaultCredentialsError as exc:
            raise SourceError(NO_CREDENTIALS) from exc
        except auth.GoogleAuthError as exc:
            raise SourceError(f"{self.label}: Google credentials could not be used: "
                              f"{_reason(exc)}") from exc

    def _check_dataset(self) -> None:
        """Fail early and clearly when the dataset is missing or unreadable (an
        INFORMATION_SCHEMA query alone may just come back empty); also learns its location."""
        if self._checked:
            return
        try:
            found = self._call(lambda: self._client.get_dataset(
                f"{self.project}.{self.dataset}", retry=self._retry(), timeout=30.0))
        except _ApiFailure as failure:
            raise SourceError(f"{self.label}: cannot read the dataset: {failure.reason}") from (
                failure.__cause__)
        self._location = getattr(found, "location", None) or None
        self._checked = True

    def _retry(self) -> Any:
        from google.cloud.bigquery import DEFAULT_RETRY

        return DEFAULT_RETRY.with_timeout(self.reach_timeout)

    def _run(self, sql: str, *, failure: str) -> pa.Table:
        def run() -> pa.Table:
            job = self._client.query(sql, location=self._location)
            # aggregates are small: the REST pages suffice, and the Storage Read API would be
            # one more endpoint (and credential) to reach
            return job.to_arrow(create_bqstorage_client=False)

        try:
            return self._call(run)
        except _ApiFailure as caught:
            what = "cannot read the dataset" if caught.forbidden else failure
            raise SourceError(f"{self.label}: {what}: {caught.reason}") from caught.__cause__

    def _call(self, action):
        """Run one client call; turn credential problems into SourceError and API or transport
        errors into _ApiFailure (the caller words those)."""
        from google.api_core import exceptions as api
        from google.auth import exceptions as auth

        try:
            return action()
        except auth.DefaultCredentialsError as exc:
            raise SourceError(NO_CREDENTIALS) from exc
        except auth.GoogleAuthError as exc:
            raise SourceError(f"{self.label}: Google credentials could not be used: "
                              f"{_reason(exc)}") from exc
        except api.RetryError as exc:  # gave up retrying: the endpoint did not answer
            cause = exc.cause if exc.cause is not None else exc
            raise SourceError(f"{self.label}: cannot reach BigQuery: {_reason(cause)}") from exc
        except (api.NotFound, api.Forbidden, api.Unauthorized) as exc:
            raise _ApiFailure(_reason(exc), forbidden=not isinstance(exc, api.NotFound)) from exc
        except api.GoogleAPIError as exc:
            raise _ApiFailure(_reason(exc)) from exc
        except OSError as exc:  # requests' transport errors included
            raise SourceError(f"{self.label}: cannot reach BigQuery: {_reason(exc)}") from exc


class _ApiFailure(Exception):
    def __init__(self, reason: str, *, forbidden: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden
