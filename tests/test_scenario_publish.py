"""A scenario's folder published to BigQuery (`campus-synth publish --out OUT/NAME`): the real
google-cloud-bigquery client against the emulator (tests/bqemu), in a project of its own.

Its extension tables and derived columns are loaded (declared from the scenario's registry)
and switched to the consumer datasets like every table; each table the scenario touched
(manifest `scenario.tables`, the tables whose DuckDB comment names it) carries the scenario's
name, file and digest as labels and the whole digest at the end of its description; the
others carry only the run's labels.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipeline.cli import main

PROJECT = "scenario-project"
ENTITY = "context_store_entity"
SCENARIO = """name: survey
tables:
  weekly_survey:
    description: a weekly survey per student and term
    grain: {entity: person__academic_term, per: week}
    rows: 500
    columns:
      mood: {family: Normal, mean: 5, sd: 1}
      rested: {expression: mood > 5, type: int64}
columns:
  course_section_enrollment:
    tutoring: {family: Bernoulli, p: 0.2}
effects:
  tutoring_adds_five_points:
    target: score
    add: 5 * course_section_enrollment.tutoring
"""


@pytest.fixture(scope="module")
def published(bigquery_emulator, tmp_path_factory) -> tuple[object, Path]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    endpoint = bigquery_emulator._connection.API_BASE_URL
    tmp = tmp_path_factory.mktemp("scenario_publish")
    scenario = tmp / "survey.yaml"
    scenario.write_text(SCENARIO)
    out = tmp / "out"
    assert main(["generate", "--out", str(out), "--scenario", str(scenario), "--fte", "300",
                 "--terms", "1", "--event-days", "2"]) == 0
    assert main(["publish", "--project", PROJECT, "--out", str(out / "survey"),
                 "--api-endpoint", endpoint, "--run-id", "s1",
                 "--dbt-select", "+mart_general__tool_usage_metrics"]) == 0
    client = bigquery.Client(project=PROJECT, credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": endpoint})
    return client, out / "survey"


def test_extension_tables_and_columns_are_published(published):
    client, out = published
    manifest = json.loads((out / "campus-synth.json").read_text())
    survey = client.get_table(f"{PROJECT}.{ENTITY}.weekly_survey")
    assert survey.num_rows == manifest["tables"][f"{ENTITY}.weekly_survey"] == 500
    assert [f.name for f in survey.schema][-3:] == ["week_in_term", "mood", "rested"]
    assert survey.description.startswith("a weekly survey per student and term")
    enrollment = client.get_table(f"{PROJECT}.{ENTITY}.course_section_enrollment")
    assert enrollment.schema[-1].name == "tutoring"
    rows = list(client.query(f"select countif(tutoring = 1) as tutored, count(*) as n from "
                             f"`{PROJECT}.{ENTITY}.course_section_enrollment`").result())
    assert 0 < rows[0]["tutored"] < rows[0]["n"]


def test_touched_tables_carry_the_scenario_as_labels(published):
    client, out = published
    manifest = json.loads((out / "campus-synth.json").read_text())
    digest = hashlib.sha256(SCENARIO.encode()).hexdigest()
    touched = manifest["scenario"]["tables"]
    assert touched == [f"{ENTITY}.{t}" for t in (
        "course_grade", "course_section_enrollment", "learner_activity_result",
        "weekly_survey")] + ["event_store.expanded"]
    for name in touched:
        table = client.get_table(f"{PROJECT}.{name}")
        assert table.labels["campus_synth_run"] == "s1", name
        assert {k: table.labels.get(k) for k in ("scenario", "scenario_file",
                                                 "scenario_sha256")} == {
            "scenario": "survey", "scenario_file": "survey_yaml",
            "scenario_sha256": digest[:16]}, (name, table.labels)
        assert table.description.endswith(f"[scenario survey: survey.yaml, sha256 {digest}]")
    for name in (f"{ENTITY}.person", f"{ENTITY}.course_offering",
                 "mart_general.tool_usage_metrics"):
        labels = client.get_table(f"{PROJECT}.{name}").labels
        assert labels["campus_synth_run"] == "s1" and "scenario" not in labels, name
