# The warehouse's datasets. Access to every dataset is managed one way only: by
# google_bigquery_dataset_access entries (access.tf). No dataset here has an `access` block, and
# nothing in infra/ uses google_bigquery_dataset_iam_* (tests/test_infra_terraform.py checks both).

locals {
  # consumer-facing: the names UDP gives them (../shared/DESIGN.md, Names)
  consumer_datasets = {
    context_store_entity = "UDP context store entities: terms, people, courses, sections, enrollments, assignments, submissions, grades, course content. Synthetic data."
    context_store_keymap = "UDP keymap tables: source-system identifiers of the context store entities. Synthetic data."
    event_store          = "UDP event store: Caliper learning events, table `expanded`, partitioned by event date. Synthetic data."
    mart_general         = "UDP general marts: LMS and LTI tool use, tool usage metrics. Synthetic data."
    mart_course_offering = "UDP course offering marts: status and enrollment per offering. Synthetic data."
    mart_course_section  = "UDP course section marts. Synthetic data."
    mart_taskforce       = "UDP taskforce marts: course profiles, weekly level 1 and level 2 aggregates. Synthetic data."
    udp_distributions    = "Unizin's context_store_distributions layout, computed from the synthetic context store."
  }
  staging_dataset = "campus_synth_staging"
  all_datasets    = concat(keys(local.consumer_datasets), [local.staging_dataset])
}

resource "google_bigquery_dataset" "consumer" {
  #checkov:skip=CKV_GCP_81:The warehouse is synthetic (data_classification=synthetic): no personal or institutional data to protect with a customer-managed key, and a CMEK would have to be shared with every consumer project's query jobs.
  for_each                   = local.consumer_datasets
  project                    = var.project_id
  dataset_id                 = each.key
  location                   = var.bq_location
  friendly_name              = each.key
  description                = each.value
  delete_contents_on_destroy = false
  labels                     = merge(local.labels, { tier = "consumer" })
  depends_on                 = [google_project_service.apis]
}

resource "google_bigquery_dataset" "staging" {
  #checkov:skip=CKV_GCP_81:Synthetic data only (data_classification=synthetic), and its tables expire after staging_retention_days; Google-managed encryption is enough.
  project                     = var.project_id
  dataset_id                  = local.staging_dataset
  location                    = var.bq_location
  friendly_name               = "campus-synth staging"
  description                 = "Loads and dbt builds of a run before it is published; tables expire. Not for consumers."
  default_table_expiration_ms = var.staging_retention_days * 24 * 60 * 60 * 1000
  delete_contents_on_destroy  = true
  labels                      = merge(local.labels, { tier = "staging" })
  depends_on                  = [google_project_service.apis]
}
