"""A figure of the report, and the rule that turns its noise floor into a threshold.

Every comparison figure is a distance (TVD, KS, a difference of associations, ...) between
the synthetic warehouse and its reference, shown next to the **noise floor**: the same
distance between two random halves of the reference's people (rows are put in a half by a
salted hash of their person key, or of their own key for tables not about people). Halves
are smaller than the tables compared, so the floor is rescaled to the compared sizes
(sampling noise goes as sqrt(1/n1 + 1/n2)). The threshold is

    threshold = max(tolerance of the metric, K × rescaled floor),   K = 3

so a figure fails only when it is both visibly off and well outside what resampling the
same people would give. Scores shown as similarities (1 − TVD) use 1 − that threshold.
Gates have no floor: they must be exactly 1.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

K = 3.0
# the smallest distance that counts as a difference, whatever the floor
TOLERANCE = {"tvd": 0.05, "ks": 0.05, "null_share": 0.02, "cramers_v": 0.1, "spearman": 0.1,
             "children_ks": 0.05, "event_tvd": 0.05, "trend_v": 0.1}
KINDS = ("gate", "column", "pair", "cardinality", "cross_table", "event", "detection",
         "privacy")


@dataclass
class Figure:
    """One number of the report with its reference, noise floor, threshold and verdict.

    `passed` is None when the figure is not applicable (its reference is absent) or is
    informational."""

    kind: str
    table: str | None
    metric: str
    value: float | None
    floor: float | None = None
    threshold: float | None = None
    passed: bool | None = None
    column: str | None = None
    columns: list[str] | None = None
    direction: str = "lower"  # which way is better: lower | higher
    reference: str | None = None  # real | profile | None
    note: str | None = None
    plot: str | None = None  # id of the plot that shows it
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The figure as a JSON object (rounded numbers, no empty optional fields)."""
        data = asdict(self)
        for name in ("value", "floor", "threshold"):
            if isinstance(data[name], float):
                data[name] = round(data[name], 6) if math.isfinite(data[name]) else None
        data["extra"] = _finite(data["extra"])
        for name in ("note", "plot", "column", "columns", "extra"):
            if not data[name]:
                data.pop(name)
        return data


def _finite(value):
    """NaN and infinities as null, so report.json stays strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def rescale(floor: float, halves: tuple[int, int], compared: tuple[int, int]) -> float:
    """The split-half floor rescaled from the halves' sizes to the compared sizes."""
    a, b = halves
    r, s = compared
    if min(a, b, r, s) <= 0:
        return floor
    return floor * math.sqrt((1 / r + 1 / s) / (1 / a + 1 / b))


def distance_figure(kind: str, table: str | None, metric: str, value: float | None,
                    floor: float | None, tolerance_key: str, **extra) -> Figure:
    """A lower-is-better figure judged by the floor rule."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Figure(kind, table, metric, None, floor, None, None, note=extra.pop(
            "note", "no values to compare"), **extra)
    threshold = max(TOLERANCE[tolerance_key], K * (floor or 0.0))
    return Figure(kind, table, metric, float(value), floor, threshold,
                  bool(value <= threshold + 1e-12), **extra)


def similarity_figure(kind: str, table: str | None, metric: str, distance: float | None,
                      floor: float | None, tolerance_key: str, **extra) -> Figure:
    """A higher-is-better figure 1 − distance (1 − TVD), judged by the same rule."""
    figure = distance_figure(kind, table, metric, distance, floor, tolerance_key, **extra)
    figure.direction = "higher"
    for name in ("value", "floor", "threshold"):
        number = getattr(figure, name)
        if number is not None:
            setattr(figure, name, 1.0 - number)
    return figure


def not_applicable(kind: str, table: str | None, metric: str, note: str, **extra) -> Figure:
    """A figure whose reference is absent: shown, never failed."""
    return Figure(kind, table, metric, None, note=note, **extra)


def gate(table: str | None, metric: str, value: float | None, note: str | None = None,
         **extra) -> Figure:
    """A structure gate: a share that must be exactly 1."""
    passed = None if value is None else bool(value >= 1.0 - 1e-12)
    return Figure("gate", table, metric, value, None, 1.0, passed, direction="higher",
                  note=note, **extra)
