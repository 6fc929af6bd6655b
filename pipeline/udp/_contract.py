"""The profile as the registry needs it: every profiled column, every row count, nothing else.

`distributions` checks a profile on its own terms; this checks it against the tables the
pipeline generates, with the same JSON paths, so a user sees every gap at once.
"""

from __future__ import annotations

import json

from pipeline.errors import ProfileError
from pipeline.udp._caliper import is_valid_combination
from pipeline.udp._schema import ENTITY, Table

_ROW_SPECS = {"fixed": "count", "children": "per_parent"}
_SPECIAL_ROWS = {"course_section_enrollment": "per_student_term"}
_VALUE_TYPES = {"string": (str,), "int64": (int,), "float64": (int, float), "bool": (bool, str)}
# bounds of the row specs: beyond them a plan asks for terabytes before anything is drawn
MAX_PER_PARENT = 100_000
MAX_COUNT = 10_000_000
# a continuous value beyond this cannot be drawn (its fit squares it: 1e308 overflows)
MAX_MAGNITUDE = 1e15
_SIZE_FIELDS = ("min", "max", "mean", "sd")


def check_profile(profile: dict, registry, source: str) -> None:
    """Raise ProfileError if the profile does not cover the registry's needs."""
    tables = profile["tables"]
    problems = _extras_problems(tables, registry)
    registry, entities = _with_extras(tables, registry)
    for name in tables:
        if name not in entities:
            problems.append((f"/tables/{name}", "no generated table has this name"))
    for table in entities.values():
        problems += _table_problems(table, tables.get(table.name), registry)
    problems += _event_problems(profile.get("events"))
    problems += _parent_value_problems(tables, entities, registry)
    problems += _student_role_problems(tables)
    problems += _sizing_problems(profile)
    problems += [p for name, spec in tables.items() for column, dist in spec["columns"].items()
                 for p in _magnitude_problems(dist, f"/tables/{name}/columns/{column}")]
    if problems:
        raise ProfileError(source, problems)


def _sizing_problems(profile: dict) -> list[tuple[str, str]]:
    """What sizes the institution from its FTE must be able to: a student carries some FTE
    (students = FTE / FTE per student) and an offering has some section (offerings = seats
    needed / sections per offering); either at zero plans billions of rows."""
    problems = []
    tables, loads = profile["tables"], profile.get("institution", {}).get("fte_by_load", {})
    load = tables.get("person__academic_term", {}).get("columns", {}).get("eot_academic_load")
    drawn = _drawn(load) if load else {}
    unknown = sorted(v for v in drawn if v not in loads)
    if unknown:
        problems.append(("/institution/fte_by_load", f"has no FTE for the load {unknown[0]!r} "
                         "that /tables/person__academic_term/columns/eot_academic_load draws"))
    elif drawn and not any(loads[v] > 0 for v in drawn):
        problems.append(("/institution/fte_by_load", "every load a student is drawn with "
                         "counts 0 FTE: no number of students makes up the FTE"))
    sections = tables.get("course_section", {}).get("rows", {}).get("per_parent")
    if isinstance(sections, dict) and not _draws_positive(sections):
        problems.append(("/tables/course_section/rows/per_parent", "draws no section for any "
                         "offering: no student could enroll"))
    return problems


def _drawn(dist: dict) -> dict:
    """The values a categorical distribution draws with a share above 0."""
    if dist.get("kind") != "categorical":
        return {}
    return {item["value"]: item["p"] for item in dist["values"] if item["p"] > 0}


def _draws_positive(dist: dict) -> bool:
    """Whether a count distribution can draw a count above 0."""
    if dist["kind"] == "conditional":
        return any(_draws_positive(c["distribution"]) for c in dist["cells"]) or \
            _draws_positive(dist["otherwise"])
    if dist["kind"] == "categorical":
        return any(isinstance(v, (int, float)) and v > 0 for v in _drawn(dist))
    return dist.get("max", dist.get("value", 1)) > 0


