# Who reads the warehouse: one Google group per approved institution, from the reviewed
# access.yaml (institution, group, datasets, approver, ticket, expiry). Each group gets the custom
# reader role on exactly the datasets its entry lists, as dataset access entries. An entry without
# a ticket or approver, past its expiry, or naming a dataset that does not exist stops the plan
# here, and infra/checks.py stops CI before that.

locals {
  access_entries = yamldecode(file("${path.module}/${var.access_file}")).institutions
  institution_grants = merge([
    for entry in local.access_entries : {
      for dataset in entry.datasets : "${entry.institution}/${dataset}" => merge(entry, { dataset = dataset })
    }
  ]...)
}

resource "google_project_iam_custom_role" "reader" {
  project     = var.project_id
  role_id     = "campusSynthReader"
  title       = "campus-synth reader"
  description = "Read the tables of a campus-synth dataset and discover them through INFORMATION_SCHEMA. No export, no snapshot, no IAM reads."
  permissions = [
    "bigquery.datasets.get",
    "bigquery.routines.get",
    "bigquery.routines.list",
    "bigquery.tables.get",
    "bigquery.tables.getData",
    "bigquery.tables.list",
  ]
}

resource "google_bigquery_dataset_access" "institution" {
  for_each       = local.institution_grants
  project        = var.project_id
  dataset_id     = each.value.dataset
  role           = google_project_iam_custom_role.reader.name
  group_by_email = each.value.group
  depends_on     = [google_bigquery_dataset.consumer]

  lifecycle {
    precondition {
      condition     = contains(keys(local.consumer_datasets), each.value.dataset)
      error_message = "${var.access_file}: ${each.value.institution} lists dataset ${each.value.dataset}, which is not a consumer-facing dataset."
    }
    precondition {
      condition     = trimspace(try(tostring(each.value.ticket), "")) != "" && trimspace(try(tostring(each.value.approver), "")) != ""
      error_message = "${var.access_file}: ${each.value.institution} has no ticket or no approver."
    }
    precondition {
      condition     = timecmp(plantimestamp(), "${each.value.expiry}T23:59:59Z") <= 0
      error_message = "${var.access_file}: ${each.value.institution} expired on ${each.value.expiry}; renew it with a new ticket or remove it."
    }
  }
}

# The publish job writes the consumer-facing datasets (tables and views of the new run) and the
# staging dataset. Run-scoped datasets it creates itself are its own (OWNER as their creator).
resource "google_bigquery_dataset_access" "publisher" {
  for_each      = toset(local.all_datasets)
  project       = var.project_id
  dataset_id    = each.value
  role          = "WRITER"
  user_by_email = google_service_account.publish.email
  depends_on    = [google_bigquery_dataset.consumer, google_bigquery_dataset.staging]
}
