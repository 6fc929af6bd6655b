output "image_repository" {
  description = "Where to push the two images."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "template_spec" {
  description = "Where `gcloud dataflow flex-template build` writes the template spec."
  value       = "gs://${google_storage_bucket.templates.name}/${local.template_object}"
}

output "staging_bucket" {
  value = google_storage_bucket.staging.name
}

output "dataflow_service_account" {
  value = google_service_account.dataflow.email
}

output "workflow" {
  value = google_workflows_workflow.run.id
}

output "publish_job" {
  value = google_cloud_run_v2_job.publish.name
}

output "reader_role" {
  description = "The custom role each approved institution's group holds on its datasets."
  value       = google_project_iam_custom_role.reader.name
}

output "consumer_datasets" {
  value = [for d in google_bigquery_dataset.consumer : "${var.project_id}.${d.dataset_id}"]
}
