"""Privacy: what may leave the source, and every change made so that it may.

- Only allowed columns produce values: the registry marks identifiers, names, emails and free
  text `sensitive`, and those are never profiled (checked again where values are emitted).
- k-anonymity: a count cell below k is merged into `Other` (or `NoData` for option sets that
  have it) or, for numbers, suppressed; a merged bucket still below k is dropped; a conditional
  cell below k is dropped so its rows fall back to `otherwise`.
- Continuous extremes resting on fewer than k rows are top/bottom coded to the k-th value.
- Optional ε-differential privacy: `--epsilon` is the profile's total budget, split over its
  count queries by a weight per query family, with OpenDP-calibrated Laplace noise
  reproducible per seed (see _noise.py); counts a person moves without bound are capped per
  person first (_noisy_counts.py, the caps in the manifest's `bounds`).
Every change is recorded for the privacy manifest written beside the profile.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

import numpy as np

from distributions._estimators import Cell, Summary
from distributions._noise import Budget
from pipeline.errors import DistributionsError

OTHER, NODATA = "Other", "NoData"
EMPIRICAL_QUANTILES = 21  # fewer stored quantiles than this: a fitted family instead


@dataclass(frozen=True)
class Action:
    path: str
    action: str  # suppressed | merged | top_coded | bottom_coded | noised
    reason: str
    rows_affected: int


# column names that say a column holds a person's name, contact, identifier or free text
# (institution-specific columns have no registry mark; content is checked too, in _columns)
SENSITIVE_NAMES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (kind, re.compile(pattern)) for kind, pattern in (
        ("email", r"e_?mail"),
        ("name", r"(^|_)(first|last|middle|given|family|full|preferred|maiden|sur|nick|user"
                 r"|student|person|instructor|teacher|author)_?name($|_)|^name$"),
        ("identifier", r"(^|_)(id|ids|uuid|guid|ssn|sin|nin|username|netid|emplid|pidm"
                       r"|passport|ip|ip_address|url|uri|token|password)($|_)|_id$|^id_"),
        ("identifier", r"(student|person|user|employee|staff|national|account|card|phone"
                       r"|mobile)_?(number|no|num|nr)($|_)"),
        ("contact", r"(^|_)(phone|mobile|address|street|postcode|zip|zipcode|postal|city"
                    r"|latitude|longitude)($|_)"),
        ("identifier", r"(^|_)(birth|dob|birthdate|birthday|date_of_birth)($|_)"),
        ("free_text", r"(^|_)(comment|comments|note|notes|body|message|text|feedback"
                      r"|description|remark|remarks|answer|essay|reply)($|_)"),
    ))


def sensitive_name(column: str) -> str | None:
    """The kind of sensitive value a column's name announces (email, name, identifier,
    contact, free_text), or None."""
    lowered = column.lower()
    for kind, pattern in SENSITIVE_NAMES:
        if pattern.search(lowered):
            return kind
    return None


def check_allowed(registry, table: str, column: str) -> None:
    """Refuse to emit values of a column the registry marks sensitive, or whose name (for
    a column the registry does not list) says it holds names, contacts, identifiers or
    free text. Other unknown columns are the institution's own and may be profiled."""
    entity = next((t for t in registry if t.name == table and t.schema.endswith("entity")), None)
    known = entity is not None and column in {c.name for c in entity.columns}
    kind = entity.column(column).sensitive if known else sensitive_name(column)
    if kind:
        raise DistributionsError(f"refusing to profile {table}.{column}: it holds "
                                 f"{kind} values")


