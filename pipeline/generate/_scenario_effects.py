"""Scenario effects on the latent inputs the generator already computes.

An effect changes an input, not an output, so everything computed from that input stays
consistent with it:

- `engagement` (add, in standard deviations) shifts an enrollment's latent engagement, which
  drives submission, lateness, scores (Gaussian copulas) and the enrollment's event rate;
- `score` (add, in points out of 100) raises every graded result's score as a share of its
  points possible, so the course grades computed from the results rise with them;
- `event_rate` (multiply) scales an enrollment's expected events per day;
- `withdrawal` (multiply, 0 to 1) keeps an enrollment drawn withdrawn (role_status) withdrawn
  with that chance and makes it "Enrolled" otherwise, so its withdrawal date, its missing
  work, its course grade and the end of its events all follow.

Each effect is an expression over its row (an enrollment; a result for `score`): the
scenario's columns of that row and any column of its parent rows, e.g.
`5 * course_section_enrollment.tutoring`. The generator calls `apply_effects` at the one
place each input is computed (pipeline/generate/_rules/enrollment.py, gradebook.py,
pipeline/generate/_events/streams.py); without a scenario it returns the input unchanged.
"""

from __future__ import annotations

import numpy as np

from distributions._scenario import EFFECTS
from pipeline.errors import ScenarioError
from pipeline.generate._column_values import Labels
from pipeline.generate._engine import RULES, Engine, rule
from pipeline.generate._scenario_gen import EFFECT_RULE, evaluate
from pipeline.udp._registry import REGISTRY
from pipeline.udp._schema import PROFILE, Table

SCALE = {"score": 0.01}  # a score effect is in points out of 100; scores are shares


def apply_effects(engine: Engine, target: str, rows: np.ndarray, values: np.ndarray,
                  tool: str | None = None) -> np.ndarray:
    """`values` of input `target` at `rows`, with the scenario's effects on it applied: those
    for every tool (`tool` None), or those restricted to `tool` (an event_rate effect with
    `tool:`)."""
    scenario = engine.profile.get("scenario")
    if not scenario:
        return values
    key, operation = EFFECTS[target]
    scale = SCALE.get(target, 1.0)
    for name, spec in scenario["document"].get("effects", {}).items():
        if spec["target"] != target or tool not in _tools(spec):
            continue
        path = f"/effects/{name}/{operation}"
        change = evaluate(engine, key, spec[operation], path, rows).astype(np.float64)
        if operation == "add":
            values = values + scale * change
        elif (change < 0).any():
            raise ScenarioError(scenario["source"], [(path, "a rate cannot be multiplied by "
                                                      "a negative number")])
        else:
            values = values * change
    return values


def _tools(spec: dict) -> tuple:
    """The tools an effect is restricted to ((None,) when it is not)."""
    named = spec.get("tool")
    if named is None:
        return (None,)
    return (named,) if isinstance(named, str) else tuple(named)


def effect_tools(engine: Engine, target: str, known: tuple[str, ...]) -> list[str]:
    """The tools the scenario's `target` effects are restricted to, in the profile's order;
    a tool the profile does not have is a ScenarioError naming the effect."""
    scenario = engine.profile.get("scenario")
    if not scenario:
        return []
    named = set()
    for name, spec in scenario["document"].get("effects", {}).items():
        tools = [t for t in _tools(spec) if t is not None] if spec["target"] == target \
            else []
        unknown = sorted(set(tools) - set(known))
        if unknown:
            raise ScenarioError(scenario["source"], [(
                f"/effects/{name}/tool", f"unknown tool {', '.join(map(repr, unknown))} "
                f"(the profile's tools: {', '.join(known)})")])
        named.update(tools)
    return [t for t in known if t in named]


@rule(EFFECT_RULE)
def withdrawal_column(engine: Engine, table: Table, column: str, rows: np.ndarray) -> Labels:
    """role_status as the baseline draws it (its own rule), then a `withdrawal` effect: a
    withdrawn row stays withdrawn with the effect's chance (its own seeded uniform), else
    becomes "Enrolled"."""
    baseline = REGISTRY[table.key].column(column).gen
    drawn = engine.sample(table.key, column, rows) if baseline == PROFILE else \
        RULES[baseline](engine, table, column, rows)
    keep = apply_effects(engine, "withdrawal", rows, np.ones(len(rows)))
    if (keep > 1).any():
        raise ScenarioError(engine.profile["scenario"]["source"], [(
            "/effects", "a withdrawal effect multiplies a chance: at most 1")])
    withdrawn = drawn.isin(engine.profile["engagement"]["withdrawn_role_statuses"])
    undo = withdrawn & (engine.uniform(table.key, "scenario:withdrawal", rows) >= keep)
    categories = drawn.categories if "Enrolled" in drawn.categories else \
        (*drawn.categories, "Enrolled")
    codes = drawn.codes.copy()
    codes[undo] = categories.index("Enrolled")
    return Labels(codes, tuple(categories))
