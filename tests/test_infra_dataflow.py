"""The Flex Template (infra/dataflow/) and the publish image (infra/publish/) agree with the
pipeline: metadata.json declares exactly the options of `campus-synth generate` (read from the
real argparse parser), the launcher's entry point turns template parameters into those flags,
and the images install the locked versions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra import ROOT, checks, load
from pipeline.cli._parser import command_parser
from pipeline.cli._settings import check_beam_args

DATAFLOW = ROOT / "infra" / "dataflow"
PUBLISH = ROOT / "infra" / "publish"

launcher = load("infra_dataflow_main", DATAFLOW / "main.py")
METADATA = json.loads((DATAFLOW / "metadata.json").read_text())
PARAMETERS = {p["name"]: p for p in METADATA["parameters"]}
# what Dataflow's Python launcher adds to the template parameters when it runs main.py
LAUNCHER_ARGS = ["--runner=DataflowRunner", "--project=campus-synth-shared",
                 "--region=us-central1", "--job_name=campus-synth-20261122t030000",
                 "--temp_location=gs://b/dataflow/temp", "--staging_location=gs://b/staging",
                 "--template_location=gs://b/staging/template_launches/x/job_object",
                 "--sdk_container_image=us-central1-docker.pkg.dev/p/campus-synth/df:1",
                 "--service_account_email=campus-synth-dataflow@p.iam.gserviceaccount.com",
                 "--max_num_workers=10", "--labels=run_id=20261122t030000"]


def test_metadata_declares_exactly_the_generate_options():
    problems = checks.check_template()
    assert problems == [], "\n".join(problems)


def test_the_event_parameters_are_declared():
    assert {"event_scale", "event_days"} <= set(PARAMETERS)


def test_awaited_options_name_what_adds_them():
    """An option excused from the check because the parser lacks it still is a metadata
    parameter; once the parser has it, the exception no longer applies (nothing to remove)."""
    options = checks.pipeline_options()
    for name, why in checks.AWAITED_OPTIONS.items():
        assert name in PARAMETERS, f"AWAITED_OPTIONS lists {name}, which metadata.json lacks"
        assert why
        if name in options:
            assert max(options[name].option_strings, key=len) in why


def test_out_is_required_and_a_gs_path():
    out = PARAMETERS["out"]
    assert out.get("isOptional") is False
    assert all(re.fullmatch(r, "gs://p-campus-synth-staging/runs/1") for r in out["regexes"])
    assert not any(re.fullmatch(r, "/tmp/warehouse") for r in out["regexes"])


@pytest.mark.parametrize("name", sorted(checks.pipeline_options()))
def test_each_parameter_reaches_its_flag(name):
    action = checks.pipeline_options()[name]
    value = {int: "7", float: "0.5"}.get(action.type, "gs://b/runs/1")
    args, beam_args = command_parser().parse_known_args(launcher.to_cli([f"--{name}={value}",
                                                                  *LAUNCHER_ARGS]))
    assert args.command == "generate"
    expected = action.type(value) if action.type else value
    # a repeatable flag (--scenario) collects its values; a template parameter gives one
    assert getattr(args, name) == ([expected] if action.nargs is None and
                                   type(action).__name__ == "_AppendAction" else expected)
    assert beam_args == LAUNCHER_ARGS


def test_the_launchers_beam_options_pass_the_pipelines_option_check():
    _, beam_args = command_parser().parse_known_args(launcher.to_cli(["--out=gs://b/runs/1",
                                                               *LAUNCHER_ARGS]))
    assert check_beam_args(beam_args) == LAUNCHER_ARGS


def test_a_template_runs_on_dataflow_unless_told_otherwise():
    assert launcher.to_cli(["--out=gs://b/r"]) == ["generate", "--out=gs://b/r",
                                                   "--runner=DataflowRunner"]
    assert launcher.to_cli(["--runner=FnApiRunner", "--block_rows", "5000"]) == [
        "generate", "--runner=FnApiRunner", "--block-rows", "5000"]


def test_the_launcher_runs_the_cli(monkeypatch):
    seen = []
    monkeypatch.setattr("pipeline.cli._main.main", lambda argv: seen.append(argv) or 0)
    assert launcher.main(["--fte=100", "--out=gs://b/r"]) == 0
    assert seen == [["generate", "--fte=100", "--out=gs://b/r", "--runner=DataflowRunner"]]


def test_nothing_leans_on_save_main_session():
    for path in [DATAFLOW / "main.py", *sorted((ROOT / "pipeline").rglob("*.py"))]:
        assert not re.search(r"save_main_session\s*=|--save_main_session", path.read_text()), \
            path


# ---- the images --------------------------------------------------------------------------
def _lock_version(package: str) -> str:
    match = re.search(rf"^{package}==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    assert match, f"requirements.lock pins no {package}"
    return match.group(1)


def _dockerfile(path: Path) -> str:
    return path.read_text()


def test_the_dataflow_image_matches_the_lock():
    text = _dockerfile(DATAFLOW / "Dockerfile")
    assert re.search(r"^ARG BEAM_VERSION=(\S+)$", text, re.M).group(1) == \
        _lock_version("apache-beam"), "Dockerfile BEAM_VERSION differs from requirements.lock"
    python = re.search(r'requires-python = ">=(\d+)\.(\d+)"',
                       (ROOT / "pyproject.toml").read_text()).groups()
    assert f"beam_python{python[0]}.{python[1]}_sdk" in text
    assert f"python{python[0]}{python[1]}-template-launcher-base" in text
    assert re.search(rf"^FROM python:{python[0]}\.{python[1]}-", text, re.M)


def test_the_dataflow_image_is_launcher_and_worker():
    text = _dockerfile(DATAFLOW / "Dockerfile")
    assert "/opt/google/dataflow/python_template_launcher" in text  # the launcher
    assert re.search(r'^ENTRYPOINT \["/opt/apache/beam/boot"\]$', text, re.M)  # the worker
    py_file = re.search(r"FLEX_TEMPLATE_PYTHON_PY_FILE=(\S+)", text).group(1)
    assert re.search(r"^COPY infra/dataflow/main\.py \./main\.py$", text, re.M)
    assert py_file == "/template/main.py"
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any(re.search(r"FLEX_TEMPLATE_PYTHON_(REQUIREMENTS|SETUP)_FILE=", line)
                   for line in code), "nothing is installed at launch: the image has it all"
    assert re.search(r"^RUN pip install --no-cache-dir -r requirements\.lock$", text, re.M)
    _installs_the_wheel(text)


def test_the_publish_image_runs_campus_synth_as_a_non_root_user():
    text = _dockerfile(PUBLISH / "Dockerfile")
    assert re.search(r'^ENTRYPOINT \["campus-synth"\]$', text, re.M)
    user = re.search(r"^USER (\S+)$", text, re.M)
    assert user and user.group(1) not in ("root", "0")
    assert re.search(r"^RUN pip install --no-cache-dir -r requirements\.lock$", text, re.M)
    _installs_the_wheel(text)


def _installs_the_wheel(text: str) -> None:
    """The package goes in as a built wheel with its locked dependencies (as tests/test_wheel.py
    installs it), never as `--no-deps .` of the source tree."""
    assert re.search(r"^RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist \.$", text, re.M)
    assert re.search(r"^COPY --from=wheel /dist /dist$", text, re.M)
    assert re.search(r"^RUN pip install --no-cache-dir -r requirements\.lock /dist/\*\.whl "
                     r"&& pip check$", text, re.M)
    assert "--no-deps ." not in text.replace("--wheel-dir /dist .", "")


# sources an image copies that other work is adding; each is required once it exists
AWAITED_SOURCES = {"dbt": "the dbt project, issue 5"}


@pytest.mark.parametrize("dockerfile", [DATAFLOW / "Dockerfile", PUBLISH / "Dockerfile"],
                         ids=["dataflow", "publish"])
def test_every_copied_source_exists(dockerfile):
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                if source in AWAITED_SOURCES and not (ROOT / source).exists():
                    continue
                assert (ROOT / source).exists(), f"{dockerfile.relative_to(ROOT)}: COPY " \
                                                 f"{source}: no such file in the repository"