class Guard:
    """Applies the privacy rules to raw aggregates and keeps the record of what it did.

    k is counted in distinct people where the estimator counted them (a `Cell`); cells of
    institutional tables (no person behind a row: terms, courses, groups) are never
    suppressed for being few; bare numbers (legacy callers) are checked as rows."""

    def __init__(self, k: int = 10, epsilon: float | None = None, seed: int = 0,
                 plan: list[str] | None = None):
        if k < 1:
            raise DistributionsError(f"k must be at least 1, not {k}")
        if epsilon is not None and not epsilon > 0:
            raise DistributionsError(f"epsilon must be positive, not {epsilon:g}")
        self.k, self.epsilon, self.seed = k, epsilon, seed
        self.budget = Budget(epsilon, seed, plan)
        self.actions: list[Action] = []

    def record(self, path: str, action: str, reason: str, rows: float) -> None:
        self.actions.append(Action(path, action, reason, int(round(rows))))

    def reserve(self, path: str) -> None:
        """Plan a person-counted query the second pass makes or not depending on noised
        counts (a conditional's cells, once a noised choice picked its column): its share is
        set aside either way, so whatever is chosen is within the budget."""
        if self.budget.planning:
            self.budget.noise(path, {}, "person", 1.0)

    # ---- counts ---------------------------------------------------------------------------
    def noise(self, path: str, counts: dict, unit: str = "row",
              sensitivity: float = 1.0) -> dict:
        """Counts with Laplace noise of this query's share of ε (clamped at 0). Cells with
        people are noised on their person weight (sensitivity 1 person); institutional cells
        are not noised (no person behind them). A query without budget releases nothing."""
        if self.epsilon is None or not counts:
            return counts
        values = list(counts.values())
        if all(isinstance(c, Cell) and c.people is None for c in values):
            return counts
        if any(isinstance(c, Cell) for c in values):
            unit, sensitivity = "person", 1.0
            raw = {v: (c.weight if c.weight is not None else c.rows) for v, c in counts.items()}
        else:
            raw = dict(counts)
        noised = self.budget.noise(path, raw, unit, sensitivity)
        if noised is None:
            self.record(path, "suppressed", "no share of epsilon was planned for this query",
                        sum(_rows(c) for c in values))
            return {}
        if self.budget.planning:
            return counts
        self.record(path, "noised", f"Laplace noise, scale {self.budget.queries[path].scale:.4g}",
                    len(noised))
        return {v: max(n, 0.0) for v, n in noised.items()}

    def noised_sums(self, path: str, sums: dict, sensitivity: float) -> dict | None:
        """Sums over people (counts, load-weighted totals) with Laplace noise of this query's
        share of ε, `sensitivity` the most one person moves them in L1 (the caller says why);
        as they are without ε, None when the plan gave the query no share."""
        if self.epsilon is None:
            return dict(sums)
        noised = self.budget.noise(path, {k: float(v) for k, v in sums.items()}, "person",
                                   sensitivity)
        if noised is not None and not self.budget.planning:
            self.record(path, "noised", f"Laplace noise, scale "
                        f"{self.budget.queries[path].scale:.4g}", len(noised))
        return noised

    def _passes(self, count) -> bool:
        """Whether a cell may be published on its own: k people (or k noised person
        weights, or k rows for a bare count); institutional cells always."""
        if not isinstance(count, Cell):
            return count >= self.k
        if count.people is None:
            return count.rows > 0
        return count.people >= self.k

    def categorical(self, path: str, counts: dict, text: bool, nodata: bool,
                    noise: bool = True) -> dict | None:
        """A categorical distribution from {value: rows or Cell}, or None if nothing
        survives; `noise=False` when the counts were noised already."""
        counts = self.noise(path, counts) if noise else counts
        kept = {v: _rows(c) for v, c in counts.items() if _rows(c) > 0 and self._passes(c)}
        small = {v: c for v, c in counts.items() if _rows(c) > 0 and not self._passes(c)}
        if small:
            kept = self._merge(path, kept, small, text, nodata)
        total = sum(kept.values())
        if total <= 0:
            return None
        ordered = sorted(kept.items(), key=lambda item: (-item[1], json.dumps(item[0])))
        return {"kind": "categorical",
                "values": [{"value": v, "p": round(c / total, 6)} for v, c in ordered]}

    def _merge(self, path: str, kept: dict, small: dict, text: bool, nodata: bool) -> dict:
        if None in small:  # a rare null is not merged into a value: it is dropped
            self.record(path, "suppressed", f"nulls: fewer than k={self.k} people",
                        _rows(small[None]))
            small = {v: c for v, c in small.items() if v is not None}
            if not small:
                return kept
        merged = sum(small.values())
        rows = _rows(merged)
        reason = f"{len(small)} value(s) with fewer than k={self.k} people"
        target = (NODATA if nodata else OTHER) if text else None
        if target is None:
            self.record(path, "suppressed", reason, rows)
            return kept
        if target not in kept and not self._passes(merged):
            self.record(path, "suppressed", reason + f"; merged {target} still below k", rows)
            return kept
        self.record(path, "merged", reason + f", merged into {target}", rows)
        return {**kept, target: kept.get(target, 0.0) + rows}

    def cell_kept(self, path: str, size) -> bool:
        """Whether a conditional cell of `size` (rows or a Cell) may be published."""
        if self._passes(size):
            return True
        self.record(path, "suppressed", f"a conditional cell with fewer than k={self.k} "
                    "people (its rows use `otherwise`)", _rows(size))
        return False

    def histogram(self, path: str, counts: dict, sensitivity: float = 1.0) -> dict:
        """Counts of counts, noised (one unit: a parent row; `sensitivity`: the most parent
        rows one person holds); the k rule is applied by the caller's distribution."""
        return self.noise(path, counts, unit="parent row", sensitivity=sensitivity)

    # ---- continuous -----------------------------------------------------------------------
    def continuous(self, path: str, s: Summary, template: dict,
                   people: bool = True) -> dict | None:
        """A continuous distribution from a summary, extremes coded to the k-th values;
        values of an institutional table (`people=False`: a section's capacity, an
        assignment's due date) have no person behind them and are published as they are."""
        if not people:
            return _continuous_spec(s, s.min, s.max, template) if s.n else None
        if s.n < 2 * self.k:
            # below 2k values the k-th smallest and largest meet or cross: coding would
            # publish a made-up constant, so the column is not published at all
            if s.n:
                self.record(path, "suppressed", f"fewer than 2k={2 * self.k} values, too few "
                            "to publish a range with k-coded extremes", s.n)
            return None
        lo, hi = s.min, s.max
        if s.low_k is not None and s.low_k > s.min:
            lo = s.low_k
            self.record(path, "bottom_coded", f"minimum rested on fewer than k={self.k} rows; "
                        f"replaced by the {self.k}-th smallest value", s.below_k)
        if s.high_k is not None and s.high_k < s.max:
            hi = s.high_k
            self.record(path, "top_coded", f"maximum rested on fewer than k={self.k} rows; "
                        f"replaced by the {self.k}-th largest value", s.above_k)
        if lo >= hi and s.min < s.max:
            self.record(path, "suppressed", f"the k={self.k}-coded extremes meet: too few "
                        "values to publish a range", s.n)
            return None
        return _continuous_spec(s, lo, hi, template)

    def manifest(self, source: str, tables: dict[str, int]) -> dict:
        """The privacy manifest: settings, table row counts and every action taken."""
        suppressed: dict[str, int] = {}
        for a in self.actions:
            if a.action in ("suppressed", "merged"):
                suppressed[a.path] = suppressed.get(a.path, 0) + 1
        return {"k": self.k, "k_counts": "distinct people (institutional tables: not applied)",
                "epsilon": self.epsilon, "seed": self.seed, "source": source,
                "tables": dict(sorted(tables.items())),
                "budget": self.budget.report(suppressed),
                # sorted: cells are met in the order the engine returns groups, which varies
                "actions": sorted((asdict(a) for a in self.actions),
                                  key=lambda a: (a["path"], a["action"], a["reason"],
                                                 a["rows_affected"]))}