def _magnitude_problems(dist: dict, path: str) -> list[tuple[str, str]]:
    """Continuous values beyond ±MAX_MAGNITUDE (a hand-edited 1e308) cannot be drawn."""
    if dist["kind"] == "conditional":
        return [p for i, cell in enumerate(dist["cells"]) for p in _magnitude_problems(
            cell["distribution"], f"{path}/cells/{i}/distribution")] + _magnitude_problems(
            dist["otherwise"], f"{path}/otherwise")
    if dist["kind"] != "continuous":
        return []
    values = [dist[k] for k in _SIZE_FIELDS if k in dist]
    values += list(dist.get("quantiles", {}).values())
    huge = [v for v in values if isinstance(v, (int, float)) and abs(v) > MAX_MAGNITUDE]
    if huge:
        return [(path, f"{huge[0]:g} is beyond ±{MAX_MAGNITUDE:g}: it cannot be drawn")]
    return []


def _student_role_problems(tables: dict) -> list[tuple[str, str]]:
    """The generator enrolls its students under the role Student: a role distribution that
    cannot draw it would leave the institution without students."""
    role = tables.get("course_section_enrollment", {}).get("columns", {}).get("role")
    values = value_set(role) if role else None
    if values is None or value_key("Student") in values:
        return []
    return [("/tables/course_section_enrollment/columns/role", "has no value 'Student' (its "
             f"values: {', '.join(sorted(values))}): the generator enrolls students under it")]


def _with_extras(tables: dict, registry):
    """The registry with the profile's extra columns, and its entity tables by name."""
    registry = registry.with_extras({n: {c: e for c, e in s.get("extras", {}).items()
                                         if not registry_has(registry, n, c)}
                                     for n, s in tables.items()})
    return registry, {t.name: t for t in registry if t.schema == ENTITY}


def drop_unreachable_cells(profile: dict, registry) -> list[str]:
    """Remove the conditional cells whose `when` names a parent value the parent's
    distribution never draws, and return their paths. A profiler makes such cells when
    privacy drops a parent's rare value (k, or noise under --epsilon) after the children's
    cells were learned on it: the cell describes rows that cannot exist. Removing one can
    shrink another column's values, so this repeats until nothing is left to remove."""
    removed: list[str] = []
    while True:
        registry_x, entities = _with_extras(profile["tables"], registry)
        found = {path.rsplit("/when/", 1)[0] for path, _ in
                 _parent_value_problems(profile["tables"], entities, registry_x, True)}
        if not found:
            return removed
        for path in sorted(found, key=_pointer_key, reverse=True):  # later cells first
            *parents, index = path.strip("/").split("/")
            node = profile
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            del node[int(index)]
        removed += sorted(found, key=_pointer_key)


def _pointer_key(path: str) -> tuple:
    """A JSON pointer's parts, numbers as numbers (cells/10 after cells/9)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.split("/"))


def registry_has(registry, table: str, column: str) -> bool:
    """Whether the registry's entity `table` lists `column`."""
    return any(t.name == table and t.schema == ENTITY and column in {c.name for c in t.columns}
               for t in registry)


def _extras_problems(tables: dict, registry) -> list[tuple[str, str]]:
    """An institution's column needs a distribution and must not shadow a UDP column."""
    problems = []
    for name, spec in tables.items():
        for column in spec.get("extras", {}):
            path = f"/tables/{name}/extras/{column}"
            if registry_has(registry, name, column):
                problems.append((path, f"{name}.{column} is a UDP column, not an extra"))
            elif column not in spec["columns"]:
                problems.append((path, f"no distribution at /tables/{name}/columns/{column}"))
    return problems


def _rows_needed(table: Table) -> str | None:
    if table.name in _SPECIAL_ROWS:
        return _SPECIAL_ROWS[table.name]
    if table.layout.kind == "children" and table.layout.count_rule:
        return None
    return _ROW_SPECS.get(table.layout.kind)


