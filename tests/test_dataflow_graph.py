"""The job translated for Dataflow, offline, from the non-editable install the Flex Template
image uses (the wheel and the locked dependencies in a fresh venv; the `installed` fixture of
conftest, shared with tests/test_wheel.py): every block goes through one generic step, no element
carries the profile, and a fresh process (a worker) unpickles every step and sets it up from
the installed package alone. tests/dataflow_dry_run.py does the work inside that venv."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_checked

SCRIPT = Path(__file__).with_name("dataflow_dry_run.py")
FTE = 300
# a Generate step holds the job's config once (the profile, compressed) and a few names
STEP_OVERHEAD_BYTES = 8_000


@pytest.fixture(scope="module")
def translated(installed, outside) -> tuple[dict, dict]:
    """(summary of the dry-run translation, what a fresh worker process saw)."""
    folder, env = outside
    script = folder / SCRIPT.name
    shutil.copy(SCRIPT, script)  # run from outside the checkout: imports from the venv only
    python = installed / "python"
    built = run_checked(python, script, "build", "graph.pb", FTE, cwd=folder, env=env)
    ran = run_checked(python, script, "worker", "graph.pb", cwd=folder, env=env)
    return (json.loads(built.stdout.strip().splitlines()[-1]),
            json.loads(ran.stdout.strip().splitlines()[-1]))


def test_one_generic_step_generates_every_block(translated):
    """Every table's blocks and the event store's go through one shuffle into one generic
    Generate step (a small job's time went to ~480 per-table transforms); the metrics still
    count rows per table."""
    steps = translated[0]["steps"]
    assert "Warehouse/Generate" in steps
    assert not [n for n in steps if "Select[" in n or "Table[" in n]
    assert any(name.startswith("Warehouse/Spread/") for name in steps)
    assert len(steps) < 20, sorted(steps)
    assert translated[0]["environments"] == ["beam:env:docker:v1"]


def test_no_step_carries_the_profile_per_element(translated):
    summary = translated[0]
    steps, config = summary["steps"], summary["config_bytes"]
    generate = {n: s["payload"] for n, s in steps.items() if n == "Warehouse/Generate"}
    # the config (the whole profile) is pickled once into each Generate step ...
    assert max(generate.values()) < config + STEP_OVERHEAD_BYTES
    # ... and the elements are blocks: the Create step holding every block of every table
    # is smaller than one copy of it, and so is every other step
    others = {n: s["payload"] for n, s in steps.items() if n not in generate}
    assert max(others.values()) < config, max(others, key=others.get)


def test_a_worker_imports_every_step_from_the_installed_package(translated, installed):
    seen = translated[1]
    assert seen["imported_before"] == []  # the worker process starts with none of our code
    classes = set(seen["classes"].values())
    assert "pipeline.generate._beam.GenerateBlocks" in classes
    venv = installed.parent
    outside_venv = {name: path for name, path in seen["module_files"].items()
                    if path and not Path(path).is_relative_to(venv)}
    assert not outside_venv
    # set up: the engine's rules registered
    assert "pipeline.generate._rules" in seen["module_files"]
