"""The schema registry: every generated table, and the generation order from its foreign keys."""

from __future__ import annotations

from dataclasses import replace
from graphlib import CycleError, TopologicalSorter

from pipeline.errors import PlanError
from pipeline.udp._schema import ENTITY, KEYMAP, PROFILE, Column, ForeignKey, Layout, Table
from pipeline.udp._tables import CONTENT, ENTITIES


def _keymap(entity: Table) -> Table:
    columns = (
        Column("id", "int64", "keymap", description=f"UDP surrogate key of {entity.name}",
               sensitive="identifier"),
        Column("lms_int_id", "string", "keymap", True, "LMS internal (long) id",
               "identifier"),
        Column("lms_ext_id", "string", "keymap", True, "LMS external id", "identifier"),
        Column("sis_ext_id", "string", "keymap", True, "SIS external id", "identifier"),
    )
    return Table(entity.name, columns, ("id",), Layout("mirror", entity.key),
                 (ForeignKey("id", entity.key),), schema=KEYMAP, system=entity.system,
                 keymap=False, description=f"Source-system ids of {entity.name}.")


class Registry:
    """All generated tables, looked up by key (`person`, `keymap__person`)."""

    def __init__(self, tables: tuple[Table, ...]):
        self.tables = {table.key: table for table in tables}

    def __getitem__(self, key: str) -> Table:
        return self.tables[key]

    def __iter__(self):
        return iter(self.tables.values())

    def with_extras(self, extras: dict[str, dict[str, dict]]) -> Registry:
        """This registry with the institution's own columns appended to their tables:
        `extras` is {table: {column: {"type": ..., "description": ...}}} (a profile's, or a
        run manifest's). Extras are nullable and drawn from the profile."""
        if not any(extras.values()):
            return self
        tables = []
        for table in self:
            added = extras.get(table.name, {}) if table.schema == ENTITY else {}
            columns = tuple(Column(name, spec["type"], PROFILE, True, spec.get(
                "description", "institution-specific column, profiled from the source"))
                for name, spec in added.items())
            tables.append(replace(table, columns=table.columns + columns) if columns else table)
        return Registry(tuple(tables))

    def dependencies(self, table: Table) -> set[str]:
        """Tables that must be planned before `table`: FK parents and layout parents."""
        parents = {fk.parent for fk in table.foreign_keys if fk.column not in table.self_references}
        parents.update(p for p in (table.layout.parent, table.layout.other) if p)
        parents.update(table.computed_from)
        parents.discard(table.key)
        return parents

    def order(self) -> list[str]:
        """Table keys in generation order: a topological sort of the foreign keys."""
        graph = {key: self.dependencies(table) for key, table in self.tables.items()}
        unknown = sorted({p for deps in graph.values() for p in deps} - graph.keys())
        if unknown:
            raise PlanError(f"foreign keys point at undeclared tables: {', '.join(unknown)}")
        try:
            return list(TopologicalSorter(graph).static_order())
        except CycleError as error:
            cycle = " → ".join(error.args[1])
            raise PlanError(f"the foreign keys form a cycle: {cycle}") from None


def build_registry(entities: tuple[Table, ...] = ENTITIES + CONTENT) -> Registry:
    """The registry of entity tables plus one keymap table per entity that has one."""
    keymaps = tuple(_keymap(table) for table in entities if table.keymap)
    return Registry(entities + keymaps)


def profile_extras(profile: dict) -> dict[str, dict[str, dict]]:
    """The extras a profile declares: {table: {column: {"type": ...}}}."""
    return {name: dict(spec["extras"]) for name, spec in profile.get("tables", {}).items()
            if spec.get("extras")}


def registry_for(profile: dict) -> Registry:
    """The registry a run of `profile` generates: REGISTRY plus the profile's extras."""
    return REGISTRY.with_extras(profile_extras(profile))


REGISTRY = build_registry()