def _table_problems(table: Table, spec: dict | None, registry) -> list[tuple[str, str]]:
    base = f"/tables/{table.name}"
    needed = [c for c in table.columns if c.from_profile]
    if spec is None:
        if needed or _rows_needed(table):
            return [(base, "missing: this table is generated and needs a profile entry")]
        return []
    problems = _row_bound_problems(spec.get("rows", {}), f"{base}/rows")
    rows = _rows_needed(table)
    if rows and rows not in spec.get("rows", {}):
        problems.append((f"{base}/rows/{rows}", "missing: needed to size this table"))
    known = {c.name for c in table.columns}
    for column in needed:
        if column.name not in spec["columns"]:
            problems.append((f"{base}/columns/{column.name}", "missing: no distribution"))
    for name, dist in spec["columns"].items():
        path = f"{base}/columns/{name}"
        if name not in known:
            problems.append((path, f"{table.name} has no column {name!r}"))
        elif not table.column(name).may_profile:
            problems.append((path, "this column is computed, not drawn from the profile"))
        else:
            # a profiled FK is drawn over what it points at (session names, campus skew)
            type_name = "fk" if table.parent_of(name) else table.column(name).type
            problems += _dist_problems(table, type_name, dist, path, registry)
    return problems


def _row_bound_problems(rows: dict, path: str) -> list[tuple[str, str]]:
    """Row counts are counts: none below 0, and none so large that the plan cannot hold it."""
    problems = []
    if rows.get("count", 0) > MAX_COUNT:
        problems.append((f"{path}/count", f"{rows['count']:g} rows is more than "
                         f"{MAX_COUNT:,}"))
    for name, dist in rows.items():
        if isinstance(dist, dict):
            problems += _count_problems(dist, f"{path}/{name}")
    return problems


def _count_problems(dist: dict, path: str) -> list[tuple[str, str]]:
    if dist["kind"] == "conditional":
        return [p for i, cell in enumerate(dist["cells"]) for p in _count_problems(
            cell["distribution"], f"{path}/cells/{i}/distribution")] + _count_problems(
            dist["otherwise"], f"{path}/otherwise")
    if dist["kind"] == "categorical":
        values = [item["value"] for item in dist["values"]]
    else:
        values = [dist[k] for k in ("min", "max", "value") if k in dist]
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))
           or not 0 <= v <= MAX_PER_PARENT]
    if bad:
        return [(path, f"rows per parent must be numbers from 0 to {MAX_PER_PARENT:,}, "
                 f"found {bad[0]!r}")]
    fractions = [v for v in values if dist["kind"] == "categorical" and v != int(v)]
    if fractions:  # a categorical count is drawn as it stands: 2.5 rows cannot be
        return [(path, f"rows per parent are whole numbers, found {fractions[0]!r}")]
    return []


def _dist_problems(table: Table, type_name: str, dist: dict, path: str, registry):
    if dist["kind"] == "conditional":
        problems = [(f"{path}/given", f"unknown column {g!r}") for g in dist["given"]
                    if not _resolves(table, g, registry)]
        for i, cell in enumerate(dist["cells"]):
            problems += _dist_problems(table, type_name, cell["distribution"],
                                       f"{path}/cells/{i}/distribution", registry)
        return problems + _dist_problems(table, type_name, dist["otherwise"],
                                         f"{path}/otherwise", registry)
    if dist["kind"] != "categorical" or type_name not in _VALUE_TYPES:
        return []
    allowed = _VALUE_TYPES[type_name]
    column = table.column(path.split("/")[4]) if path.count("/") >= 4 else None
    if column is not None and not column.nullable:
        nulls = [i for i, item in enumerate(dist["values"]) if item["value"] is None]
        if nulls:
            return [(f"{path}/values/{nulls[0]}/value",
                     f"null, but {table.name}.{column.name} is never NULL")]
    return [(f"{path}/values/{i}/value", f"{item['value']!r} is not a {type_name} value")
            for i, item in enumerate(dist["values"])
            if item["value"] is not None and not (isinstance(item["value"], allowed)
                                                  and not isinstance(item["value"], bool)
                                                  or type_name == "bool")]


