"""A consortium profile: profiles that institutions computed on their own, pooled.

`campus-synth profile merge A.json B.json … --out consortium.json` reads only profiles (and
their privacy manifests beside them), so no row leaves any institution:

- counts are added (table row counts, campuses; terms: each institution's terms are its own
  rows, listed side by side on the merged calendar at their own dates, with their offerings,
  and its students placed in them — distributions/_merge_terms.py); FTE is per term, the
  mean over the terms;
- shares (categorical distributions) are combined by weight — each institution's rows of that
  table, from its manifest (else its FTE × terms); children-per-parent distributions by the
  number of parents (rows / mean children);
- continuous distributions become the weighted mixture of their piecewise-linear CDFs
  (through min, the stored quantiles and max), re-quantiled at the same levels — so do the
  shapes outside the columns (when the withdrawn leave, when the k-th assignment falls due:
  distributions/_merge_shapes.py); never quantile by quantile;
- conditional (and nested dependency) tables are combined cell by cell, each cell from the
  institutions that published it: a cell suppressed at one institution stays suppressed there
  (nothing of its rows is recreated); when institutions learned different `given` columns the
  heaviest institution's table is kept, with a note;
- engagement, event rates and sizing parameters are weighted by student-terms (FTE × terms);
  the grading scheme is the largest institution's (noted).
Each source's file digest, weight, k, ε and privacy actions go into the merged manifest, and k
(the largest of the inputs') is checked again on the pooled counts of people-linked tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from distributions._merge_cells import undated_weight
from distributions._merge_manifest import merged_manifest, read_manifest
from distributions._merge_mix import mix
from distributions._merge_shapes import (
    merged_links,
    merged_positions,
    pooled_list,
    withdrawal_part,
)
from distributions._merge_terms import merged_calendar, merged_structure
from distributions._mixture import mean_of
from distributions._profile import load_profile
from distributions._profile_result import ProfileResult
from pipeline.errors import DistributionsError
from pipeline.udp._contract import drop_unreachable_cells
from pipeline.udp._registry import REGISTRY

_LARGEST = ("grading_scheme", "gradebook")
_TABLES = {t.name: t for t in REGISTRY}
# the parents of the per-parent distributions not named by the layout
_ROWS_PARENT = {"per_section": "course_section", "section_share": "course_section",
                "per_offering": "course_offering", "per_student_term": "person__academic_term"}


class Merge:
    """The inputs, their weights, and the record of what the merge did."""

    def __init__(self, paths: list[str]):
        if len(paths) < 2:
            raise DistributionsError("profile merge: give two or more profiles to merge")
        self.paths = [Path(p) for p in paths]
        self.profiles = [load_profile(str(p)) for p in self.paths]
        self.manifests = [read_manifest(p) for p in self.paths]
        self.fte = np.array([float(p["settings"].get("fte") or 1.0) for p in self.profiles])
        self.terms = np.array([int(p["settings"].get("terms") or 1) for p in self.profiles])
        # per-term rates (instructors per student, events per student-day) weigh by the
        # student-terms behind them
        self.fte_terms = self.fte * self.terms
        self.largest = int(np.argmax(self.fte))
        self.k = max(int(m.get("k", 10)) if m else 10 for m in self.manifests)
        self.default = load_profile()
        self.notes: list[str] = []
        self.actions: list[dict] = []

    def learned(self, parts: list[tuple[dict, float]], table: str, kind: str,
                name: str) -> list[tuple[dict, float]]:
        """The parts an institution learned from its data: a part equal to the built-in
        default's (the institution lacked that table or column) is not its data, and would
        only dilute the others'. All default: the default."""
        default = self.default["tables"].get(table, {}).get(kind, {}).get(name)
        learned = [part for part in parts if part[0] != default]
        return learned or parts[:1]

    def table_weights(self, table: str) -> np.ndarray:
        """Rows of `table` at each institution (from the manifests), else FTE."""
        rows = [(m or {}).get("tables", {}).get(table) for m in self.manifests]
        if all(r for r in rows):
            return np.array(rows, dtype=float)
        return self.fte_terms.copy()


