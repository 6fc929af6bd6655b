"""The generator's draws of a table's tied columns, replayed on the gradebook simulation of
`_engagement.py`, so that a label drawn given another column is calibrated on the units of
each of that column's cells as the generator forms them.

A column is "on the latent" when the profile ties it to engagement (`engagement.ties`) or,
for an enrollment's `role_status`, through `engagement.withdrawal_rho`. The generator draws a
label given such a column on the latent standardized within that column's cells (the tie's
`within`); here each cell's units, their latent's mean and sd, and the label's codes come out
of the same draws.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

ENROLLMENT = "course_section_enrollment"


@dataclass
class Chain:
    """One table's tied columns in the simulation `sim` (label latent at `level`)."""

    sim: object
    level: float
    table: str
    columns: dict      # the table's profile columns
    ties: dict         # the ties learned so far: "table.column" -> tie
    engagement: dict   # the profile's engagement section

    def groups(self, column: str) -> tuple[np.ndarray, dict[str, int]] | None:
        """(simulated code of each unit, code of each value) of a column on the latent, or
        None for a column drawn apart from it."""
        tie = self.ties.get(f"{self.table}.{column}")
        if tie is not None:
            return self.codes(column), {str(v): i for i, v in enumerate(tie["order"])}
        if self.table == ENROLLMENT and column == "role_status" and \
                "withdrawal_rho" in self.engagement:
            return self._withdrawn()
        return None

    def within(self, column: str, groups: tuple) -> dict:
        """The tie's `within`: the latent's mean and sd in each of the column's cells."""
        codes, mapping = groups
        latent = self.sim.label_latent(self.level)
        cells = []
        for value, code in mapping.items():
            part = latent[codes == code]
            if len(part) > 1 and part.std() > 0:
                cells.append({"value": value, "mean": round(float(part.mean()), 4),
                              "sd": round(float(part.std()), 4)})
        return {"given": column, "cells": cells}

    def codes(self, column: str) -> np.ndarray:
        """A tied label's codes (positions in its `order`), drawn as the generator does."""
        tie, spec = self.ties[f"{self.table}.{column}"], drawn_spec(self.columns[column])
        z = self.sim.label_latent(self.level).copy()
        given = spec["given"][0] if spec["kind"] == "conditional" else None
        groups = self.groups(given) if given else None
        if "within" in tie and groups:
            for cell in tie["within"]["cells"]:
                match = groups[0] == groups[1].get(str(cell["value"]), -2)
                z[match] = (z[match] - cell["mean"]) / cell["sd"]
        noise = np.random.default_rng(zlib.crc32(column.encode())).standard_normal(len(z))
        rho = float(tie["rho"])
        u = (stats.rankdata(rho * z + math.sqrt(1 - rho * rho) * noise) - 0.5) / len(z)
        codes = np.searchsorted(cuts(shares(leaf(spec)), tie["order"]), u)
        for cell in spec.get("cells", []) if groups else []:
            match = groups[0] == groups[1].get(str(cell["when"][given]), -2)
            codes[match] = np.searchsorted(cuts(shares(leaf(cell["distribution"])),
                                                tie["order"]), u[match])
        return np.minimum(codes, len(tie["order"]) - 1)

    def _withdrawn(self) -> tuple[np.ndarray, dict[str, int]]:
        """Students withdrawn (1) or not (0) as the role_status rule draws them."""
        statuses = self.engagement["withdrawn_role_statuses"]
        student = student_statuses(self.columns["role_status"])
        total = sum(student.values()) or 1.0
        share = sum(p for v, p in student.items() if v in statuses) / total
        rho = float(self.engagement["withdrawal_rho"])
        z = rho * self.sim.latent + math.sqrt(1 - rho * rho) * self.sim.own
        codes = (special.ndtr(z) < share).astype(np.int64)
        return codes, {str(v): int(v in statuses) for v in student}


def student_statuses(spec: dict) -> dict:
    """The role_status shares the generator draws for students (the learned nested cells
    aside: their `otherwise`)."""
    if spec["kind"] == "conditional":
        cell = next((c["distribution"] for c in spec["cells"]
                     if c["when"].get("role") == "Student"), spec["otherwise"])
        return shares(leaf(cell))
    return shares(spec)


def shares(spec: dict) -> dict:
    """{value: p} of a categorical (nulls left out)."""
    return {i["value"]: i["p"] for i in spec.get("values", []) if i["value"] is not None}


def cuts(by_value: dict, order: list) -> np.ndarray:
    """Cumulative cut points of the shares in `order` (what a uniform is searched in)."""
    p = np.array([by_value.get(v, 0.0) for v in order], dtype=float)
    return np.cumsum(p)[:-1] / p.sum() if p.sum() > 0 else np.zeros(max(len(p) - 1, 0))


def drawn_spec(spec: dict) -> dict:
    """What a tied label's uniform is drawn through: the spec itself or, wrapped in cells
    that are always null (`_extra_nulls`: an outcome label null for every teacher), its
    `otherwise` — those cells take no draw."""
    if spec.get("kind") == "conditional" and spec["cells"] and all(
            _always_null(c["distribution"]) for c in spec["cells"]):
        return spec["otherwise"]
    return spec


def _always_null(spec: dict) -> bool:
    return spec["kind"] == "categorical" and all(i["value"] is None for i in spec["values"])


def continuous_leaves(spec: dict) -> bool:
    """Whether every cell of a (nested) conditional, or the spec itself, is continuous (a
    registration day given role: the students' quantiles, the teachers' nulls)."""
    if spec.get("kind") == "conditional":
        return all(continuous_leaves(c["distribution"]) for c in spec["cells"]) and \
            continuous_leaves(spec["otherwise"])
    return spec.get("kind") == "continuous"


def leaf(spec: dict) -> dict:
    """The innermost `otherwise` of a (nested) conditional."""
    return leaf(spec["otherwise"]) if spec["kind"] == "conditional" else spec
