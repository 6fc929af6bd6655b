"""campus-synth's scheduled run as an Airflow DAG, for institutions that already run Airflow
(Cloud Composer or their own) instead of Cloud Scheduler + Workflows. Same steps:

    generate (Flex Template on Dataflow, waits) → approval (optional) → publish (Cloud Run Job)

Written for Airflow 2.4+ with apache-airflow-providers-google (on Airflow 3, PythonSensor moves
to airflow.providers.standard.sensors.python). Settings are Airflow Variables (`campus_synth_*`, see
SETTINGS), read when a run starts. Approval: with `campus_synth_require_approval` = "true", the
run waits until someone sets the Variable `campus_synth_approved_<run id>` to "true" (or
"false" to reject); `airflow variables set campus_synth_approved_<run id> true`.

CI checks this file by parsing it (tests/test_infra_workflows.py), not by installing Airflow:
it must parse, define one DAG, and use only template parameters that metadata.json declares.
"""

from __future__ import annotations

import datetime as dt

from airflow import DAG
from airflow.exceptions import AirflowFailException
from airflow.models import Variable
from airflow.providers.google.cloud.operators.cloud_run import CloudRunExecuteJobOperator
from airflow.providers.google.cloud.operators.dataflow import DataflowStartFlexTemplateOperator
from airflow.sensors.python import PythonSensor

DAG_ID = "campus_synth"
# Airflow Variables this DAG reads, with their defaults
SETTINGS = {
    "campus_synth_project": None,             # the shared project
    "campus_synth_region": "us-central1",
    "campus_synth_bq_location": "US",
    "campus_synth_staging_bucket": None,      # Terraform output staging_bucket
    "campus_synth_template_spec": None,       # Terraform output template_spec
    "campus_synth_dataflow_image": None,      # the launcher + worker image
    "campus_synth_dataflow_service_account": None,
    "campus_synth_publish_job": "campus-synth-publish",
    "campus_synth_require_approval": "true",
}
# Flex Template parameters of a run (names from infra/dataflow/metadata.json); `out` is per run
PARAMETERS = {"fte": "20000", "seed": "0"}
RUN_ID = "{{ ts_nodash | lower }}"


def _setting(name: str) -> str:
    default = SETTINGS[name] or ""
    return "{{ var.value.get('" + name + "', " + repr(default) + ") }}"


def _approved(run_id: str) -> bool:
    if Variable.get("campus_synth_require_approval", "true").lower() != "true":
        return True
    answer = Variable.get(f"campus_synth_approved_{run_id}", "").lower()
    if answer == "false":
        raise AirflowFailException(f"campus-synth run {run_id}: publication rejected")
    return answer == "true"


OUT = "gs://" + _setting("campus_synth_staging_bucket") + "/runs/" + RUN_ID

with DAG(
    dag_id=DAG_ID,
    description="campus-synth: generate on Dataflow, approve, publish to BigQuery",
    schedule="0 3 * * 1",
    start_date=dt.datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0},
    tags=["campus-synth"],
) as dag:
    generate = DataflowStartFlexTemplateOperator(
        task_id="generate",
        project_id=_setting("campus_synth_project"),
        location=_setting("campus_synth_region"),
        wait_until_finished=True,
        body={
            "launchParameter": {
                "jobName": "campus-synth-" + RUN_ID,
                "containerSpecGcsPath": _setting("campus_synth_template_spec"),
                "parameters": {**PARAMETERS, "out": OUT},
                "environment": {
                    "serviceAccountEmail": _setting("campus_synth_dataflow_service_account"),
                    "sdkContainerImage": _setting("campus_synth_dataflow_image"),
                    "tempLocation": "gs://" + _setting("campus_synth_staging_bucket")
                    + "/dataflow/temp",
                    "additionalUserLabels": {"app": "campus-synth",
                                             "data_classification": "synthetic"},
                },
            }
        },
    )

    approval = PythonSensor(
        task_id="approval",
        python_callable=_approved,
        op_kwargs={"run_id": RUN_ID},
        mode="reschedule",
        poke_interval=600,
        timeout=3 * 24 * 3600,
    )

    publish = CloudRunExecuteJobOperator(
        task_id="publish",
        project_id=_setting("campus_synth_project"),
        region=_setting("campus_synth_region"),
        job_name=_setting("campus_synth_publish_job"),
        overrides={"container_overrides": [{"args": [
            "publish", "--project", _setting("campus_synth_project"),
            "--location", _setting("campus_synth_bq_location"),
            "--run-id", RUN_ID, "--out", OUT]}]},
        deferrable=False,
    )

    generate >> approval >> publish
