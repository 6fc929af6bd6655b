"""checkov over infra/, offline (--skip-download), from its own venv (.venv-checkov, built by
tests/checkov/setup.sh: checkov's bc-python-hcl2 and python-hcl2 in .venv both install a module
named `hcl2`). Zero failed checks; every skip carries its reason in the code."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from infra import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
FRAMEWORKS = ["terraform", "dockerfile", "secrets"]

pytestmark = pytest.mark.skipif(
    not CHECKOV.exists(),
    reason="checkov's venv is missing: run `bash tests/setup.sh` (CI always builds it)")


def checkov(folder: Path) -> dict[str, dict]:
    """checkov's JSON report over folder, by framework."""
    done = subprocess.run(
        [str(CHECKOV), "-d", str(folder), "--framework", *FRAMEWORKS, "--skip-download",
         "--output", "json", "--compact"],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode in (0, 1), f"checkov failed to run ({done.returncode}):\n" \
                                      f"{done.stderr[-3000:]}"
    report = json.loads(done.stdout) if done.stdout.strip() else []
    reports = report if isinstance(report, list) else [report]
    return {r["check_type"]: r for r in reports if "check_type" in r}


def _failures(reports: dict) -> list[str]:
    return [f"{c['check_id']} {c['check_name']}: {c['resource']} in infra{c['file_path']}"
            f":{c['file_line_range'][0]}"
            for r in reports.values() for c in r["results"]["failed_checks"]]


@pytest.fixture(scope="module")
def reports():
    return checkov(ROOT / "infra")


def test_no_failed_checks(reports):
    failures = _failures(reports)
    assert failures == [], "checkov failed checks:\n" + "\n".join(failures)


def test_everything_was_scanned(reports):
    assert {"terraform", "dockerfile"} <= set(reports)
    for kind in ("terraform", "dockerfile"):
        summary = reports[kind]["summary"]
        assert summary["parsing_errors"] == 0, reports[kind]
        assert summary["resource_count"] > 0 and summary["passed"] > 0, summary
    # every Terraform file and both Dockerfiles were read
    scanned = {c["file_path"] for r in reports.values()
               for key in ("passed_checks", "skipped_checks") for c in r["results"][key]}
    assert {"/dataflow/Dockerfile", "/publish/Dockerfile", "/terraform/storage.tf",
            "/terraform/bigquery.tf", "/terraform/modules/consumer/main.tf"} <= scanned


def test_every_skip_says_why(reports):
    for report in reports.values():
        for check in report["results"]["skipped_checks"]:
            reason = check["check_result"].get("suppress_comment") or ""
            assert len(reason.split()) >= 4, f"{check['check_id']} on {check['resource']}: " \
                                             f"skipped without a reason"


def test_a_public_bucket_fails_checkov(tmp_path):
    folder = tmp_path / "infra"
    shutil.copytree(ROOT / "infra" / "terraform", folder / "terraform")
    (folder / "terraform" / "bad.tf").write_text('''
resource "google_storage_bucket" "open" {
  name     = "open"
  location = "US"
}

resource "google_storage_bucket_iam_member" "public" {
  bucket = google_storage_bucket.open.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
''')
    failed = {line.split()[0] for line in _failures(checkov(folder)) if "open" in line
              or "public" in line}
    assert {"CKV_GCP_28", "CKV_GCP_29", "CKV_GCP_114"} <= failed, failed
