"""The generic, profile-driven table generator.

`Engine.column(table, column, rows)` computes one column at any row indices: keys from the
row index, foreign keys from the layout, profile columns from their compiled distributions
(conditionals included), and the few entity rules from pipeline/generate/_rules. Values are pure
functions of (seed, table, column, row), so a block is generated without looking at any other
block, and a child recomputes whatever parent attribute it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
from scipy import special

from pipeline.generate import _random
from pipeline.generate._column_values import ARROW_TYPES, Labels, Values, to_arrow
from pipeline.generate._links import PARTNERS, ascending, linked_column
from pipeline.generate._positions import by_siblings, positional_uniforms
from pipeline.generate._samplers import balanced_ranks, compile_distribution
from pipeline.generate._spec_values import combine, equals, leaf, ordered
from pipeline.udp._schema import ORDINAL, PARENT, PK, Table

RULES: dict[str, Callable] = {}
DRAWS_LEARNED: set[str] = set()  # rules that draw their learned columns themselves
LATENTS: dict[str, Callable] = {}  # table key -> its rows' latent engagement (standard normal)
ID_STRIDE = 10**10  # keys of different tables never collide
STRATIFY_MAX = 250_000  # largest key domain drawn by strata (rank tables are 4 bytes a key)


def latent(key: str):
    """Register the latent engagement of a table's rows (columns can be tied to it)."""
    def register(function: Callable) -> Callable:
        LATENTS[key] = function
        return function
    return register


def rule(name: str, draws_learned: bool = False):
    """Register an entity rule under the `gen` name the registry uses; `draws_learned`: the
    rule also draws its columns when they are learned (with uniforms of its own)."""
    def register(function: Callable) -> Callable:
        RULES[name] = function
        if draws_learned:
            DRAWS_LEARNED.add(name)
        return function
    return register


def narrow_ints(values: np.ndarray) -> np.ndarray:
    """`values` (whole numbers the engine keeps for the whole job) as int32 when every one
    fits, else as they are: arrays of one entry per parent row are half the bytes up to
    2^31 rows, and numpy promotes int32 with the int64 row indices back to int64 in any
    arithmetic, so the values drawn from them do not change."""
    fits = len(values) == 0 or (int(values.min()) >= -2**31 and int(values.max()) < 2**31)
    return values.astype(np.int32) if fits else values


