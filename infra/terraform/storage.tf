# Buckets: staging Parquet and Dataflow temp files, template specs, and the access logs of both.
# None is public: uniform bucket-level access, public access prevention enforced, and IAM only
# for this project's service accounts (tests/test_infra_terraform.py checks no public member).

resource "google_storage_bucket" "logs" {
  #checkov:skip=CKV_GCP_62:This is the access-log bucket itself; logging it into itself would loop.
  #checkov:skip=CKV_GCP_78:Access logs are written once and never rewritten; versioning would only keep deleted logs longer than the retention rule.
  name                        = "${var.project_id}-campus-synth-logs"
  project                     = var.project_id
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "staging" {
  name                        = "${var.project_id}-campus-synth-staging"
  project                     = var.project_id
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      age = var.staging_retention_days
    }
    action {
      type = "Delete"
    }
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 1
    }
    action {
      type = "Delete"
    }
  }
  logging {
    log_bucket = google_storage_bucket.logs.name
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "templates" {
  name                        = "${var.project_id}-campus-synth-templates"
  project                     = var.project_id
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      num_newer_versions = 5
    }
    action {
      type = "Delete"
    }
  }
  logging {
    log_bucket = google_storage_bucket.logs.name
  }
  depends_on = [google_project_service.apis]
}

# Dataflow (launcher and workers) writes the Parquet, temp and staging files; the publish job
# reads the Parquet (BigQuery load jobs run with its credentials).
resource "google_storage_bucket_iam_member" "staging" {
  for_each = {
    dataflow = ["roles/storage.objectAdmin", google_service_account.dataflow.member]
    publish  = ["roles/storage.objectViewer", google_service_account.publish.member]
  }
  bucket = google_storage_bucket.staging.name
  role   = each.value[0]
  member = each.value[1]
}

# The template spec is read by whoever launches it (the workflow) and by the launcher VM.
resource "google_storage_bucket_iam_member" "templates_readers" {
  for_each = {
    dataflow = google_service_account.dataflow.member
    workflow = google_service_account.workflow.member
  }
  bucket = google_storage_bucket.templates.name
  role   = "roles/storage.objectViewer"
  member = each.value
}

resource "google_storage_bucket_iam_member" "templates_operators" {
  for_each = toset(var.operators)
  bucket   = google_storage_bucket.templates.name
  role     = "roles/storage.objectAdmin"
  member   = each.value
}