def _rows(count) -> float:
    return count.rows if isinstance(count, Cell) else float(count)


def _continuous_spec(s: Summary, lo: float, hi: float, template: dict) -> dict:
    quantiles = {q: float(np.clip(v, lo, hi)) for q, v in s.quantiles.items()}
    family = template.get("family")
    if family not in ("empirical", "uniform", "constant"):
        # enough stored quantiles make the sampler's inverse CDF (piecewise linear): it
        # follows skew and several modes, where a fitted family keeps only mean and sd
        family = ("empirical" if len(quantiles) >= EMPIRICAL_QUANTILES
                  else "lognormal" if lo >= 0 and s.skew > 1 else "normal")
    if hi <= lo:
        family = "constant"
    spec = {"kind": "continuous", "family": family}
    if family == "constant":
        spec["value"] = _num(lo, s.integer)
    else:
        spec.update(mean=_num(float(np.clip(s.mean, lo, hi))), sd=_num(s.sd), min=_num(lo),
                    max=_num(hi))
    if quantiles:
        spec["median"] = _num(quantiles.get(0.5, s.mean))
        spec["quantiles"] = {str(q): _num(v) for q, v in sorted(quantiles.items())}
    if s.integer or "integer" in template:
        spec["integer"] = bool(s.integer)
    if "null_fraction" in template:
        spec["null_fraction"] = round((s.total - s.n) / s.total, 6) if s.total else 0.0
    if "unit" in template:
        spec["unit"] = template["unit"]
    return spec


