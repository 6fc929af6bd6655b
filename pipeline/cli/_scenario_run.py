"""Several scenarios from one baseline in one command: which file goes to which folder.

`campus-synth run --scenario a.yaml --scenario b.yaml --out OUT` writes one warehouse per
scenario, in `OUT/<name>` (the scenario's `name`). Every file is read and validated before
anything is written; two scenarios with one name are an error. With the same seed, the runs
are counterfactual twins: each value is a hash of (seed, table, column, row), so every table
a scenario does not reach holds identical rows in every folder.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from distributions._scenario import load_scenario
from distributions._scenario_reach import catalog
from pipeline.errors import ScenarioError
from pipeline.udp._registry import REGISTRY


def load_scenarios(paths: list[str] | None) -> list[dict]:
    """Read and validate every scenario file (all problems of all files in one error)."""
    scenarios, errors, seen = [], [], {}
    for path in paths or []:
        try:
            scenario = load_scenario(path, catalog(REGISTRY))
        except ScenarioError as error:
            errors.append(error)
            continue
        if scenario["name"] in seen:
            errors.append(ScenarioError(path, [("/name", f"{scenario['name']!r} is also the "
                                                 f"name of {seen[scenario['name']]}; each "
                                                 "scenario needs its own folder")]))
        seen[scenario["name"]] = path
        scenarios.append(scenario)
    if errors:
        raise ScenarioError.merged(errors)
    return scenarios


@contextmanager
def scenario_runs(out: str, scenarios: list[dict]):
    """(scenario, output folder) of each run: OUT/<name> per scenario, OUT without one.
    A folder OUT made only to hold the scenarios' folders is removed again if every run
    failed before writing one (a failed run leaves nothing behind)."""
    if not scenarios:
        yield [(None, out)]
        return
    if "://" in str(out):  # an object-store prefix (generate): nothing to make or remove
        yield [(scenario, f"{str(out).rstrip('/')}/{scenario['name']}")
               for scenario in scenarios]
        return
    parent = Path(out).expanduser().absolute()
    created = not parent.exists()
    try:
        yield [(scenario, str(parent / scenario["name"])) for scenario in scenarios]
    finally:
        if created and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
