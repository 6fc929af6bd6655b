variable "project_id" {
  description = "The institution's own project, where its query jobs run and are billed."
  type        = string
}

variable "shared_project_id" {
  description = "The shared campus-synth project (for descriptions and the example query)."
  type        = string
}

variable "query_members" {
  description = "Who runs query jobs here: group:..., user:... or serviceAccount:... members (they also need to be in the approved group to read the shared data)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.query_members : can(regex("^(group|user|serviceAccount):[^@\\s]+@[^@\\s]+$", m))])
    error_message = "query_members: each member is group:EMAIL, user:EMAIL or serviceAccount:EMAIL (never allUsers or allAuthenticatedUsers)."
  }
}

variable "create_service_account" {
  description = "Create a service account for programmatic queries."
  type        = bool
  default     = false
}

variable "service_account_id" {
  description = "Account id of that service account."
  type        = string
  default     = "campus-synth-query"
}

variable "results_dataset_id" {
  description = "Create this dataset for query results (null: none)."
  type        = string
  default     = null
}

variable "results_expiration_days" {
  description = "Default table expiration of the results dataset (null: tables do not expire)."
  type        = number
  default     = 30
}

variable "location" {
  description = "Location of the results dataset: the shared warehouse's (a query reads and writes in one location)."
  type        = string
  default     = "US"
}
