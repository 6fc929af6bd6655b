variable "project_id" {
  description = "The shared GCP project that holds the warehouse and runs the pipeline."
  type        = string
}

variable "region" {
  description = "Region of Dataflow, Cloud Run, Workflows, Cloud Scheduler, the buckets and the image repository."
  type        = string
  default     = "us-central1"
}

variable "bq_location" {
  description = "BigQuery location of the datasets (the US multi-region loads from a bucket in any US region)."
  type        = string
  default     = "US"
}

variable "dataflow_image" {
  description = "The Flex Template launcher + worker image (infra/dataflow/Dockerfile), by tag or digest."
  type        = string
}

variable "publish_image" {
  description = "The publish job image (infra/publish/Dockerfile), by tag or digest."
  type        = string
}

variable "template_parameters" {
  description = "Flex Template parameters of a scheduled run (names from infra/dataflow/metadata.json, values as strings); `out` is set per run."
  type        = map(string)
  default = {
    fte  = "20000"
    seed = "0"
  }
}

variable "schedule" {
  description = "When Cloud Scheduler starts a run (cron syntax)."
  type        = string
  default     = "0 3 * * 1"
}

variable "time_zone" {
  description = "Time zone of the schedule."
  type        = string
  default     = "Etc/UTC"
}

variable "require_approval" {
  description = "Hold each run after generation until an approver posts to its callback URL."
  type        = bool
  default     = true
}

variable "approval_timeout_seconds" {
  description = "How long a run waits for approval before it fails (nothing published)."
  type        = number
  default     = 259200
}

variable "approvers" {
  description = "Members (group:..., user:...) who may approve a held run (workflows.callbacks.send)."
  type        = list(string)
  default     = []
}

variable "operators" {
  description = "Members who may build images and templates (Artifact Registry writer, templates bucket writer)."
  type        = list(string)
  default     = []
}

variable "max_workers" {
  description = "Upper bound of Dataflow workers for one run."
  type        = number
  default     = 10
}

variable "max_job_hours" {
  description = "A Dataflow job still running after this many hours fails the run."
  type        = number
  default     = 12
}

variable "staging_retention_days" {
  description = "Days the staging Parquet and the staging dataset's tables are kept."
  type        = number
  default     = 14
}

variable "access_file" {
  description = "The reviewed list of approved institutions, relative to this folder."
  type        = string
  default     = "access.yaml"
}
