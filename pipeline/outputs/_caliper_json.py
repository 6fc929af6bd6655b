"""Generated events as IMS Caliper 1.1 JSON-LD: one event, or an envelope of them.

`expanded` rows are UDP's flattening of Caliper events; this puts them back together the
way a sensor sends them, so they can be validated against the official JSON Schema
(pipeline/udp/_caliper.py) or replayed into an endpoint.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipeline.errors import OutputError, PipelineError
from pipeline.udp._caliper import CONTEXT


def caliper_event(row: dict) -> dict:
    """One `event_store.expanded` row (as a dict of Python values) as a Caliper 1.1 event."""
    actor, group = row["actor"], row["group"]
    event = {
        "@context": CONTEXT,
        "id": row["id"],
        "type": row["type"],
        "actor": _entity(actor),
        "action": row["action"],
        "object": _entity(row["object"]),
        "eventTime": _time(row["event_time"]),
        "edApp": {"id": row["ed_app"]["id"], "type": "SoftwareApplication",
                  "name": row["ed_app"]["name"]},
        "group": {"id": group["id"], "type": group["type"]},
        "membership": {"id": row["membership"]["id"], "type": "Membership",
                       "member": actor["id"], "organization": group["id"],
                       "roles": [row["membership"]["roles"]],
                       "status": row["membership"]["status"]},
    }
    if row.get("session"):
        event["session"] = {"id": row["session"]["id"], "type": "Session"}
    if row.get("generated"):
        event["generated"] = _generated(row["generated"], row["object"], actor)
    extensions = {}
    for column in ("extensions_json", "federated_session_json"):
        if row.get(column):
            extensions.update(json.loads(row[column]))
    if extensions:
        event["extensions"] = extensions
    return event


def envelope(rows: Iterable[dict], sensor: str | None = None,
             send_time: dt.datetime | None = None) -> dict:
    """A Caliper 1.1 envelope holding the events of `rows`."""
    events = [caliper_event(row) for row in rows]
    sensor = sensor or (events[0]["edApp"]["id"] if events else "urn:campus-synth:sensor")
    sent = send_time or max((_parse(e["eventTime"]) for e in events),
                            default=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    return {"sensor": sensor, "sendTime": _time(sent), "dataVersion": CONTEXT, "data": events}


def _entity(part: dict) -> dict:
    entity = {"id": part["id"], "type": part["type"]}
    if part.get("name"):
        entity["name"] = part["name"]
    if part.get("extensions"):
        entity["extensions"] = json.loads(part["extensions"])
    return entity


def _generated(generated: dict, obj: dict, actor: dict) -> dict:
    if generated["type"] == "Score":
        return {"id": generated["id"], "type": "Score", "scoreGiven": generated["score_given"],
                "scoredBy": actor["id"]}
    return {"id": generated["id"], "type": "Attempt", "assignee": actor["id"],
            "assignable": obj["id"], "count": 1}


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{value.microsecond // 1000:03d}Z"


def _parse(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def read_events(out: str | Path, ids: list[str] | None = None, limit: int = 3) -> list[dict]:
    """Rows of event_store.expanded from a run's output folder (its DuckDB file, or its Parquet
    when it has none): the events `ids`, or the first `limit` by time. A folder it cannot
    read (a damaged event file, a DuckDB file that is none) raises OutputError naming it,
    for every caller, not DuckDB's own error."""
    out = Path(out)
    database, parquet = out / "warehouse.duckdb", out / "event_store" / "expanded"
    if not database.exists() and not parquet.is_dir():
        raise PipelineError(f"{out}: no warehouse.duckdb and no event_store/expanded Parquet")
    try:
        return _events(database, parquet, out, ids, limit)
    except duckdb.Error as error:
        raise OutputError(f"{out}: cannot read the events: {_first_line(error)}") from None


def _events(database: Path, parquet: Path, out: Path, ids: list[str] | None,
            limit: int) -> list[dict]:
    if database.exists():
        connection, source = duckdb.connect(str(database), read_only=True), "event_store.expanded"
    else:
        connection = duckdb.connect()
        source = f"read_parquet('{parquet}/*/*.parquet', hive_partitioning = false)"
    with connection:
        if ids:
            rows = connection.sql(f"SELECT * FROM {source} WHERE id IN (SELECT unnest(?))",
                                  params=[ids]).to_arrow_table().to_pylist()
            missing = sorted(set(ids) - {row["id"] for row in rows})
            if missing:
                raise PipelineError(f"{out}: no event with id {', '.join(missing)}")
            return rows
        return connection.sql(f"SELECT * FROM {source} ORDER BY event_time, id LIMIT ?",
                              params=[max(limit, 0)]).to_arrow_table().to_pylist()


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
