"""The shapes the registry is written in: tables, columns, foreign keys and row layouts."""

from __future__ import annotations

from dataclasses import dataclass, field

# How a column gets its values:
#   "pk"      the table's surrogate key, a pure function of the row index
#   "parent"  the key of the layout's driving parent row
#   "profile" drawn from the profile's distribution for this column
#   any other name: an entity rule in pipeline/generate/_rules (for what a profile cannot express)
PK, PARENT, PROFILE = "pk", "parent", "profile"
ORDINAL = "@ordinal"  # `keyed_by` value: key draws by position among the parent's children

ENTITY, KEYMAP = "context_store_entity", "context_store_keymap"


@dataclass(frozen=True)
class Column:
    """One column: its UDP name, type, how it is generated and what it holds."""

    name: str
    type: str
    gen: str = PROFILE
    nullable: bool = False
    description: str = ""
    # privacy class, honoured by the profiler: identifier, name, email, free_text
    sensitive: str | None = None
    # draw this column's randomness per parent row of this FK column (values persist across
    # the parent's children, e.g. a student's load is the same in each term row of theirs)
    keyed_by: str | None = None
    # a rule column whose parameters come from the profile (a distribution under its name)
    profiled: bool = False
    # a rule column (a catalog name or code of an institutional entity) that a profile may
    # learn from a source: drawn from the profile's distribution when it holds one, from the
    # rule (the built-in catalog) when it does not
    learnable: bool = False

    @property
    def from_profile(self) -> bool:
        return self.gen == PROFILE or self.profiled

    @property
    def may_profile(self) -> bool:
        """Whether a profile may hold a distribution for this column."""
        return self.from_profile or self.learnable


@dataclass(frozen=True)
class ForeignKey:
    column: str
    parent: str


@dataclass(frozen=True)
class Layout:
    """How a table's rows are laid out, and which parent drives them.

    kind:
      fixed       a count from the profile (`rows.count`) or the calendar
      children    rows grouped by `parent`; children per parent from the profile
                  (`rows.per_parent`) or from `count_rule`
      cross       every row of `parent` (restricted to `population`) × every row of `other`
      enumerate   one row per category of the profile distribution of `column`
      rule        the row count comes from `count_rule`
      mirror      one row per row of `parent` (keymaps)
    """

    kind: str
    parent: str | None = None
    other: str | None = None
    population: str | None = None
    column: str | None = None
    count_rule: str | None = None
    count_keyed_by: str | None = None


@dataclass(frozen=True)
class Table:
    """A generated table: where it goes, its columns, keys and layout."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    layout: Layout
    foreign_keys: tuple[ForeignKey, ...] = ()
    schema: str = ENTITY
    system: str = "sis"  # which source systems carry it: sis, lms or both (for keymaps)
    keymap: bool = True
    description: str = ""
    self_references: tuple[str, ...] = field(default=())
    # tables whose generated values this one is computed from (beyond its foreign keys)
    computed_from: tuple[str, ...] = ()
    # generate this table's blocks in the same step as that table's (both children of one
    # parent, blocks cut at parent boundaries), so it is computed from values in memory
    generated_with: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def key(self) -> str:
        """Unique name of the table across schemas (keymaps share entity names)."""
        return self.name if self.schema == ENTITY else f"keymap__{self.name}"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    def parent_of(self, column: str) -> str | None:
        for fk in self.foreign_keys:
            if fk.column == column:
                return fk.parent
        return None