def merge_profiles(paths: list[str]):
    """The pooled profile, its manifest and notes (a ProfileResult)."""
    merge = Merge(paths)
    first = merge.profiles[merge.largest]
    out = {key: value for key, value in first.items()}
    out["name"] = "consortium of " + ", ".join(p.get("name", "?") for p in merge.profiles)
    out["description"] = (f"Merged by campus-synth profile merge from {len(paths)} profiles; "
                          f"aggregates only, k={merge.k} rechecked on pooled counts.")
    out["settings"] = _merge_value([p["settings"] for p in merge.profiles], merge.fte, merge)
    # each institution's terms are its own rows (side by side on the merged calendar), so
    # terms add up; FTE is per term: the mean over them
    out["settings"]["terms"] = int(merge.terms.sum())
    out["settings"]["fte"] = round(float(merge.fte_terms.sum() / merge.terms.sum()), 1)
    out["calendar"] = merged_calendar(merge, out["settings"]["fte"])
    out["structure"] = merged_structure(merge, out["calendar"], out["settings"]["fte"])
    for key in ("institution", "engagement", "events"):
        present = [(_absent_filled(key, p[key], merge.profiles), w)
                   for p, w in zip(merge.profiles, merge.fte_terms, strict=True) if key in p]
        if present:
            out[key] = _merge_value(*zip(*present, strict=True), merge)
    if "engagement" in out:
        withdrawal_part(merge, out["engagement"], merge.table_weights("course_section_enrollment"))
        out["engagement"]["withdrawn_role_statuses"] = sorted(
            {s for p in merge.profiles for s in p["engagement"]["withdrawn_role_statuses"]})
        if "ties" in first.get("engagement", {}):
            out["engagement"]["ties"] = _merge_ties(merge)
    merge.notes.append("/calendar/terms: each institution's terms in turn (" + ", ".join(
        f"{path.name}: {n}" for path, n in zip(merge.paths, merge.terms, strict=True)) + ")")
    for key in (k for k in _LARGEST if k in first):
        merge.notes.append(f"/{key}: the largest institution's ({merge.paths[merge.largest]})")
    out["tables"] = {name: _merge_table(merge, name) for name in first["tables"]}
    for path in drop_unreachable_cells(out, REGISTRY):
        merge.notes.append(f"{path}: dropped, its given value is not among the pooled "
                           "column's values (the institutions' columns were pooled apart)")
    return ProfileResult(out, merged_manifest(merge), merge.notes)


# optional values whose absence is itself a value: a profile without gpa_enrollment_rho draws
# GPA on the student alone (0), so it weighs in at 0 rather than dropping out of the mean
# (which pooled 0.7 and 1.0 into gpa_rho 0.35 with gpa_enrollment_rho 1.0, squares over 1)
_ABSENT_MEANS = {"engagement": {"gpa_enrollment_rho": 0.0}}


def _absent_filled(key: str, section: dict, profiles: list[dict]) -> dict:
    """`section` with each of _ABSENT_MEANS[key] that another profile has filled in."""
    given = {name: value for name, value in _ABSENT_MEANS.get(key, {}).items()
             if name not in section and any(name in p.get(key, {}) for p in profiles)}
    return {**section, **given} if given else section


def _merge_ties(merge: Merge) -> dict:
    """Labels tied to scores: the largest institution's ties (their order and the cells
    they are drawn within: taken key by key from several institutions, one label could be
    drawn within another that is drawn within it), each ρ FTE-weighted over the
    institutions that tie the same label."""
    ties = [p.get("engagement", {}).get("ties", {}) for p in merge.profiles]
    out = {}
    for name, tie in ties[merge.largest].items():
        parts = [(t[name]["rho"], w) for t, w in zip(ties, merge.fte_terms, strict=True)
                 if name in t]
        rho = sum(r * w for r, w in parts) / sum(w for _, w in parts)
        out[name] = {**tie, "rho": round(float(rho), 6)}
    others = sorted({n for t in ties for n in t} - set(out))
    if others:
        merge.notes.append(f"/engagement/ties: the largest institution's ties; not tied "
                           f"there, so drawn untied: {', '.join(others)}")
    return out


def _merge_table(merge: Merge, name: str) -> dict:
    specs = [p["tables"].get(name, {"columns": {}}) for p in merge.profiles]
    weights = merge.table_weights(name)
    out = dict(specs[merge.largest])
    rows = _merge_rows(merge, name, specs, weights)
    if rows:
        out["rows"] = rows
    out["columns"] = _merge_columns(merge, name, specs, weights)
    extras = _union(specs, "extras")
    if extras:
        out["extras"] = extras
    positions, notes = merged_positions(merge, specs, weights)
    merge.notes += notes
    if positions:
        out["positions"] = positions
    links = merged_links(specs, weights)
    out.pop("links", None)
    if links:
        out["links"] = links
    undated = _merge_undated(merge, name, specs)
    out.pop("undated", None)
    if undated:
        out["undated"] = undated
    # a timestamp is a date only where it is one at every institution
    dates = [c for c in specs[merge.largest].get("dates", [])
             if all(c in s.get("dates", []) for s in specs)]
    out.pop("dates", None)
    if dates:
        out["dates"] = dates
    # scores keep a step only where every institution's scores are multiples of it
    steps = [s.get("score_step") for s in specs]
    out.pop("score_step", None)
    if None not in steps and all((step / min(steps)).is_integer() for step in steps):
        out["score_step"] = min(steps)
    totals = _merge_totals(merge, name, specs)
    if totals:
        out["totals"] = totals
    times = [(s["due_time"]["values"], w) for s, w in zip(specs, weights, strict=True)
             if "due_time" in s]
    if times:  # deadlines' times of day, pooled by each institution's activities
        out["due_time"] = {"kind": "categorical", "values": pooled_list(*map(list, zip(
            *times, strict=True)))}
    return out


