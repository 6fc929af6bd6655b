"""infra/checks.py's Terraform rules: each fires on a bad file added to a copy of
infra/terraform (or a bad skip) with a message naming the file and the entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra import INFRA, checks


# ---- Terraform rules ------------------------------------------------------------------------
def _terraform(tmp_path: Path, extra: str, name: str = "bad.tf") -> Path:
    folder = tmp_path / "terraform"
    shutil.copytree(INFRA / "terraform", folder)
    (folder / name).write_text(extra)
    return folder


@pytest.mark.parametrize("member", ["allUsers", "allAuthenticatedUsers"])
def test_a_public_bucket_member_fails(tmp_path, member):
    folder = _terraform(tmp_path, f'''
resource "google_storage_bucket_iam_member" "public" {{
  bucket = google_storage_bucket.staging.name
  role   = "roles/storage.objectViewer"
  member = "{member}"
}}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: resource google_storage_bucket_iam_member.public.member: grants "
        f"{member} (public access is never allowed)"]


def test_a_public_dataset_access_entry_fails(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_bigquery_dataset_access" "public" {
  dataset_id    = "event_store"
  role          = "READER"
  special_group = "allAuthenticatedUsers"
}
''')
    problems = checks.check_terraform(folder)
    where = f"{folder / 'bad.tf'}"
    assert f"{where}: resource google_bigquery_dataset_access.public.special_group: grants " \
           f"allAuthenticatedUsers (public access is never allowed)" in problems
    assert f"{where}: google_bigquery_dataset_access.public: grants a special group " \
           f"(allAuthenticatedUsers); grant a group per institution" in problems


def test_a_public_member_in_a_variable_default_fails(tmp_path):
    folder = _terraform(tmp_path, '''
variable "readers" {
  type    = list(string)
  default = ["allUsers"]
}
''')
    problems = checks.check_terraform(folder)
    assert len(problems) == 1 and "variable readers.default: grants allUsers" in problems[0]


def test_a_public_member_in_tfvars_fails(tmp_path):
    folder = _terraform(tmp_path, "")
    (folder / "prod.tfvars").write_text('approvers = ["allUsers"]\n')
    assert checks.check_terraform(folder) == [
        f"{folder / 'prod.tfvars'}:1: grants allUsers (public access is never allowed)"]


def test_dataset_iam_resources_are_refused(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_bigquery_dataset_iam_member" "reader" {
  dataset_id = "event_store"
  role       = "roles/bigquery.dataViewer"
  member     = "group:readers@state-u.edu"
}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: google_bigquery_dataset_iam_member.reader: dataset IAM "
        f"resource; dataset access is managed only by google_bigquery_dataset_access entries"]


def test_dataset_access_blocks_are_refused(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_bigquery_dataset" "extra" {
  dataset_id = "extra"
  labels     = { data_classification = "synthetic" }
  access {
    role           = "READER"
    group_by_email = "readers@state-u.edu"
  }
}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: google_bigquery_dataset.extra: `access` block; dataset access "
        f"is managed only by google_bigquery_dataset_access entries"]


def test_a_domain_grant_fails(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_bigquery_dataset_access" "domain" {
  dataset_id = "event_store"
  role       = "READER"
  domain     = "state-u.edu"
}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: google_bigquery_dataset_access.domain: grants a domain "
        f"(state-u.edu); grant a group per institution"]


def test_a_basic_role_fails(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_project_iam_member" "lazy" {
  for_each = { publish = ["roles/editor", google_service_account.publish.member] }
  project  = var.project_id
  role     = each.value[0]
  member   = each.value[1]
}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: google_project_iam_member.lazy: grants the basic role "
        f"roles/editor; grant a predefined or custom role"]


def test_project_wide_act_as_fails(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_project_iam_member" "act_as" {
  project = var.project_id
  role    = "roles/iam.serviceAccountUser"
  member  = google_service_account.workflow.member
}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: google_project_iam_member.act_as: grants "
        f"roles/iam.serviceAccountUser on the whole project; grant it on one service account"]


def test_authoritative_project_iam_fails(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_project_iam_binding" "jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  members = [google_service_account.publish.member]
}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: google_project_iam_binding.jobs: authoritative project IAM; "
        f"use google_project_iam_member"]


def test_an_open_bucket_fails(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_storage_bucket" "open" {
  name     = "open"
  location = "US"
}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: google_storage_bucket.open: public_access_prevention is not "
        f"\"enforced\"",
        f"{folder / 'bad.tf'}: google_storage_bucket.open: uniform_bucket_level_access is not "
        f"true"]


def test_an_unlabelled_dataset_fails(tmp_path):
    folder = _terraform(tmp_path, '''
resource "google_bigquery_dataset" "plain" {
  dataset_id = "plain"
}
''')
    assert checks.check_terraform(folder) == [
        f"{folder / 'bad.tf'}: google_bigquery_dataset.plain: no "
        f"data_classification=synthetic label"]


def test_a_skip_without_a_reason_fails(tmp_path):
    (tmp_path / "main.tf").write_text('resource "x" "y" {\n  #checkov:skip=CKV_GCP_62\n}\n'
                                      '# checkov:skip=CKV_GCP_78:no\n')
    assert checks.check_skips(tmp_path) == [
        f"{tmp_path / 'main.tf'}:2: checkov skip CKV_GCP_62 gives no reason",
        f"{tmp_path / 'main.tf'}:4: checkov skip CKV_GCP_78 gives no reason"]
