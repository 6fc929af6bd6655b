"""Bad scenario files refused through the CLI (exit 2, one message per problem naming the
file and the JSON path, nothing written), and the shipped scenarios valid against the
registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.cli._scenario_run import load_scenarios

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "campus-synth: error:"
SMALL = ["--fte", "300", "--terms", "1", "--event-days", "3", "--no-marts", "--no-evaluate"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _cli(tmp_path: Path, capsys, *args) -> tuple[int, str, str]:
    code = main(["run", "--out", str(tmp_path / "out"), *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- bad scenarios ------------------------------------------------------------------------
_SURVEY = """name: bad
tables:
  survey:
    grain: {{entity: {entity}}}
    columns:
      flag: {{family: Bernoulli, p: 0.5}}
      {column}
"""
BAD = [
    ("unknown-table", "name: bad\ncolumns:\n  no_such_table: {x: {family: Constant, value: 1}}\n",
     "/columns/no_such_table", "unknown table 'no_such_table'"),
    ("unknown-entity", _SURVEY.format(entity="nobody", column="x: {expression: flag}"),
     "/tables/survey/grain/entity", "unknown table 'nobody'"),
    ("unknown-column", _SURVEY.format(entity="person", column="x: {expression: 'flagg + 1'}"),
     "/tables/survey/columns/x/expression", "unknown column 'flagg'"),
    ("unknown-parent-column", "name: bad\ncolumns:\n  course_grade:\n    x: {expression: "
     "'course_offering.no_such + 1'}\n", "/columns/course_grade/x/expression",
     "unknown column 'no_such' of course_offering"),
    ("cycle", _SURVEY.format(entity="person", column="a: {expression: b + 1}\n      "
                             "b: {expression: a * 2}"),
     "/tables/survey/columns", "derived columns form a cycle"),
    ("beta-alpha-zero", _SURVEY.format(entity="person", column="x: {family: Beta, alpha: 0, "
                                       "beta: 3}"),
     "/tables/survey/columns/x/alpha", "less than or equal to the minimum of 0"),
    ("uniform-low-high", _SURVEY.format(entity="person", column="x: {family: Uniform, low: 2, "
                                        "high: 1}"),
     "/tables/survey/columns/x/high", "Uniform needs low < high"),
    ("function-outside-whitelist", _SURVEY.format(entity="person",
                                                  column="x: {expression: \"eval('1')\"}"),
     "/tables/survey/columns/x/expression", "the function 'eval' is not allowed"),
    ("dunder-import", _SURVEY.format(entity="person",
                                     column="x: {expression: \"__import__('os').getcwd()\"}"),
     "/tables/survey/columns/x/expression", "is not allowed"),
    ("override-a-key", "name: bad\ncolumns:\n  person:\n    person_id: {family: Constant, "
     "value: 1}\n", "/columns/person/person_id", "keys cannot be overridden"),
    ("not-yaml", "name: [unclosed\n", "/", "not valid YAML"),
    ("division-by-zero", _SURVEY.format(entity="course_section_enrollment",
                                        column="x: {expression: 3 / flag}"),
     "/tables/survey/columns/x/expression", "division by zero"),
    ("active-days-feeding-engagement", "name: bad\neffects:\n  e: {target: engagement, "
     "add: active_days_per_week}\n", "/effects/e/add", "score effects only"),
    ("tool-on-a-score-effect", "name: bad\neffects:\n  e: {target: score, add: '1', "
     "tool: kaltura}\n", "/effects/e/target", "'event_rate' was expected"),
    ("unknown-tool", "name: bad\neffects:\n  e: {target: event_rate, multiply: '2', "
     "tool: [kaltura, betamax]}\n", "/effects/e/tool", "unknown tool 'betamax'"),
    ("engagement-rho-out-of-range", "name: bad\nengagement: {score_rho: 1.5}\n",
     "/engagement/score_rho", "greater than the maximum of 1"),
]


@pytest.mark.parametrize(("name", "text", "path", "message"), BAD, ids=[c[0] for c in BAD])
def test_bad_scenario_is_refused(tmp_path, capsys, name, text, path, message):
    scenario = _write(tmp_path, f"{name}.yaml", text)
    code, _, err = _cli(tmp_path, capsys, "--scenario", scenario, *SMALL)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"{PREFIX} {scenario}: {path}: "), err
    assert message in lines[-1], err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [scenario.name]  # nothing written


def test_every_problem_of_every_file_is_listed(tmp_path, capsys):
    first = _write(tmp_path, "a.yaml", _SURVEY.format(
        entity="person", column="x: {expression: 'nothing + 1'}\n      "
        "y: {expression: 'open(1)'}\n      z: {expression: 'x // 2'}"))
    second = _write(tmp_path, "b.json", json.dumps(
        {"name": "b", "columns": {"person": {"sex": {"family": "Poisson", "lambda": 2}}}}))
    code, _, err = _cli(tmp_path, capsys, "--scenario", first, "--scenario", second, *SMALL)
    assert code == 2
    problems = err.replace(PREFIX, "").strip().splitlines()
    assert [line.split(":")[0].strip() for line in problems] == [str(first)] * 3 + [
        str(second)], err
    assert "//" in err and "'open' is not allowed" in err and "unknown column 'nothing'" in err
    assert "sex holds string values; Poisson draws int64" in err
    assert not (tmp_path / "out").exists()


def test_shipped_scenarios_are_valid():
    """Every scenario shipped in distributions/scenarios validates against the registry."""
    shipped = sorted((ROOT / "distributions" / "scenarios").glob("*.yaml"))
    assert [s["name"] for s in load_scenarios([str(p) for p in shipped])] == [
        "active_days", "course_redesign", "tutoring", "wellbeing"]
