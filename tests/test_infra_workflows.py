"""The schedule: the Workflows definition (infra/workflows/), the Terraform that deploys it, and
the optional Airflow DAG (infra/airflow/, checked by parsing it: Airflow is not installed)."""

from __future__ import annotations

import ast
import json
import re
import shutil

import pytest
import yaml

from infra import INFRA, checks
from pipeline.cli._parser import command_parser

WORKFLOW = INFRA / "workflows" / "campus_synth.yaml"
DAG = INFRA / "airflow" / "campus_synth_dag.py"

TEMPLATE_PARAMETERS = {p["name"] for p in json.loads(
    (INFRA / "dataflow" / "metadata.json").read_text())["parameters"]}
STEPS = [(next(iter(s)), next(iter(s.values())))
         for s in yaml.safe_load(WORKFLOW.read_text())["main"]["steps"]]
STEP = dict(STEPS)
ORDER = [name for name, _ in STEPS]


def _terraform():
    return checks.load_terraform()


def _resource(kind: str, name: str) -> dict:
    for _, k, n, body in checks.resources(_terraform()):
        if (k, n) == (kind, name):
            return body
    raise AssertionError(f"no {kind}.{name} in infra/terraform")


def _publish_options() -> set[str] | None:
    commands = next(a for a in command_parser()._actions
                    if a.__class__.__name__ == "_SubParsersAction")
    publish = commands.choices.get("publish")
    if publish is None:
        return None
    return {s for a in publish._actions for s in a.option_strings}


# ---- Workflows ------------------------------------------------------------------------------
def test_workflow_and_terraform_agree():
    problems = checks.check_workflow()
    assert problems == [], "\n".join(problems)


def test_a_workflow_reading_an_unset_variable_fails(tmp_path):
    bad = tmp_path / "campus_synth.yaml"
    bad.write_text(WORKFLOW.read_text().replace('sys.get_env("REGION")',
                                                'sys.get_env("DATAFLOW_REGION")'))
    problems = checks.check_workflow(bad)
    assert f"{bad}: reads DATAFLOW_REGION, which infra/terraform/jobs.tf " \
           f"google_workflows_workflow.run does not set" in problems
    assert "infra/terraform/jobs.tf: google_workflows_workflow.run sets REGION, which " \
           f"{bad} never reads" in problems


def test_a_jump_to_a_missing_step_fails(tmp_path):
    bad = tmp_path / "campus_synth.yaml"
    bad.write_text(WORKFLOW.read_text().replace("next: job_failed", "next: job_fialed"))
    assert checks.check_workflow(bad) == [
        f"{bad}: step job_state: next job_fialed is not a step"]


def test_a_variable_that_is_never_assigned_fails(tmp_path):
    bad = tmp_path / "campus_synth.yaml"
    bad.write_text(WORKFLOW.read_text().replace("jobId: ${launched.job.id}",
                                                "jobId: ${launchd.job.id}"))
    assert checks.check_workflow(bad) == [f"{bad}: step poll: launchd is never assigned"]


def test_library_calls_and_string_literals_are_not_variables():
    assert checks._undefined_variables("w", {"params": ["args"]}, [
        {"s": {"assign": [{"x": '${text.to_lower(sys.get_env("A")) + "y and z" + args.b}'}]}},
        {"t": {"return": '${x in ["p", "q"] and not false}'}}]) == []


def test_the_workflow_is_deployed_from_this_file():
    body = _resource("google_workflows_workflow", "run")
    assert "../workflows/campus_synth.yaml" in body["source_contents"]


def test_steps_run_in_order_launch_wait_approve_publish():
    assert ORDER.index("launch") < ORDER.index("poll") < ORDER.index("job_state") \
        < ORDER.index("approval") < ORDER.index("publish")
    assert STEP["launch"]["call"] == \
        "googleapis.dataflow.v1b3.projects.locations.flexTemplates.launch"
    assert STEP["poll"]["call"] == "googleapis.dataflow.v1b3.projects.locations.jobs.get"
    assert STEP["publish"]["call"] == "googleapis.run.v2.projects.locations.jobs.run"


def test_publication_follows_only_a_finished_job():
    """Only JOB_STATE_DONE leads on; failure states and the time limit raise; the loop sleeps."""
    routes = {c["next"]: c["condition"] for c in STEP["job_state"]["switch"]}
    assert routes["approval"] == '${job.currentState == "JOB_STATE_DONE"}'
    for state in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_DRAINED"):
        assert state in routes["job_failed"]
    assert "raise" in STEP["job_failed"] and "raise" in STEP["job_timed_out"]
    assert STEP["count_poll"]["next"] == "wait"
    assert ORDER[ORDER.index("job_state") + 1] == "count_poll"
    # nothing else jumps to publish or approval
    jumps = [(name, c.get("next")) for name, body in STEPS
             for c in [body, *body.get("switch", [])] if c.get("next") in ("publish", "approval")]
    assert sorted(jumps) == [("approval", "publish"), ("decide", "publish"),
                             ("job_state", "approval")]


