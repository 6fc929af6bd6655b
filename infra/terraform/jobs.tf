# The scheduled run: Cloud Scheduler starts the workflow (infra/workflows/campus_synth.yaml), which
# launches the Flex Template, waits for it, optionally holds for approval, and runs the publish job.

resource "google_cloud_run_v2_job" "publish" {
  name                = "campus-synth-publish"
  project             = var.project_id
  location            = var.region
  deletion_protection = false
  labels              = local.labels

  template {
    labels      = local.labels
    task_count  = 1
    parallelism = 1
    template {
      service_account = google_service_account.publish.email
      timeout         = "7200s"
      max_retries     = 0
      containers {
        image = var.publish_image
        # the workflow replaces these with the run's own (--run-id, --out)
        args = ["publish", "--project", var.project_id, "--location", var.bq_location]
        env {
          name  = "DBT_SEND_ANONYMOUS_USAGE_STATS"
          value = "false"
        }
        resources {
          limits = {
            cpu    = "2"
            memory = "8Gi"
          }
        }
      }
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_cloud_run_v2_job_iam_member" "workflow_runs_publish" {
  project  = var.project_id
  location = google_cloud_run_v2_job.publish.location
  name     = google_cloud_run_v2_job.publish.name
  role     = "roles/run.jobsExecutorWithOverrides"
  member   = google_service_account.workflow.member
}

resource "google_workflows_workflow" "run" {
  name                = "campus-synth"
  project             = var.project_id
  region              = var.region
  description         = "Generate on Dataflow, wait, optionally hold for approval, publish to BigQuery."
  service_account     = google_service_account.workflow.id
  call_log_level      = "LOG_ERRORS_ONLY"
  labels              = local.labels
  deletion_protection = false
  source_contents     = file("${path.module}/../workflows/campus_synth.yaml")

  # every sys.get_env name the definition reads (tests/test_infra_workflows.py checks the match)
  user_env_vars = {
    REGION                   = var.region
    BQ_LOCATION              = var.bq_location
    STAGING_BUCKET           = google_storage_bucket.staging.name
    TEMPLATE_SPEC            = "gs://${google_storage_bucket.templates.name}/${local.template_object}"
    TEMPLATE_PARAMETERS      = jsonencode(var.template_parameters)
    DATAFLOW_IMAGE           = var.dataflow_image
    DATAFLOW_SERVICE_ACCOUNT = google_service_account.dataflow.email
    MAX_WORKERS              = tostring(var.max_workers)
    MAX_JOB_HOURS            = tostring(var.max_job_hours)
    PUBLISH_JOB              = google_cloud_run_v2_job.publish.name
    REQUIRE_APPROVAL         = tostring(var.require_approval)
    APPROVAL_TIMEOUT_SECONDS = tostring(var.approval_timeout_seconds)
  }
  depends_on = [google_project_service.apis]
}

resource "google_cloud_scheduler_job" "run" {
  name             = "campus-synth"
  project          = var.project_id
  region           = var.region
  description      = "Start a campus-synth run (the campus-synth workflow)."
  schedule         = var.schedule
  time_zone        = var.time_zone
  attempt_deadline = "320s"

  retry_config {
    retry_count = 0 # a failed start is reported, not repeated: a run is hours of Dataflow
  }

  http_target {
    http_method = "POST"
    uri         = "https://workflowexecutions.googleapis.com/v1/${google_workflows_workflow.run.id}/executions"
    body        = base64encode(jsonencode({ argument = jsonencode({}), callLogLevel = "LOG_ERRORS_ONLY" }))
    headers = {
      "Content-Type" = "application/json"
    }
    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }
  depends_on = [google_project_service.apis]
}
