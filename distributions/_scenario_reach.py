"""What a scenario reaches in the registry, read without the generation stage: the catalog
scenario validation checks names against (distributions/_scenario.py `load_scenario`), the
tables above each table, and the tables a scenario adds or changes (the run manifest, the
DuckDB comments, the BigQuery labels).

The registry is the UDP schema's, so this is plain bookkeeping over it: kept here, not in
pipeline/generate/_scenario_gen.py, so that `run`, which generates in a child process, reads
and records scenarios without loading Apache Beam.
"""

from __future__ import annotations

from collections import deque

from pipeline.udp._registry import Registry
from pipeline.udp._schema import ENTITY

ROWS_RULE = "scenario_rows"  # the count rule of a scenario's extension tables
TERM = "academic_term"


# ---- the registry a scenario sees ----------------------------------------------------------
def catalog(registry: Registry) -> dict:
    """What scenario validation needs to know of the registry's entity tables."""
    tables = [t for t in registry if t.schema == ENTITY]
    info = {}
    for table in tables:
        parents = set(parent_paths(registry, table.key))
        keys = {*table.primary_key, *(fk.column for fk in table.foreign_keys)}
        info[table.name] = {"columns": {c.name: c.type for c in table.columns},
                            "primary_key": list(table.primary_key), "keys": keys,
                            "parents": parents, "term": table.key == TERM or TERM in parents}
    return info


def _edges(registry: Registry, key: str) -> list[tuple[str, str | None]]:
    """(parent key, FK column or None for the layout's parent) one step up from `key`."""
    table = registry[key]
    edges = [(fk.parent, fk.column) for fk in table.foreign_keys
             if fk.column not in table.self_references and fk.parent != key]
    if table.layout.parent and table.layout.kind == "children":
        edges.append((table.layout.parent, None))
    if table.layout.count_rule == ROWS_RULE:
        edges = [(table.computed_from[0], None)]
    return edges


def parent_paths(registry: Registry, key: str) -> dict[str, list[tuple[str, str | None]]]:
    """The shortest path of steps from `key` to every table above it."""
    paths, queue = {}, deque([(key, [])])
    while queue:
        current, path = queue.popleft()
        for parent, column in _edges(registry, current):
            if parent not in paths and parent != key:
                paths[parent] = [*path, (current, column)]
                queue.append((parent, paths[parent]))
    return paths


def touched_tables(scenario: dict | None) -> list[str]:
    """The tables a scenario adds or changes, by qualified name (an effect on the latent
    inputs reaches the tables computed from them)."""
    if not scenario:
        return []
    document = scenario["document"]
    names = {*document.get("tables", {}), *document.get("columns", {})}
    for effect in document.get("effects", {}).values():
        names.update(EFFECT_REACH[effect["target"]])
    for name in document.get("engagement", {}):
        names.update(ENGAGEMENT_REACH[name])
    return sorted(name if "." in name else f"{ENTITY}.{name}" for name in names)


# what each effect target changes downstream (pipeline/generate/_scenario_effects.py)
EFFECT_REACH = {
    "engagement": ("learner_activity_result", "course_grade", "event_store.expanded"),
    "score": ("learner_activity_result", "course_grade", "event_store.expanded"),  # grades
    "event_rate": ("event_store.expanded",),
    "withdrawal": ("course_section_enrollment", "learner_activity_result", "course_grade",
                   "event_store.expanded"),
}
# what each of the scenario's `engagement` values changes (the profile's value it overrides
# is read by pipeline/generate/_rules/ and _events/)
ENGAGEMENT_REACH = {
    "score_rho": EFFECT_REACH["score"],
    "submission_rho": EFFECT_REACH["score"],  # submitted work, its grades and events
    "activity_rho": EFFECT_REACH["event_rate"],
    "withdrawal_rho": EFFECT_REACH["withdrawal"],
    "gpa_rho": ("course_grade",),
    "gpa_enrollment_rho": ("course_grade",),
    "student_share": EFFECT_REACH["withdrawal"],  # every enrollment's engagement
}