def test_publication_can_be_held_for_approval():
    routes = STEP["approval"]["switch"]
    assert routes == [{"condition": "${require_approval}", "next": "create_callback"}]
    assert STEP["create_callback"]["call"] == "events.create_callback_endpoint"
    assert STEP["await_approval"]["call"] == "events.await_callback"
    decide = STEP["decide"]
    assert decide["switch"] == [{"condition": '${map.get(decision.http_request.body, '
                                              '"approved") == true}', "next": "publish"}]
    assert decide["next"] == "rejected" and "raise" in STEP["rejected"]
    env = _resource("google_workflows_workflow", "run")["user_env_vars"]
    assert env["REQUIRE_APPROVAL"] == "${tostring(var.require_approval)}"


def test_scheduled_parameters_are_template_parameters():
    variables = {name: body for document in _terraform().values()
                 for block in document.get("variable", []) for name, body in block.items()}
    defaults = set(variables["template_parameters"]["default"])
    assert defaults <= TEMPLATE_PARAMETERS
    assert "out" not in defaults  # set per run by the workflow
    assert STEP["set_output"]["assign"] == [{"parameters.out": "${out}"}]


def test_scheduler_starts_the_workflow():
    job = _resource("google_cloud_scheduler_job", "run")
    target = job["http_target"][0]
    assert target["uri"] == "https://workflowexecutions.googleapis.com/v1/" \
                            "${google_workflows_workflow.run.id}/executions"
    assert target["oauth_token"][0]["service_account_email"] == \
        "${google_service_account.scheduler.email}"


def _publish_flags() -> dict[str, list[str]]:
    args = STEP["publish"]["args"]["body"]["overrides"]["containerOverrides"][0]["args"]
    job = _resource("google_cloud_run_v2_job", "publish")
    tf_args = job["template"][0]["template"][0]["containers"][0]["args"]
    dag = DAG.read_text()
    return {"workflow": args, "terraform": tf_args,
            "airflow": re.findall(r'"(--[a-z-]+)"', dag.split("CloudRunExecuteJobOperator(")[-1])}


def test_publish_is_called_with_its_command():
    flags = _publish_flags()
    assert flags["workflow"][0] == "publish" and flags["terraform"][0] == "publish"
    named = {source: {f for f in args if f.startswith("--")} for source, args in flags.items()}
    assert named["terraform"] <= named["workflow"] == named["airflow"]
    assert {"--project", "--run-id", "--out"} <= named["workflow"]


def test_publish_flags_exist_in_the_cli():
    options = _publish_options()
    if options is None:
        pytest.skip("`campus-synth publish` is not in the CLI yet (issue 6); its flags are "
                    "checked as soon as it is")
    for source, args in _publish_flags().items():
        for flag in (a for a in args if a.startswith("--")):
            assert flag in options, f"{source}: campus-synth publish has no {flag}"


# ---- Airflow, parsed --------------------------------------------------------------------------
TREE = ast.parse(DAG.read_text(), filename=str(DAG))


def _assigned(name: str):
    for node in TREE.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name
                                                for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{DAG.name} assigns no {name}")


def test_the_dag_imports_only_airflow_and_the_standard_library():
    for node in ast.walk(TREE):
        if isinstance(node, ast.ImportFrom):
            root = node.module.split(".")[0]
        elif isinstance(node, ast.Import):
            root = node.names[0].name.split(".")[0]
        else:
            continue
        assert root in ("airflow", "__future__", "datetime"), f"{DAG.name} imports {root}"


def test_the_dag_defines_one_dag_with_three_tasks_in_order():
    withs = [n for n in ast.walk(TREE) if isinstance(n, ast.With)]
    assert len(withs) == 1
    call = withs[0].items[0].context_expr
    assert isinstance(call, ast.Call) and call.func.id == "DAG"
    keywords = {k.arg: k.value for k in call.keywords}
    assert isinstance(keywords["dag_id"], ast.Name) and _assigned("DAG_ID") == "campus_synth"
    assert ast.literal_eval(keywords["catchup"]) is False
    task_ids = [ast.literal_eval(k.value) for n in ast.walk(withs[0])
                if isinstance(n, ast.Call) for k in n.keywords if k.arg == "task_id"]
    assert task_ids == ["generate", "approval", "publish"]
    assert "generate >> approval >> publish" in ast.unparse(withs[0])


def test_the_dags_template_parameters_are_declared():
    assert set(_assigned("PARAMETERS")) <= TEMPLATE_PARAMETERS
    assert "wait_until_finished=True" in ast.unparse(TREE)


def test_a_dag_that_does_not_parse_is_caught(tmp_path):
    bad = tmp_path / "dag.py"
    shutil.copy(DAG, bad)
    bad.write_text(bad.read_text().replace("with DAG(", "with DAG(("))
    with pytest.raises(SyntaxError):
        ast.parse(bad.read_text(), filename=str(bad))
