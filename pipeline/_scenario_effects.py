"""Scenario effects on the latent inputs the generator already computes.

An effect changes an input, not an output, so everything computed from that input stays
consistent with it:

- `engagement` (add, in standard deviations) shifts an enrollment's latent engagement, which
  drives submission, lateness, scores (Gaussian copulas) and the enrollment's event rate;
- `score` (add, in points out of 100) raises every graded result's score as a share of its
  points possible, so the course grades computed from the results rise with them;
- `event_rate` (multiply) scales an enrollment's expected events per day.

Each effect is an expression over its row (an enrollment; a result for `score`): the
scenario's columns of that row and any column of its parent rows, e.g.
`5 * course_section_enrollment.tutoring`. The generator calls `apply_effects` at the one
place each input is computed (pipeline/_rules/enrollment.py, gradebook.py,
pipeline/_events/streams.py); without a scenario it returns the input unchanged.
"""

from __future__ import annotations

import numpy as np

from distributions._scenario import EFFECTS, ScenarioError
from pipeline._engine import Engine
from pipeline._scenario_gen import evaluate

SCALE = {"score": 0.01}  # a score effect is in points out of 100; scores are shares


def apply_effects(engine: Engine, target: str, rows: np.ndarray,
                  values: np.ndarray) -> np.ndarray:
    """`values` of input `target` at `rows`, with the scenario's effects on it applied."""
    scenario = engine.profile.get("scenario")
    if not scenario:
        return values
    key, operation = EFFECTS[target]
    scale = SCALE.get(target, 1.0)
    for name, spec in scenario["document"].get("effects", {}).items():
        if spec["target"] != target:
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