def _merge_rows(merge: Merge, name: str, specs: list[dict], weights) -> dict:
    """Row counts added; children per parent (and the other per-parent shapes) as mixtures,
    each institution weighed by its parents (rows / mean children; a section's share of its
    offering's students by its sections)."""
    rows = {}
    for key in _union([s.get("rows", {}) for s in specs], None):
        parts = [(s["rows"][key], w, s["rows"]) for s, w in zip(specs, weights, strict=True)
                 if key in s.get("rows", {})]
        if key == "count":
            rows[key] = int(sum(v for v, _, _ in parts))
            continue
        learned = merge.learned([(v, w) for v, w, _ in parts], name, "rows", key)
        parts = [part for part in parts if (part[0], part[1]) in learned]
        per = "per_section" if key == "section_share" else key
        parent_weights = [w / max(mean_of(own.get(per, v)), 1e-9) for v, w, own in parts]
        # k is checked on pooled parents where they are people (the profiler's rule: a course
        # parent's counts are institutional, never suppressed for being few)
        rows[key] = mix([v for v, _, _ in parts], parent_weights, merge,
                        f"/tables/{name}/rows/{key}", _parent(name, key))
    return rows


def _parent(name: str, key: str) -> str:
    """The table whose rows a children-per-parent distribution `key` of `name` counts by."""
    if key in _ROWS_PARENT:
        return _ROWS_PARENT[key]
    parent = _TABLES[name].layout.parent if name in _TABLES else None
    if key == "per_grandparent" and parent in _TABLES:
        parent = _TABLES[parent].layout.parent
    return parent or name


def _merge_columns(merge: Merge, name: str, specs: list[dict], weights) -> dict:
    """Every column any institution profiled (its own extras too), each mixed over the
    institutions that have it; conditionals weigh each cell by the rows behind it there."""
    columns = {}
    for column in _union(specs, "columns"):
        parts = merge.learned([(s["columns"][column], w, i) for i, (s, w) in enumerate(
            zip(specs, weights, strict=True)) if column in s["columns"]],
            name, "columns", column)
        dists, shares, sources = map(list, zip(*parts, strict=True))
        columns[column] = mix(dists, shares, merge, f"/tables/{name}/columns/{column}", name,
                              sources)
    return columns


def _union(specs: list[dict], key: str | None) -> dict:
    """The entries of `key` (None: of the specs themselves) over all institutions, in the
    order first met."""
    out: dict = {}
    for spec in specs:
        for name, value in (spec if key is None else spec.get(key, {})).items():
            out.setdefault(name, value)
    return out


def _merge_undated(merge: Merge, name: str, specs: list[dict]) -> dict:
    """Responses of undated work: each institution weighed by its results of undated work
    (its results times its activities' undated share); an institution without such work
    adds nothing."""
    results = merge.table_weights(name)
    out = {}
    for column in _union(specs, "undated"):
        parts = [(s["undated"][column], undated_weight(p, w)) for s, p, w in zip(
            specs, merge.profiles, results, strict=True) if column in s.get("undated", {})]
        parts = [(d, w) for d, w in parts if w > 0] or parts[:1]
        out[column] = mix([d for d, _ in parts], [w for _, w in parts], merge,
                          f"/tables/{name}/undated/{column}", name)
    return out


def _merge_totals(merge: Merge, name: str, specs: list[dict]) -> dict:
    """Per-parent totals (a course's weights), each institution weighed by its parents; an
    institution without one had the generator's default total, 100."""
    parent = {"learner_activity_group": "course_offering"}.get(name, name)
    weights = merge.table_weights(parent)
    out = {}
    for column in sorted({c for s in specs for c in s.get("totals", {})}):
        parts = [s.get("totals", {}).get(column, {"kind": "continuous", "family": "constant",
                                                  "value": 100}) for s in specs]
        out[column] = mix(parts, list(weights), merge, f"/tables/{name}/totals/{column}", name)
    return out


def _merge_value(values: list, weights, merge: Merge):
    """Nested settings: numbers weighted, mappings key by key, anything else the heaviest's."""
    weights = [float(w) for w in weights]
    heaviest = values[int(np.argmax(weights))]
    if all(isinstance(v, dict) for v in values):
        if all("kind" in v for v in values):
            return mix(values, weights, merge, "/structure", "")
        keys = list(heaviest) + [k for v in values for k in v if k not in heaviest]
        out = {}
        for key in dict.fromkeys(keys):
            parts = [(v[key], w) for v, w in zip(values, weights, strict=True) if key in v]
            out[key] = _merge_value(*map(list, zip(*parts, strict=True)), merge)
        return out
    if all(isinstance(v, list) for v in values):
        pooled = pooled_list(values, weights)
        return heaviest if pooled is None else pooled
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        average = sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
        return int(round(average)) if all(isinstance(v, int) for v in values) else \
            round(average, 6)
    return heaviest
