"""Scenarios: a YAML or JSON file that overlays the baseline profile with effects baked in.

A scenario declares extension tables at a grain keyed to an existing table (columns drawn
from a named family or computed by an expression over the same row), and overrides or new
derived columns on existing tables. `load_scenario` reads the file, validates it against the
published JSON Schema (`scenario.schema.json`) and then semantically — families with
impossible parameters, expressions outside the whitelist, names no row has, cycles between
derived columns, and (given the registry's `catalog`) unknown tables and columns — and
raises `ScenarioError` listing every problem as `FILE: /json/path: what is wrong`.

The catalog is passed in, not imported: this package never loads the generation stage.
It maps each existing table name to {"columns": {name: type}, "keys": set of key columns
(never overridden), "parents": set of tables reachable through its foreign keys,
"term": whether its rows belong to a term}.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from distributions._expression import ExpressionError, parse_expression
from distributions._families import FAMILIES, family_problems, family_type
from distributions._text import decoded, number_problem, read_bounded, undecodable
from pipeline.errors import ScenarioError, shorten

MAX_BYTES = 4 * 2**20
# what each effect acts on: the table its rows are, and the operation its expression gives
EFFECTS = {"engagement": ("course_section_enrollment", "add"),
           "score": ("learner_activity_result", "add"),
           "event_rate": ("course_section_enrollment", "multiply"),
           "withdrawal": ("course_section_enrollment", "multiply")}
WEEK = "week_in_term"
# what the generator computes that effects may read by name: the table whose rows have it,
# and the effect targets that may read it (active days follow engagement, event rates and
# withdrawal, so only a score effect can depend on them without a cycle)
INPUTS = {"active_days_per_week": ("course_section_enrollment", ("score",))}


def scenario_schema_path() -> Path:
    """Where the published JSON Schema of scenario files lives."""
    return Path(str(resources.files("distributions") / "scenario.schema.json"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(scenario_schema_path().read_text()))


def load_scenario(path: str | Path, catalog: dict | None = None) -> dict:
    """Read and validate a scenario file; returns {"name", "source", "sha256", "document"}."""
    source = str(path)
    try:
        data = read_bounded(path, MAX_BYTES)
    except OSError as error:
        raise ScenarioError(source, [("", f"cannot read the file: {error.strerror}")]) from None
    if data is None:
        raise ScenarioError(source, [("", f"the file holds more than {MAX_BYTES:,} bytes; a "
                                      f"scenario holds at most {MAX_BYTES:,}")])
    document = parse_scenario(data, source)
    validate_scenario(document, source, catalog)
    return {"name": document["name"], "source": source, "sha256": hashlib.sha256(data).hexdigest(),
            "document": document, "order": column_order(document)}


def column_order(document: dict) -> dict[str, list[str]]:
    """The file's column order of each table the scenario adds to, kept apart: the job's
    profile travels with its keys sorted."""
    order = {name: list(spec["columns"]) for name, spec in document.get("tables", {}).items()}
    order.update({name: list(columns) for name, columns in document.get("columns", {}).items()})
    return order


def scenario_profile(profile: dict, scenario: dict | None) -> dict:
    """The profile a scenario's world runs: the baseline's, its `engagement` values overridden
    by the scenario's, and the scenario itself under `scenario` (the baseline without one)."""
    if not scenario:
        return profile
    engagement = {**profile["engagement"], **scenario["document"].get("engagement", {})}
    return {**profile, "engagement": engagement, "scenario": scenario}


