"""What a consortium merge needs to weigh one institution's conditional cell against
another's: how many of its rows the cell stands for.

A profile keeps a conditional's cells as shares, not counts. The rows behind a cell are
estimated from the same profile: the table's rows times the share of the cell's `given` value
in the column it names (followed up its FK chain: `learner_activity_id.learner_activity_group_id
.name` is the group's name). So a cell an institution holds for a few of its rows weighs little
beside another's that holds many, and the pooled estimate is what k is checked against again.
"""

from __future__ import annotations

from pipeline.udp._registry import REGISTRY

_ENTITIES = {t.name: t for t in REGISTRY if t.schema.endswith("entity")}


def given_share(profile: dict, table: str, given: str, value) -> float | None:
    """The share of `value` in the column `given` names (reached from `table`), from the
    profile's own distribution of that column; None when the profile cannot tell."""
    *hops, column = given.split(".")
    for fk in hops:
        entity = _ENTITIES.get(table)
        table = entity.parent_of(fk) if entity else None
        if table is None:
            return None
    spec = profile.get("tables", {}).get(table, {}).get("columns", {}).get(column)
    if spec is not None and spec.get("kind") == "conditional":
        spec = spec.get("otherwise")
    if spec is None or spec.get("kind") != "categorical":
        return None
    total = sum(i["p"] for i in spec["values"]) or 1.0
    return sum(i["p"] for i in spec["values"] if str(i["value"]) == str(value)) / total


def cell_weight(profile: dict, table: str, given: list[str], when: dict,
                weight: float) -> float:
    """An institution's rows behind one cell: its table weight times each given value's
    share (a given the profile cannot tell about counts as all of its rows)."""
    for name in given:
        share = given_share(profile, table, name, when.get(name))
        weight *= 1.0 if share is None else share
    return weight


def undated_weight(profile: dict, results: float) -> float:
    """An institution's results of undated work: its results times the share of its
    activities with no due date (the due date's null share)."""
    due = profile.get("tables", {}).get("learner_activity", {}).get("columns", {}) \
        .get("due_date", {})
    if due.get("kind") == "conditional":
        due = due.get("otherwise", {})
    return results * float(due.get("null_fraction", 0.0))
