"""Keys of the compared tables: each table's primary key and foreign keys.

The schema registry lives in the pipeline, above this package, so the CLI hands its keys in
(`Keys.from_tables(REGISTRY)`); any table the registry does not declare — or every table,
when evaluate is called without a registry — gets keys inferred from UDP's naming rule: a
table's key is `<table>_id`, and a column named `<table>_id` or `<role>_<table>_id` of
another table is a foreign key to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ForeignKey:
    """`child.column` references `parent.key`."""

    child: str
    column: str
    parent: str
    key: str


@dataclass
class Keys:
    """Primary keys (table -> key columns) and foreign keys of the compared tables."""

    primary: dict[str, tuple[str, ...]] = field(default_factory=dict)
    foreign: list[ForeignKey] = field(default_factory=list)
    # the parent whose children-per-parent distribution sizes a table (profile `per_parent`)
    layout_parent: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, tables) -> Keys:
        """Keys of registry tables (objects with name, schema, primary_key, foreign_keys,
        layout): entity tables only, keymaps being ids alone."""
        entity = {t.key: t for t in tables if t.schema == "context_store_entity"}
        keys = cls()
        for table in entity.values():
            keys.primary[table.name] = tuple(table.primary_key)
            for fk in table.foreign_keys:
                parent = entity.get(fk.parent)
                if parent is not None and len(parent.primary_key) == 1:
                    keys.foreign.append(ForeignKey(table.name, fk.column, parent.name,
                                                   parent.primary_key[0]))
            parent = getattr(table.layout, "parent", None)
            if table.layout.kind == "children" and parent in entity:
                keys.layout_parent[table.name] = entity[parent].name
        return keys

    def restricted(self, tables: dict[str, dict[str, str]]) -> Keys:
        """The keys whose tables and columns are all present in `tables` (table -> columns),
        completed by the naming rule for tables the keys do not mention."""
        out = Keys(layout_parent=dict(self.layout_parent))
        inferred = infer_keys(tables)
        for table, cols in tables.items():
            for pk in (self.primary.get(table), inferred.primary.get(table)):
                if pk and all(c in cols for c in pk):
                    out.primary[table] = pk
                    break
        # the declared keys are the whole truth for a declared table: inference only fills in
        # the tables the registry does not know (an institution's own)
        declared = set(self.primary)
        for fk in self.foreign + [f for f in inferred.foreign if f.child not in declared]:
            if fk.column in tables.get(fk.child, {}) and fk.key in tables.get(fk.parent, {}):
                out.foreign.append(fk)
        for table in tables:  # undeclared: only a table with one parent is unambiguous
            parents = {f.parent for f in out.foreign if f.child == table and f.parent != table}
            if table not in out.layout_parent and len(parents) == 1:
                out.layout_parent[table] = parents.pop()
        return out

    def is_key(self, table: str, column: str) -> bool:
        """Whether a column is a key (identifiers are never compared as values)."""
        return column in self.primary.get(table, ()) or any(
            f.child == table and f.column == column for f in self.foreign)

    def children(self, parent: str) -> list[ForeignKey]:
        """Foreign keys pointing at `parent` (self references excluded)."""
        return [f for f in self.foreign if f.parent == parent and f.child != parent]


def infer_keys(tables: dict[str, dict[str, str]]) -> Keys:
    """Keys by UDP's naming rule (see the module docstring)."""
    keys = Keys()
    for table, cols in tables.items():
        if f"{table}_id" in cols:
            keys.primary[table] = (f"{table}_id",)
    # longest table name first: `le_current_course_offering_id` is course_offering's
    parents = sorted(keys.primary, key=len, reverse=True)
    for table, cols in tables.items():
        for column in cols:
            if not column.endswith("_id") or keys.primary.get(table) == (column,):
                continue
            parent = next((p for p in parents if column == f"{p}_id"
                           or column.endswith(f"_{p}_id")), None)
            if parent is not None:
                keys.foreign.append(ForeignKey(table, column, parent, f"{parent}_id"))
    return keys