def parse_scenario(data: bytes, source: str) -> object:
    """YAML (a superset of JSON) unless the file is named .json; safe loading only."""
    try:
        text = decoded(data)  # (UTF-8, or UTF-16/32 with a byte-order mark)
        if source.lower().endswith(".json"):
            return json.loads(text, object_pairs_hook=_unique_pairs)
        return yaml.load(text, Loader=_UniqueKeyLoader)  # (a SafeLoader)
    except UnicodeDecodeError as error:
        raise ScenarioError(source, [("", undecodable(error))]) from None
    except _RepeatedKey as error:
        raise ScenarioError(source, [("", f"the key {shorten(str(error.args[0]), 80)!r} "
                                      "appears twice in one mapping (only one would be kept)"
                                      )]) from None
    except json.JSONDecodeError as error:
        raise ScenarioError(source, [("", f"not valid JSON (line {error.lineno}, column "
                                      f"{error.colno}): {error.msg}")]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        raise ScenarioError(source, [("", f"not valid YAML{where}: {reason}")]) from None
    except RecursionError:
        raise ScenarioError(source, [("", "nested too deeply")]) from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise ScenarioError(source, [("", f"cannot read a value: {number_problem(error)}")]
                            ) from None


class _RepeatedKey(ValueError):
    """A mapping naming one key twice: YAML and JSON readers keep the last silently."""


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set = set()
        raise _RepeatedKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return document


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that names a key twice."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        hashable = [k for k in keys if isinstance(k, str | int | float | bool)]
        _unique_pairs([(k, None) for k in hashable])
        return super().construct_mapping(node, deep=deep)


def validate_scenario(document: object, source: str, catalog: dict | None = None) -> None:
    """Raise ScenarioError listing every problem of `document`, or return quietly."""
    problems = _non_finite(document) or _schema_problems(document)
    if not problems:
        problems = semantic_problems(document, catalog)
    if problems:
        raise ScenarioError(source, problems)


def _non_finite(document: object) -> list[tuple[str, str]]:
    """Every NaN or infinite number (YAML's .nan and .inf, JSON's NaN and 1e999), with its
    path: the schema's bounds let them through (NaN compares false with any bound), and a
    NaN score_rho or an infinite lambda reached the generator (a traceback, or counts cast
    from infinity). Walked without recursion: any depth the parser took is fine."""
    problems, stack = [], [((), document)]
    while stack:
        parts, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            problems.append((pointer(parts), f"{node} is not a finite number"))
        elif isinstance(node, dict | list):
            items = node.items() if isinstance(node, dict) else enumerate(node)
            stack += [((*parts, key), child) for key, child in items]
    return sorted(problems)


def _schema_problems(document: object) -> list[tuple[str, str]]:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.path)))
    problems = []
    for error in errors:
        text = error.message.replace("Additional properties are not allowed",
                                     "unknown field(s)")
        if isinstance(error.instance, float) and not math.isfinite(error.instance):
            text = f"{error.instance} is not a finite number"
        problems.append((pointer(error.absolute_path), text))
    return problems


def pointer(parts) -> str:
    """A JSON pointer (/tables/x/columns/y) from path parts."""
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def semantic_problems(document: dict, catalog: dict | None) -> list[tuple[str, str]]:
    """Checks beyond the schema, on a document the schema accepted."""
    problems: list[tuple[str, str]] = []
    if catalog is not None:  # a parent row sees the columns the scenario adds to it too
        catalog = {name: {**info, "columns": {**{
            c: "derived" for c in document.get("columns", {}).get(name, {})}, **info["columns"]}}
            for name, info in catalog.items()}
    for name, table in document.get("tables", {}).items():
        path = f"/tables/{name}"
        problems += _extension_problems(name, table, path, catalog)
        entity = table["grain"]["entity"]
        parents = {entity} | catalog[entity]["parents"] if catalog and entity in catalog \
            else set()
        problems += _columns_problems(table["columns"], f"{path}/columns",
                                      grain_names(name, table, catalog), catalog, parents)
    for name, columns in document.get("columns", {}).items():
        path = f"/columns/{name}"
        if catalog is not None and name not in catalog:
            problems.append((path, f"unknown table {name!r} (see the registry in "
                                   "pipeline/udp/_tables.py)"))
            continue
        info = catalog[name] if catalog is not None else None
        problems += _override_problems(columns, path, info)
        existing = dict(info["columns"]) if info else {}
        problems += _columns_problems(columns, path, existing, catalog,
                                      info["parents"] if info else set())
    for name, effect in document.get("effects", {}).items():
        problems += _effect_problems(effect, f"/effects/{name}", document, catalog)
    return problems


def _effect_problems(effect: dict, path: str, document: dict,
                     catalog: dict | None) -> list[tuple[str, str]]:
    """An effect reads the scenario's columns of its row and any column of its parent rows
    (never the row's own generated values, which the effect feeds)."""
    table, operation = EFFECTS[effect["target"]]
    where = f"{path}/{operation}"
    try:
        expression = parse_expression(effect[operation])
    except ExpressionError as error:
        return [(where, str(error))]
    own = document.get("columns", {}).get(table, {})
    parents = catalog[table]["parents"] if catalog else set()
    problems = []
    for name in sorted(expression.names):
        if name in INPUTS and name not in own:
            problems += _input_problems(name, effect["target"], table, parents, where)
            continue
        problem = None if name in own else _name_problem(name, {}, {}, catalog, parents)
        if problem and "." not in name:
            problem = f"{name!r} is not a scenario column of {table} (an effect reads the " \
                      f"scenario's columns of its row and its parent rows' columns)"
        if problem:
            problems.append((where, problem))
    return problems