class Engine:
    """Computes columns of the planned tables; one per (profile, settings) per process."""

    def __init__(self, registry, profile: dict, seed: int):
        self.registry = registry
        self.profile = profile
        self.seed = int(seed)
        self.layouts: dict = {}
        self.facts: dict = {}  # plan-level values rules share (sizes, calendar, ...)
        self._codes = {key: (i + 1) * ID_STRIDE for i, key in enumerate(registry.tables)}
        self._memo: dict = {}
        self._ranges: dict = {}
        self._ranks: dict = {}  # per (table, column, domain): the stratum of each key

    # ---- randomness -------------------------------------------------------------------
    def uniform(self, key: str, name: str, rows: np.ndarray, draw: int = 0) -> np.ndarray:
        """Uniforms for (table, column, draw) at `rows`."""
        return _random.uniform(_random.stream_key(self.seed, key, name, draw), rows)

    def stratified(self, key: str, name: str, counters: np.ndarray, domain: int) -> np.ndarray:
        """Uniforms for a column drawn over `domain` keys: key i gets a seeded random stratum
        of (0, 1) of width 1/domain, so the column's marginal matches the profile within
        ~1/domain instead of iid noise ~1/sqrt(domain). Large domains draw iid (the noise is
        negligible there, and the rank table would cost memory)."""
        if domain > STRATIFY_MAX or domain < 2:
            return self.uniform(key, name, counters)
        slot = (key, name, domain)
        if slot not in self._ranks:
            order = np.argsort(_random.bits(_random.stream_key(self.seed, key, name, "rank"),
                                            np.arange(domain)), kind="stable")
            # int32: a rank is below domain <= STRATIFY_MAX; the same floats come out of it
            ranks = np.empty(domain, dtype=np.int32)
            ranks[order] = np.arange(domain, dtype=np.int32)
            self._ranks[slot] = ranks
        jitter = self.uniform(key, name, counters)
        return (self._ranks[slot][counters] + jitter) / domain

    def normal(self, key: str, name: str, rows: np.ndarray, draw: int = 0) -> np.ndarray:
        return _random.normal(_random.stream_key(self.seed, key, name, draw), rows)

    # ---- keys and layout ----------------------------------------------------------------
    def ids(self, key: str, rows: np.ndarray) -> np.ndarray:
        """Surrogate keys of `key` at `rows`; row -1 gives -1 (null)."""
        rows = np.asarray(rows, dtype=np.int64)
        return np.where(rows < 0, -1, rows + 1 + self._codes[key])

    def n_rows(self, key: str) -> int:
        return self.layouts[key].n_rows

    def parent_rows(self, key: str, rows: np.ndarray) -> np.ndarray:
        """Row indices in the layout's driving parent (memoised per block)."""
        return self.memo(("parent", key), rows, lambda: self.layouts[key].parent_rows(rows))

    def ordinal(self, key: str, rows: np.ndarray) -> np.ndarray:
        """Position of each row among its parent's children (0-based)."""
        parents = self.parent_rows(key, rows)
        return rows - self.layouts[key].first_child(parents)

    def fk_rows(self, key: str, column: str, rows: np.ndarray) -> np.ndarray:
        """Parent row indices behind the FK `column` of table `key`."""
        table = self.registry[key]
        gen = table.column(column).gen
        if gen == PARENT:
            return self.parent_rows(key, rows)
        return self.memo(("fk", key, column), rows, lambda: RULES[gen](self, table, column, rows))

    # ---- columns ----------------------------------------------------------------------
    def memo(self, name: tuple, rows: np.ndarray, compute: Callable[[], Values]) -> Values:
        """Compute once per (name, rows array) inside the current block."""
        slot = (name, id(rows))
        if slot not in self._memo:
            self._memo[slot] = (rows, compute())
        return self._memo[slot][1]

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Row indices [start, stop) as one shared array per block, so that rules asking for
        the same range (a gradebook over its block's results) hit the memo."""
        if (start, stop) not in self._ranges:
            self._ranges[(start, stop)] = np.arange(start, stop, dtype=np.int64)
        return self._ranges[(start, stop)]

    def column(self, key: str, name: str, rows: np.ndarray) -> Values:
        """Values of column `name` of table `key` at `rows`."""
        return self.memo(("column", key, name), rows, lambda: self._compute(key, name, rows))

    def _compute(self, key: str, name: str, rows: np.ndarray) -> Values:
        table = self.registry[key]
        gen = table.column(name).gen
        if gen == PK:
            return self.ids(key, rows)
        if table.parent_of(name) is not None:
            parents = self.fk_rows(key, name, rows)
            keys = self.ids(table.parent_of(name), parents)
            return pa.array(keys, mask=parents < 0) if (parents < 0).any() else keys
        if table.layout.kind == "enumerate" and name == table.layout.column:
            categories = tuple(v["value"] for v in self.distribution(key, name)["values"])
            return Labels(rows.astype(np.int32), categories)
        if gen == "profile" or self.learned(key, name) and gen not in DRAWS_LEARNED:
            return self.sample(key, name, rows)
        return RULES[gen](self, table, name, rows)

    def learned(self, key: str, name: str) -> bool:
        """Whether a learnable rule column (a catalog name or code) was learned from a source:
        the profile holds its distribution, so it is drawn, not built from the catalog."""
        table = self.registry[key]
        return table.column(name).learnable and \
            name in self.profile["tables"].get(table.name, {}).get("columns", {})

    def distribution(self, key: str, name: str) -> dict:
        """The profile's distribution for a column (the profile was validated on load)."""
        return self.profile["tables"][self.registry[key].name]["columns"][name]

    def sample(self, key: str, name: str, rows: np.ndarray,
               u: np.ndarray | None = None) -> Values:
        """Draw a profile column at `rows`; `u` overrides the uniforms (for copulas)."""
        table = self.registry[key]
        spec = self.distribution(key, name)
        tie = self.profile["engagement"].get("ties", {}).get(f"{table.name}.{name}")
        if u is None and tie and key in LATENTS:
            # a label tied to engagement (an outcome, a band): a Gaussian copula on the
            # latent, its values ordered from the lowest mean score up
            u = self._tied_uniforms(key, name, tie, rows)
            spec = ordered(spec, tie["order"])
        link = self.profile["tables"].get(table.name, {}).get("links", {}).get(name)
        if u is None and link and (key, link["with"]) in PARTNERS:
            spec = ascending(spec)  # drawn on a partner's rank: _links.py
            u = linked_column(self, key, name, spec, link)[rows]
        if u is None:
            keyed_by = self._keyed_by(table, name)
            counters = self._counters(key, keyed_by, rows)
            domain = self._domain(key, keyed_by)
            by_cell = spec["kind"] == "conditional" and name in _names(table) and \
                (table.column(name).learnable or _given_by_parents(spec)) and \
                keyed_by in (None, ORDINAL) and 2 <= domain <= STRATIFY_MAX
            if keyed_by == ORDINAL and spec["kind"] == "categorical" and \
                    self.learned(key, name) and 2 <= domain <= STRATIFY_MAX:
                u = self._positional(key, name, spec, domain)[counters]
            else:
                u = (self._cell_stratified(key, name, spec, keyed_by, counters, domain)
                     if by_cell else self.stratified(key, name, counters, domain))
        return self.draw(spec, key, rows, u)

    def _positional(self, key: str, name: str, spec: dict, domain: int) -> np.ndarray:
        """A learned catalog column's uniform per place among the parent's children
        (_positions.py: each value its share of the places, the most frequent first)."""
        slot = ("places", key, name, domain)
        if slot not in self._ranks:
            sampler = compile_distribution(spec)
            tiebreak = _random.bits(_random.stream_key(self.seed, key, name, "places"),
                                    np.arange(len(sampler.categories)))
            self._ranks[slot] = positional_uniforms(sampler, domain, tiebreak)
        return self._ranks[slot]

    def _cell_stratified(self, key: str, name: str, spec: dict, keyed_by: str | None,
                         counters: np.ndarray, domain: int) -> np.ndarray:
        """Strata within each cell of a conditional catalog column (a course's title given
        its subject): a cell's keys take that cell's strata in a seeded random order, so each
        cell keeps its shares within ~1/keys; table-wide strata would leave a cell's few keys
        on random strata (one title drawn twice, another never). Given attributes of the
        layout parent, the strata are dealt so that each parent's rows spread over them
        (a course's groups: four TMAs and an exam, not two exams; _positions.by_siblings)."""
        slot = ("cells", key, name, domain)
        if slot not in self._ranks:
            if keyed_by is None:
                keys = np.arange(domain, dtype=np.int64)
            else:  # by position: the parent with the most children holds every position
                layout = self.layouts[key]
                first = layout.first_child(np.array([int(np.argmax(layout.counts))]))
                keys = int(first[0]) + np.arange(domain, dtype=np.int64)
            with self.scratch():
                cells = self._cells(spec, key, keys)
            bits = _random.bits(_random.stream_key(self.seed, key, name, "rank"), keys)
            # given the layout parent's attributes: each parent's rows spread over the strata
            owners = self.layouts[key].parent_rows(keys) if keyed_by is None and \
                by_siblings(self.registry[key], spec) else np.zeros(domain, dtype=np.int64)
            position = balanced_ranks(owners, bits, cells + 1)
            size = np.bincount(cells + 1)[cells + 1]
            # int32 (below domain <= STRATIFY_MAX): half the bytes, the same floats drawn
            self._ranks[slot] = (position.astype(np.int32), size.astype(np.int32))
        rank, size = self._ranks[slot]
        return (rank[counters] + self.uniform(key, name, counters)) / size[counters]

    def _tied_uniforms(self, key: str, name: str, tie: dict, rows: np.ndarray) -> np.ndarray:
        """Uniforms of a column tied to the latent: each row's copula score ρ·z + √(1−ρ²)·ε
        ranked among the scores of every row of the table (computed once), so the column
        keeps its profile shares within ~1/rows, as a stratified draw does; a table over
        STRATIFY_MAX rows takes Φ(score) (its noise is negligible there)."""
        n = self.n_rows(key)
        if n > STRATIFY_MAX:
            return special.ndtr(self._tie_scores(key, name, tie, rows))
        slot = ("tie_scores", key, name)
        if slot not in self.facts:
            with self.scratch():
                everyone = np.arange(n, dtype=np.int64)
                self.facts[slot] = np.sort(self._tie_scores(key, name, tie, everyone))
        ranks = np.searchsorted(self.facts[slot], self._tie_scores(key, name, tie, rows))
        return (np.minimum(ranks, n - 1) + 0.5) / n

    def _tie_scores(self, key: str, name: str, tie: dict, rows: np.ndarray) -> np.ndarray:
        rho = float(tie["rho"])
        z = LATENTS[key](self, rows)
        if "within" in tie:  # drawn given a tied column: the latent within its cells
            given = self.given(key, tie["within"]["given"], rows)
            for cell in tie["within"]["cells"]:
                match = equals(given, cell["value"])
                z[match] = (z[match] - cell["mean"]) / cell["sd"]
        return rho * z + np.sqrt(1 - rho * rho) * self.normal(key, name, rows, 1)

    def _keyed_by(self, table: Table, name: str) -> str | None:
        """What a column's draws are keyed by: the registry's choice, except that a source
        whose rows do not recur under their parents (`recurring: false`, a course offered
        once) draws position-keyed columns per row."""
        keyed_by = table.column(name).keyed_by if name in _names(table) else None
        recurring = self.profile["tables"].get(table.name, {}).get("recurring", True)
        return None if keyed_by == ORDINAL and not recurring else keyed_by

    def _counters(self, key: str, keyed_by: str | None, rows: np.ndarray) -> np.ndarray:
        """What a column's randomness is keyed by: its row, a parent row, or its ordinal
        among its parent's children (the same course recurs in every term)."""
        if keyed_by is None:
            return rows
        if keyed_by == ORDINAL:
            return self.ordinal(key, rows)
        return self.fk_rows(key, keyed_by, rows)

    def _domain(self, key: str, keyed_by: str | None) -> int:
        """How many distinct counters a column's draws range over."""
        if keyed_by is None:
            return self.n_rows(key)
        if keyed_by == ORDINAL:
            counts = getattr(self.layouts[key], "counts", None)
            return int(counts.max()) if counts is not None and len(counts) else 1
        return self.n_rows(self.registry[key].parent_of(keyed_by))

    def draw(self, spec: dict, key: str, rows: np.ndarray, u: np.ndarray) -> Values:
        """Map uniforms through `spec`; conditionals read their given columns of `key`."""
        if spec["kind"] != "conditional":
            return compile_distribution(spec).sample(u)
        cells = self._cells(spec, key, rows)
        parts = [(cells == i, cell["distribution"]) for i, cell in enumerate(spec["cells"])]
        parts.append((cells == -1, spec["otherwise"]))
        # a cell may itself be conditional (a learned dependency nested in its template's cell)
        return combine([(mask, self.draw(d, key, rows[mask], u[mask]) if mask.any() else
                          compile_distribution(leaf(d)).sample(u[mask])) for mask, d in parts],
                        len(rows))

    def draw_normal(self, spec: dict, key: str, rows: np.ndarray, z: np.ndarray) -> Values:
        """Like `draw`, from standard-normal scores (a Gaussian copula's output)."""
        if spec["kind"] == "continuous":
            return compile_distribution(spec).sample_normal(z)
        return self.draw(spec, key, rows, special.ndtr(z))

    def _cells(self, spec: dict, key: str, rows: np.ndarray) -> np.ndarray:
        given = [self.given(key, name, rows) for name in spec["given"]]
        cells = np.full(len(rows), -1, dtype=np.int64)
        for index, cell in reversed(list(enumerate(spec["cells"]))):
            match = np.ones(len(rows), dtype=bool)
            for name, values in zip(spec["given"], given, strict=True):
                match &= equals(values, cell["when"][name])
            cells[match] = index
        return cells

    def given(self, key: str, name: str, rows: np.ndarray) -> Values:
        """A conditioning column: `col` of this table, `fk_column.col` of a parent, or a
        chain of FKs up to an ancestor (`course_section_id.course_offering_id.course_level`)."""
        if "." not in name:
            return self.column(key, name, rows)
        fk, parent_column = name.split(".", 1)
        parent = self.registry[key].parent_of(fk) or self.registry[key].layout.parent
        return self.given(parent, parent_column, self.fk_rows(key, fk, rows))

    # ---- blocks -----------------------------------------------------------------------
    def block(self, key: str, start: int, stop: int,
              companions: tuple = ()) -> dict[str, pa.RecordBatch]:
        """Rows [start, stop) of table `key` as an Arrow record batch, plus the blocks of the
        tables computed from it ((key, start, stop) in `companions`), keyed by table."""
        try:
            batches = {key: self._batch(key, start, stop)}
            for companion, c_start, c_stop in companions:
                batches[companion] = self._batch(companion, c_start, c_stop)
        finally:
            self.clear()
        return batches

    def _batch(self, key: str, start: int, stop: int) -> pa.RecordBatch:
        table = self.registry[key]
        rows = self.rows(start, stop)
        arrays = [to_arrow(self.column(key, c.name, rows), c.type) for c in table.columns]
        return pa.RecordBatch.from_arrays(arrays, schema=batch_schema(table, arrays))

    def values(self, key: str, name: str, rows: np.ndarray) -> Values:
        """One column outside a block (the plan uses this); clears the memo afterwards."""
        try:
            return self.column(key, name, rows)
        finally:
            self.clear()

    @contextmanager
    def scratch(self):
        """A fresh memo for a nested computation, dropped afterwards (bounds memory)."""
        saved = self._memo, self._ranges
        self._memo, self._ranges = {}, {}
        try:
            yield
        finally:
            self._memo, self._ranges = saved

    def clear(self) -> None:
        """Forget memoised values (between blocks and plan steps)."""
        self._memo.clear()
        self._ranges.clear()


def arrow_schema(table: Table) -> pa.Schema:
    """The logical Arrow schema of a registry table (categorical text may travel
    dictionary-encoded; it reads back as the same strings)."""
    fields = [pa.field(c.name, ARROW_TYPES[c.type], nullable=_nullable(table, c.name))
              for c in table.columns]
    return pa.schema(fields)


def batch_schema(table: Table, arrays: list[pa.Array]) -> pa.Schema:
    """The schema of a generated batch: the registry's, with each array's own encoding."""
    return pa.schema([pa.field(c.name, array.type, nullable=_nullable(table, c.name))
                      for c, array in zip(table.columns, arrays, strict=True)])


def _nullable(table: Table, name: str) -> bool:
    return table.column(name).nullable or name not in table.primary_key


def _given_by_parents(spec: dict) -> bool:
    """Whether a conditional is given parent attributes only (a course's family given its term)."""
    return all("." in name for name in spec["given"])


def _names(table: Table) -> set[str]:
    return {c.name for c in table.columns}
