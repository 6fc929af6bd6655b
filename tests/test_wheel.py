"""The CI wheel job: what a user installs is what we test.

Builds the wheel the way a release does (`python -m build`: the sdist, then the wheel from the
unpacked sdist, so nothing stale in a local build/ folder can slip in), checks that it holds
every package, module and data file of the source tree (the dbt project under
`pipeline/_dbt_project`, the JSON Schemas, the default profile, the vendored Caliper schemas),
installs it non-editable into a fresh venv with the locked dependencies (as the images in
infra/ do), and runs the installed `campus-synth` from a folder outside the source tree:
`--version`, a small `run` with the marts, `profile` on its warehouse, `caliper --validate`,
and `caliper` into a pipe its reader closes early.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
import zipfile
from pathlib import Path

import duckdb
from conftest import ROOT, run_checked

PACKAGES = ("pipeline", "distributions")
DATA_SUFFIXES = {".json", ".yaml", ".yml", ".md"}
DBT_SKIPPED = {"target", "logs", "dbt_packages"}  # dbt's own output, never shipped
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def expected_files() -> set[str]:
    """Paths the wheel must hold, from the source tree as it stands: every module and data
    file of both packages, and the dbt project as `pipeline/_dbt_project/...`."""
    expected = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and \
                    (path.suffix == ".py" or path.suffix in DATA_SUFFIXES):
                expected.add(path.relative_to(ROOT).as_posix())
    for path in (ROOT / "dbt").rglob("*"):
        relative = path.relative_to(ROOT / "dbt")
        if path.is_file() and not DBT_SKIPPED & set(relative.parts) and \
                not path.name.startswith("."):
            expected.add(f"pipeline/_dbt_project/{relative.as_posix()}")
    return expected


def test_the_wheel_holds_every_package_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(expected_files() - names)
    assert not missing, f"{wheel.name} lacks {len(missing)} file(s): {missing[:20]}"
    for required in ("pipeline/generate/_events/__init__.py",
                     "pipeline/_dbt_project/dbt_project.yml",
                     "pipeline/_dbt_project/profiles.yml", "distributions/profile.schema.json",
                     "distributions/default_profile.json",
                     "pipeline/udp/caliper_schemas/Envelope.json",
                     "pipeline/udp/caliper_schemas/LICENSE.md"):
        assert required in names, required
    # nothing of dbt-core's name, the tests or the infrastructure
    assert not [n for n in names if n.split("/")[0] in ("dbt", "tests", "infra", "build")]


def test_the_installed_package_is_the_wheel(installed, outside):
    folder, env = outside
    result = run_checked(installed / "python", "-c", "import pipeline, distributions, "
                         "pipeline.outputs._dbt as d; print(pipeline.__file__); "
                         "print(d.PROJECT_DIR)",
                  cwd=folder, env=env)
    package, project = result.stdout.split()
    venv = installed.parent
    assert Path(package).is_relative_to(venv) and Path(project).is_relative_to(venv)
    assert Path(project).name == "_dbt_project"
    result = run_checked(installed / "campus-synth", "--version", cwd=folder, env=env)
    assert result.stdout.strip() == f"campus-synth {VERSION}"


def test_run_profile_and_caliper_from_the_installed_wheel(installed, outside):
    folder, env = outside
    cli = installed / "campus-synth"
    run_checked(cli, "run", "--fte", 300, "--terms", 1, "--event-days", 3, "--out", "w",
         cwd=folder, env=env, timeout=900)
    with duckdb.connect(str(folder / "w" / "warehouse.duckdb"), read_only=True) as db:
        for mart in ("mart_course_offering.status", "mart_taskforce.level1_aggregated",
                     "mart_general.lms_tool", "udp_distributions.context_store_distributions"):
            assert db.execute(f"select count(*) from {mart}").fetchone()[0] > 0, mart
    # `run` ends by evaluating against its profile (the suite's shared warehouses skip that)
    report = json.loads((folder / "w" / "evaluation" / "report.json").read_text())
    assert report["figures"] and (folder / "w" / "evaluation" / "report.html").is_file()
    run_checked(cli, "profile", "--source", "w/warehouse.duckdb", "--out", "p.json",
         cwd=folder, env=env)
    assert (folder / "p.json").is_file() and (folder / "p.privacy.json").is_file()
    result = run_checked(cli, "caliper", "--out", "w", "--limit", 2, "--validate", cwd=folder,
                         env=env)
    assert result.stdout.count('"@context"') == 2
    # a reader that stops early (`| head -1`): a quiet end, no traceback
    reader = subprocess.Popen([str(cli), "caliper", "--out", "w", "--limit", "3000"],
                              cwd=folder, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert reader.stdout.readline().strip() == b"{"
    reader.stdout.close()
    assert reader.wait(timeout=300) in (0, 141)
    assert reader.stderr.read() == b""