def _parent_value_problems(tables: dict, entities: dict, registry,
                           siblings: bool = False) -> list[tuple[str, str]]:
    """A conditional's `when` value for a parent's column (`fk.column`) must be a value the
    parent's profiled distribution draws; same-table columns (`siblings`) are checked by
    distributions, and here only when asked."""
    problems = []
    for name, spec in tables.items():
        table = entities.get(name)
        for column, dist in spec["columns"].items() if table else ():
            problems += _cells_problems(table, dist, f"/tables/{name}/columns/{column}",
                                        tables, (registry, siblings))
    return problems


def _cells_problems(table: Table, dist: dict, path: str, tables: dict, context):
    if dist["kind"] != "conditional":
        return []
    registry, siblings = context
    parents = {}
    for name in dist["given"]:
        fk, _, column = name.partition(".")
        parent = table.parent_of(fk) if column else None
        spec = tables.get(registry[parent].name, {}) if parent else {}
        if column in spec.get("columns", {}):
            parents[name] = spec["columns"][column]
        elif siblings and not column and name in tables.get(table.name, {}).get("columns", {}):
            parents[name] = tables[table.name]["columns"][name]
    problems = []
    for i, cell in enumerate(dist["cells"]):
        problems += when_problems(cell["when"], f"{path}/cells/{i}/when", parents)
        problems += _cells_problems(table, cell["distribution"],
                                    f"{path}/cells/{i}/distribution", tables, context)
    return problems + _cells_problems(table, dist["otherwise"], f"{path}/otherwise",
                                      tables, context)


def _resolves(table: Table, name: str, registry) -> bool:
    if "." not in name:
        return name in {c.name for c in table.columns}
    fk, column = name.split(".", 1)
    parent = table.parent_of(fk)
    return parent is not None and _resolves(registry[parent], column, registry)  # FK chains


def _event_problems(events: dict | None) -> list[tuple[str, str]]:
    """Tools must name a declared ed_app and emit Caliper 1.1 combinations only."""
    if not events:
        return []
    problems = []
    for name, tool in events["tools"].items():
        base = f"/events/tools/{name}"
        if tool["ed_app"] not in events["ed_apps"]:
            problems.append((f"{base}/ed_app", f"{tool['ed_app']!r} is not in /events/ed_apps"))
        for stream in ("student", "instructor"):
            for i, item in enumerate(tool.get(stream) or []):
                if not is_valid_combination(item["type"], item["action"], item["object_type"]):
                    problems.append((f"{base}/{stream}/{i}", f"{item['type']} "
                                     f"{item['action']} on {item['object_type']} is not a "
                                     "Caliper 1.1 event"))
    for name in ("weekday", "diurnal", "day_in_term"):
        curve = events.get(name)
        if isinstance(curve, list) and not sum(curve) > 0:
            problems.append((f"/events/{name}", "all zero: no day or hour would have events"))
    if "canvas" not in events["ed_apps"]:
        problems.append(("/events/ed_apps", "missing 'canvas': the LMS sends the gradebook's "
                         "submission and grade events"))
    return problems


# ---- the values a profile's distribution can draw (distributions/_profile.py checks them too)
def when_problems(when: dict, path: str, parents: dict[str, dict]) -> list[tuple[str, str]]:
    """A cell's `when` values that its given columns' distributions never draw (such a cell
    would never be used, and the rows it describes would silently follow `otherwise`)."""
    problems = []
    for name, dist in parents.items():
        values = value_set(dist)
        if name in when and values is not None and value_key(when[name]) not in values:
            shown = ", ".join(sorted(values)[:8]) + (", …" if len(values) > 8 else "")
            problems.append((f"{path}/{name}", f"{value_key(when[name])} is not a value of "
                             f"{name} (its values: {shown})"))
    return problems


def value_set(dist: dict) -> set[str] | None:
    """The values a distribution can draw, as JSON text (None: not a finite set)."""
    if dist["kind"] == "categorical":
        return {value_key(item["value"]) for item in dist["values"]}
    if dist["kind"] != "conditional":
        return None
    parts = [value_set(c["distribution"]) for c in dist["cells"]] + [
        value_set(dist["otherwise"])]
    return None if any(p is None for p in parts) else set().union(*parts)


def value_key(value) -> str:
    """A drawn value as the JSON text `value_set` holds."""
    return json.dumps(value)