def _input_problems(name: str, target: str, table: str, parents: set[str],
                    where: str) -> list[tuple[str, str]]:
    owner, readers = INPUTS[name]
    if target not in readers:
        return [(where, f"{name} can be read by {', '.join(readers)} effects only (it is "
                        f"counted from events that follow the {target})")]
    if owner != table and parents and owner not in parents:
        return [(where, f"{name} belongs to {owner} rows, which a {table} row has not")]
    return []


def grain_names(name: str, table: dict, catalog: dict | None) -> dict[str, str]:
    """The columns an extension table's rows carry before its own: its key, the entity's
    key columns and, per week, the week in term."""
    entity = table["grain"]["entity"]
    names = {f"{name}_id": "int64"}
    if catalog is not None and entity in catalog:
        info = catalog[entity]
        names.update({c: info["columns"][c] for c in info["primary_key"]})
    if table["grain"].get("per") == "week":
        names[WEEK] = "int64"
    return names


def _extension_problems(name: str, table: dict, path: str,
                        catalog: dict | None) -> list[tuple[str, str]]:
    if catalog is None:
        return []
    if name in catalog:
        return [(path, f"{name!r} is an existing table; an extension table needs a new name "
                       "(change existing tables under `columns`)")]
    entity = table["grain"]["entity"]
    if entity not in catalog:
        return [(f"{path}/grain/entity", f"unknown table {entity!r}")]
    if table["grain"].get("per") == "week" and not catalog[entity]["term"]:
        return [(f"{path}/grain/per", f"{entity} rows belong to no term, so they have no "
                                      "week in term")]
    return []


def _override_problems(columns: dict, path: str, info: dict | None) -> list[tuple[str, str]]:
    if info is None:
        return []
    problems = []
    for column, spec in columns.items():
        kind = info["columns"].get(column)
        where = f"{path}/{column}"
        if kind in (None, "derived"):
            continue  # a new derived column
        if column in info["keys"]:
            problems.append((where, f"{column} is a key; keys cannot be overridden"))
        elif "family" in spec and not _compatible(family_type(spec), kind):
            problems.append((f"{where}/family", f"{column} holds {kind} values; "
                                                f"{spec['family']} draws {family_type(spec)}"))
    return problems


def _compatible(drawn: str, kind: str) -> bool:
    numeric = {"int64", "float64"}
    return drawn == kind or (drawn in numeric and kind in numeric) or \
        (drawn == "int64" and kind == "bool")


def _columns_problems(columns: dict, path: str, known: dict[str, str], catalog: dict | None,
                      parents: set[str]) -> list[tuple[str, str]]:
    """Families' parameters, expressions (whitelist, names, cycles) of one table's columns."""
    problems, graph = [], {}
    for column, spec in columns.items():
        where = f"{path}/{column}"
        if "family" in spec:
            problems += family_problems(spec, where)
            extra = sorted(set(spec) - set(FAMILIES[spec["family"]]) -
                           {"family", "hidden", "description"})
            if extra:
                problems.append((where, f"{spec['family']} takes no {', '.join(extra)}"))
            continue
        try:
            expression = parse_expression(spec["expression"])
        except ExpressionError as error:
            problems.append((f"{where}/expression", str(error)))
            continue
        graph[column] = set()
        for name in sorted(expression.names):
            problem = _name_problem(name, columns, known, catalog, parents)
            if problem:
                problems.append((f"{where}/expression", problem))
            elif name in columns:
                graph[column].add(name)
    return problems + _cycle_problems(graph, path)


def _name_problem(name: str, columns: dict, known: dict, catalog: dict | None,
                  parents: set[str]) -> str | None:
    if "." not in name:
        if name in columns or name in known or catalog is None:
            return None
        return f"unknown column {name!r} (this row has: {', '.join(sorted({*columns, *known}))})"
    parent, column = name.split(".", 1)
    if catalog is None:
        return None
    if parent not in catalog or parent not in parents:
        return f"{parent!r} is not a parent row of this table (parents: " \
               f"{', '.join(sorted(parents)) or 'none'})"
    if column not in catalog[parent]["columns"]:
        return f"unknown column {column!r} of {parent}"
    return None


def _cycle_problems(graph: dict[str, set[str]], path: str) -> list[tuple[str, str]]:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        return [(path, "derived columns form a cycle: " + " → ".join(error.args[1]))]
    return []
