terraform {
  # plantimestamp() (access.tf) needs 1.5
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
  # state in a bucket the operator creates first (infra/README.md, step 2):
  #   terraform init -backend-config="bucket=PROJECT-tfstate" -backend-config="prefix=campus-synth"
  backend "gcs" {}
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}
