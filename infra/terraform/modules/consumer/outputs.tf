output "query_service_account" {
  description = "Add this email to the institution's approved group so it can read the shared datasets."
  value       = try(google_service_account.query[0].email, null)
}

output "example_query" {
  description = "A first query, run in this project against the shared warehouse."
  value       = "bq query --project_id=${var.project_id} --use_legacy_sql=false 'SELECT table_schema, table_name FROM `${var.shared_project_id}.context_store_entity.INFORMATION_SCHEMA.TABLES`'"
}
