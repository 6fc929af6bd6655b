# Service accounts, one per job, each with only what its step needs. Project-level roles are
# listed here; bucket, repository, dataset and job grants sit beside those resources.
#
#   dataflow   Flex Template launcher and workers: run as a Dataflow worker, write the staging
#              bucket, read the image and the template.
#   publish    the Cloud Run Job: run BigQuery jobs, create its run-scoped datasets, write the
#              warehouse datasets (access.tf), read the staging Parquet.
#   workflow   Cloud Workflows: launch and watch the Dataflow job as `dataflow`, run the publish job.
#   scheduler  Cloud Scheduler: start workflow executions, nothing else.

resource "google_service_account" "dataflow" {
  project      = var.project_id
  account_id   = "campus-synth-dataflow"
  display_name = "campus-synth Dataflow launcher and workers"
}

resource "google_service_account" "publish" {
  project      = var.project_id
  account_id   = "campus-synth-publish"
  display_name = "campus-synth load, dbt and publish job"
}

resource "google_service_account" "workflow" {
  project      = var.project_id
  account_id   = "campus-synth-workflow"
  display_name = "campus-synth scheduled run (Workflows)"
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "campus-synth-scheduler"
  display_name = "campus-synth schedule (Cloud Scheduler)"
}

# Create datasets and nothing else at project level: the publish job's run-scoped staging
# datasets. roles/bigquery.user would also list and read every dataset's metadata.
resource "google_project_iam_custom_role" "dataset_creator" {
  project     = var.project_id
  role_id     = "campusSynthDatasetCreator"
  title       = "campus-synth dataset creator"
  description = "Create BigQuery datasets (the creator becomes their owner)."
  permissions = ["bigquery.datasets.create"]
}

resource "google_project_iam_member" "project" {
  for_each = {
    "dataflow-worker"     = ["roles/dataflow.worker", google_service_account.dataflow.member]
    "publish-jobs"        = ["roles/bigquery.jobUser", google_service_account.publish.member]
    "publish-datasets"    = [google_project_iam_custom_role.dataset_creator.name, google_service_account.publish.member]
    "workflow-dataflow"   = ["roles/dataflow.developer", google_service_account.workflow.member]
    "workflow-logs"       = ["roles/logging.logWriter", google_service_account.workflow.member]
    # the Cloud Run connector waits on the execution's long-running operation (run.operations.get
    # and run.executions.get); read-only, and this project holds only campus-synth's job
    "workflow-run-viewer" = ["roles/run.viewer", google_service_account.workflow.member]
    "scheduler-workflows" = ["roles/workflows.invoker", google_service_account.scheduler.member]
  }
  project = var.project_id
  role    = each.value[0]
  member  = each.value[1]
}

# Approvers answer a held run's callback (workflows.callbacks.send is in roles/workflows.invoker;
# Workflows has no per-workflow IAM, so this is project-level).
resource "google_project_iam_member" "approvers" {
  for_each = toset(var.approvers)
  project  = var.project_id
  role     = "roles/workflows.invoker"
  member   = each.value
}

# The workflow launches Dataflow jobs that run as the dataflow service account (actAs on that
# one account only, not on the project).
resource "google_service_account_iam_member" "workflow_acts_as_dataflow" {
  service_account_id = google_service_account.dataflow.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.workflow.member
}
