locals {
  labels = {
    app                 = "campus-synth"
    data_classification = "synthetic"
    managed_by          = "terraform"
  }
  template_object = "templates/campus-synth-generate.json"
}

resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "dataflow.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "run.googleapis.com",
    "storage.googleapis.com",
    "workflowexecutions.googleapis.com",
    "workflows.googleapis.com",
  ])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_artifact_registry_repository" "images" {
  #checkov:skip=CKV_GCP_84:Images hold only open-source code and synthetic defaults, no secrets or personal data; Google-managed encryption is enough and a CMEK key would add a key to rotate and guard for nothing to protect.
  project       = var.project_id
  location      = var.region
  repository_id = "campus-synth"
  description   = "campus-synth images: the Flex Template launcher/worker and the publish job."
  format        = "DOCKER"
  docker_config {
    immutable_tags = true
  }
  depends_on = [google_project_service.apis]
}

resource "google_artifact_registry_repository_iam_member" "readers" {
  for_each = {
    dataflow = google_service_account.dataflow.member
    publish  = google_service_account.publish.member
  }
  project    = var.project_id
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}

resource "google_artifact_registry_repository_iam_member" "operators" {
  for_each   = toset(var.operators)
  project    = var.project_id
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = each.value
}
