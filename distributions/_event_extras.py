"""The event table's own columns: a top-level column of `event_store.expanded` that the event
store does not have (a converted click stream's `sum_click`, a tool's `platform`) is profiled
like a context-store extra (distributions/_columns.py): by its type, sensitive ones skipped
by name and by content, each named in the notes. Its values' cells count the people behind
them, not events (one student's thousand clicks are one person). It is recorded under
`/events/extras/<name>` as {"type", "distribution"}, and the generator draws it for each
event from that distribution, independently of the event's other columns.
"""

from __future__ import annotations

from distributions._columns import extra_distribution, screened_extras
from distributions._event_queries import TABLE, has_events
from pipeline.udp._event_schema import ARROW_SCHEMA


def event_extras_part(p, profile: dict) -> None:
    """Profile the event table's extra columns into `profile["events"]["extras"]`."""
    if not has_events(p.reader) or "events" not in profile:
        return
    known = set(ARROW_SCHEMA.names)
    extras = {c: t for c, t in p.reader.tables[TABLE].items() if c not in known}
    found = {}
    for column, (kind, stats) in screened_extras(p, TABLE, extras).items():
        path = f"/events/extras/{column}"
        dist = extra_distribution(p, path, TABLE, column, kind, stats, person=_person(p))
        if dist is None:
            p.column_status[(TABLE, column)] = ("skipped", "no value survives the privacy "
                                                "rules")
            p.notes.append(f"{path}: not profiled (no value survives the privacy rules)")
            continue
        found[column] = {"type": kind, "distribution": dist}
        how = dist["kind"]
        p.column_status[(TABLE, column)] = ("profiled", f"the event table's own column, "
                                            f"{kind}, as {how}")
        p.notes.append(f"{path}: the event table's own column profiled as {how} (people "
                       f"counted per value), generated as {kind} for each event")
    if found:
        profile["events"]["extras"] = found


def _person(p) -> str:
    s = p.reader.sql
    return f"t.{s.ident('person')}.{s.ident('udp_id')}"