def _num(value: float, integer: bool = False) -> float | int:
    if integer or float(value).is_integer():
        return int(round(value))
    return round(float(value), 6)


# ---- what the profile releases --------------------------------------------------------------
_TABLE_PARTS = ("rows", "columns", "undated", "totals", "recurring", "links", "dates",
                "score_step")
_INSTITUTIONAL_BLOCKS = ("/calendar/",)  # the terms' dates: no person behind them
# parts computed from another part's noised query and institutional counts only
_DERIVED = {"/structure/offerings_per_fte": "/settings/fte",
            "/structure/offerings_per_fte_by_term_type": "/settings/fte",
            # the seats: the sum of the noised students per section
            "/institution/section_fill_rate": "/tables/course_section_enrollment/rows/per_section"}
# parts whose every distribution is post-processing of the one query at their path (the
# continuous cells of students per section come from the noised sizes, not a summary)
_WHOLE = frozenset(("/tables/course_section_enrollment/rows/per_section",))
_TOP_PARTS = ("settings", "institution", "calendar", "engagement", "grading_scheme", "events",
              "structure", "gradebook")


def released_parts(profile: dict, default: dict, queries, people_tables: set[str]) -> dict:
    """Every part of the profile (a table's row shapes, columns, undated, totals; each
    top-level block's keys) and how it is protected: `noised` (its budget queries listed),
    `partly_noised` (its counts noised, a continuous summary in it k-coded only: the
    `otherwise` of a conditional whose cells are noised), `institutional` (no person behind a
    row), `k_rule` (k people per cell and k-coded extremes only: continuous summaries,
    calibrations, row counts) or `default` (the built-in profile's value)."""
    queries = sorted(queries)
    out = {}
    for path, part, fallback, table in _parts(profile, default):
        own = _DERIVED.get(path, path)
        charged = [q for q in queries if q == own or q.startswith((own + "/", own + "["))]
        if part == fallback:
            out[path] = {"protection": "default"}
        elif charged:
            whole = own in _WHOLE or not _unnoised_continuous(part, path, set(charged))
            out[path] = {"protection": "noised" if whole else "partly_noised",
                         "queries": charged}
        elif (table is not None and table not in people_tables) or \
                path.startswith(_INSTITUTIONAL_BLOCKS):
            out[path] = {"protection": "institutional"}
        else:
            out[path] = {"protection": "k_rule"}
    return out


def _parts(profile: dict, default: dict):
    """(path, part, the default's part, its table or None) for every released part."""
    for table, spec in sorted(profile.get("tables", {}).items()):
        fallback = default.get("tables", {}).get(table, {})
        for section in _TABLE_PARTS:
            value = spec.get(section)
            if isinstance(value, dict):
                for name, part in sorted(value.items()):
                    yield (f"/tables/{table}/{section}/{name}", part,
                           fallback.get(section, {}).get(name), table)
            elif value is not None:
                yield f"/tables/{table}/{section}", value, fallback.get(section), table
    for key in _TOP_PARTS:
        block = profile.get(key)
        if isinstance(block, dict):
            for name, part in sorted(block.items()):
                yield f"/{key}/{name}", part, default.get(key, {}).get(name), None
        elif block is not None:  # a list (the grading scheme's letters): one part
            yield f"/{key}", block, default.get(key), None


def _unnoised_continuous(part, path: str, queries: set[str]) -> bool:
    """Whether a continuous distribution in `part` was released from its summary (k-coded)
    rather than from noised counts (a query at its own path, or its conditional's `cells`
    query, or that cell's own `cells[value]`)."""
    if not isinstance(part, dict):
        return False
    if part.get("kind") == "continuous":
        return path not in queries
    if part.get("kind") != "conditional":
        return False
    for cell in part.get("cells", []):
        own = f"{path}/cells[{','.join(map(str, cell['when'].values()))}]"
        if f"{path}/cells" not in queries and _unnoised_continuous(
                cell["distribution"], own, queries):
            return True
    if path in queries and part.get("otherwise", {}).get("kind") == "continuous":
        return False  # the overall was charged at the column's path, then refined by cells
    return _unnoised_continuous(part.get("otherwise"), f"{path}/otherwise", queries)
