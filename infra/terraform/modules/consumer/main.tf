# Applied by an approved institution in ITS OWN project: what its people and service accounts
# need to run query jobs there against the shared warehouse. Reading the shared tables comes from
# the shared project (the institution's group holds the campus-synth reader role on its
# datasets); query jobs run, and are billed, here.
#
#   module "campus_synth" {
#     source            = "PATH/TO/campus-synth/infra/terraform/modules/consumer"
#     project_id        = "my-institution-analytics"
#     shared_project_id = "campus-synth-shared"
#     query_members     = ["group:campus-synth-readers@example-state.edu"]
#   }

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

locals {
  labels = {
    app                 = "campus-synth-consumer"
    data_classification = "synthetic"
    managed_by          = "terraform"
  }
}

resource "google_project_service" "bigquery" {
  project            = var.project_id
  service            = "bigquery.googleapis.com"
  disable_on_destroy = false
}

# A service account for scheduled or programmatic queries; add its email to the institution's
# group (the one in the shared project's access.yaml) so it can read the shared datasets.
resource "google_service_account" "query" {
  count        = var.create_service_account ? 1 : 0
  project      = var.project_id
  account_id   = var.service_account_id
  display_name = "campus-synth queries against ${var.shared_project_id}"
}

locals {
  # keys known at plan time (the service account's email is not, before it exists)
  query_members = merge(
    { for m in var.query_members : m => m },
    { for sa in google_service_account.query : "campus-synth-query-service-account" => sa.member },
  )
}

# Run query jobs in this project (roles/bigquery.jobUser: create jobs, nothing on any data).
resource "google_project_iam_member" "job_users" {
  for_each = local.query_members
  project  = var.project_id
  role     = "roles/bigquery.jobUser"
  member   = each.value
}

# Optional: a dataset in this project for query results and derived tables.
resource "google_bigquery_dataset" "results" {
  #checkov:skip=CKV_GCP_81:Results are derived from synthetic data only (data_classification=synthetic); an institution that stores anything else here sets its own key.
  count                      = var.results_dataset_id == null ? 0 : 1
  project                    = var.project_id
  dataset_id                 = var.results_dataset_id
  location                   = var.location
  description                = "Query results derived from the campus-synth warehouse in ${var.shared_project_id} (synthetic data)."
  default_table_expiration_ms = var.results_expiration_days == null ? null : var.results_expiration_days * 24 * 60 * 60 * 1000
  delete_contents_on_destroy = false
  labels                     = local.labels
  depends_on                 = [google_project_service.bigquery]
}

# Access to the results dataset is managed as dataset access entries only, like the shared project.
resource "google_bigquery_dataset_access" "results_writers" {
  for_each       = var.results_dataset_id == null ? {} : local.query_members
  project        = var.project_id
  dataset_id     = google_bigquery_dataset.results[0].dataset_id
  role           = "WRITER"
  group_by_email = startswith(each.value, "group:") ? trimprefix(each.value, "group:") : null
  user_by_email  = startswith(each.value, "group:") ? null : split(":", each.value)[1]
}
