"""Row layouts: how the rows of a table sit under the rows of its driving parent, so that a
child row's parent row (and a parent's first child) is computed from the row index alone.

`Flat` (no driving parent, or one row per parent row), `Children` (runs of rows per parent,
from drawn counts), `Cross` (every pair of two parents' rows), `Spans` (each member of a
population in a run of another table's rows: a student's terms). The plan
(pipeline/generate/_plan.py) builds one per table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.generate._column_values import numeric
from pipeline.generate._engine import Engine, narrow_ints
from pipeline.generate._samplers import compile_distribution


@dataclass
class Flat:
    """Rows with no driving parent (or mirroring one row for row)."""

    n_rows: int

    def parent_rows(self, rows: np.ndarray) -> np.ndarray:
        return rows

    def first_child(self, parents: np.ndarray) -> np.ndarray:
        return parents


class RowRuns:
    """Rows owned in consecutive runs: owner i holds rows offsets[i] .. offsets[i+1]
    (`Children`: parent rows; `Spans`: members of a population)."""

    offsets: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.offsets[-1])

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def find(self, rows):
        """searchsorted(offsets, rows, "right"), with the rows in the offsets' dtype: numpy
        would otherwise copy int32 offsets to int64 on every call."""
        return np.searchsorted(self.offsets, np.asarray(rows).astype(self.offsets.dtype),
                               side="right")


@dataclass
class Children(RowRuns):
    """Rows grouped by parent: parent p owns rows offsets[p] .. offsets[p+1]."""

    offsets: np.ndarray

    def parent_rows(self, rows: np.ndarray) -> np.ndarray:
        if _contiguous(rows):
            # a block: repeat each parent by its children inside the range (no binary search)
            first = int(self.find(int(rows[0]))) - 1
            last = int(self.find(int(rows[-1]))) - 1
            bounds = np.clip(self.offsets[first:last + 2], rows[0], rows[-1] + 1)
            return np.repeat(np.arange(first, last + 1), np.diff(bounds))
        return self.find(rows) - 1

    def first_child(self, parents: np.ndarray) -> np.ndarray:
        return self.offsets[parents]

    @classmethod
    def from_counts(cls, counts: np.ndarray) -> Children:
        counts = np.asarray(counts, dtype=np.int64)
        # kept for the whole job, one per parent row: int32 up to 2^31 rows (narrow_ints)
        return cls(narrow_ints(np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)))


def _contiguous(rows: np.ndarray) -> bool:
    return len(rows) > 64 and rows[-1] - rows[0] == len(rows) - 1 and bool(
        (rows[1:] > rows[:-1]).all())


@dataclass
class Cross:
    """Every row of a parent population × every row of another table, other-major."""

    start: int
    size: int
    n_other: int

    @property
    def n_rows(self) -> int:
        return self.size * self.n_other

    def parent_rows(self, rows: np.ndarray) -> np.ndarray:
        return self.start + rows % self.size

    def other_rows(self, rows: np.ndarray) -> np.ndarray:
        return rows // self.size

    def first_child(self, parents: np.ndarray) -> np.ndarray:
        return parents - self.start


@dataclass
class Spans(RowRuns):
    """Each member of a population in a run of rows of another table (a student in the
    terms from their entry term on), member-major: member i owns rows offsets[i] ..
    offsets[i+1], the first in `entry[i]`, the others spread evenly up to `entry[i] +
    span[i]` (consecutive without a span: a student's terms one after another)."""

    start: int
    offsets: np.ndarray
    entry: np.ndarray
    span: np.ndarray | None = None

    def parent_rows(self, rows: np.ndarray) -> np.ndarray:
        return self.start + np.searchsorted(self.offsets, rows, side="right") - 1

    def other_rows(self, rows: np.ndarray) -> np.ndarray:
        member = np.searchsorted(self.offsets, rows, side="right") - 1
        step = rows - self.offsets[member]
        if self.span is None:
            return self.entry[member] + step
        gaps = np.maximum(self.offsets[member + 1] - self.offsets[member] - 1, 1)
        return self.entry[member] + step * self.span[member] // gaps

    def first_child(self, parents: np.ndarray) -> np.ndarray:
        return self.offsets[parents - self.start]

    @classmethod
    def draw(cls, engine: Engine, key: str, spec: dict, start: int, size: int,
             n_other: int) -> Spans:
        """Terms per member from the learned count distribution (at most `n_other`), the
        span from first to last term from the learned one given the count (else one after
        another), the entry term among those that leave room for the span."""
        members = np.arange(size, dtype=np.int64)
        u = engine.stratified(key, "terms_per_member", members, size)
        counts = np.clip(np.nan_to_num(numeric(compile_distribution(spec).sample(u)), nan=1),
                         1, n_other).astype(np.int64)
        learned = engine.profile.get("structure", {})
        span = counts - 1  # one term after another, unless the profile learned the spans
        if learned.get("term_span"):
            v = engine.uniform(key, "span", members)
            drawn = _given(learned["term_span"], counts, lambda s, m: numeric(
                compile_distribution(s).sample(v[m])))
            span = np.where(counts > 1, np.clip(np.nan_to_num(drawn), counts - 1, n_other - 1),
                            0).astype(np.int64)
        room = n_other - span
        u = engine.uniform(key, "entry", members)
        entry = _given(learned["entry_term"], span, lambda s, m: _entries(
            s, room[m], u[m])).astype(np.int64) if learned.get("entry_term") else \
            np.minimum((u * room).astype(np.int64), room - 1)
        return cls(start, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), entry,
                   span if learned.get("term_span") else None)


def _given(spec: dict, values: np.ndarray, draw: Callable) -> np.ndarray:
    """`draw(distribution, mask)` for the members of each cell of a distribution conditioned
    on a whole number of theirs (their terms, or the span of them: `given: [NAME]`), or of
    a plain distribution for all."""
    out = np.zeros(len(values))
    cells = spec.get("cells", []) if spec["kind"] == "conditional" else []
    rest = np.ones(len(values), dtype=bool)
    for cell in cells:
        mask = rest & (values == int(next(iter(cell["when"].values()))))
        if mask.any():
            out[mask] = draw(cell["distribution"], mask)
        rest &= ~mask
    if rest.any():
        out[rest] = draw(spec["otherwise"] if spec["kind"] == "conditional" else spec, rest)
    return out


def _entries(spec: dict, room: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Entry positions from the learned shares, each cut to the `room` positions that leave
    space for the member's terms (uniform where the learned shares put nothing there)."""
    if not len(room):
        return np.zeros(0, dtype=np.int64)
    weights = np.zeros(int(room.max()))
    for item in spec.get("values", []):
        if 0 <= int(item["value"]) < len(weights):
            weights[int(item["value"])] += float(item["p"])
    entry = np.minimum((u * room).astype(np.int64), room - 1)
    for r in np.unique(room):
        cumulative = np.cumsum(weights[:r])
        mask = room == r
        if cumulative[-1] > 0:
            entry[mask] = np.minimum(np.searchsorted(cumulative / cumulative[-1], u[mask],
                                                     side="right"), r - 1)
    return entry
