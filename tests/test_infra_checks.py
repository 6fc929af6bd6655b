"""infra/checks.py: the checked-in infra passes every policy check, and each rule fires on bad
input with a message naming the file and the entry (the Terraform rules' cases are in
test_infra_checks_terraform.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from infra import INFRA, ROOT, checks

TODAY = dt.date(2026, 11, 22)
DATASETS = {"context_store_entity", "event_store", "mart_general"}


# ---- the repository as it is -----------------------------------------------------------------
def test_access_yaml_passes():
    assert checks.check_access() == []


def test_terraform_passes():
    assert checks.check_terraform() == []


def test_checkov_skips_carry_reasons():
    assert checks.check_skips() == []


def test_command_line_reports_no_problems():
    import subprocess

    done = subprocess.run([sys.executable, str(INFRA / "checks.py")], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no problems" in done.stdout


def test_consumer_datasets_are_the_udp_names():
    assert checks.consumer_datasets() == {
        "context_store_entity", "context_store_keymap", "event_store", "mart_general",
        "mart_course_offering", "mart_course_section", "mart_taskforce", "udp_distributions"}


# ---- access.yaml rules ----------------------------------------------------------------------
GOOD = {"institution": "state-u", "group": "readers@state-u.edu",
        "datasets": ["context_store_entity", "event_store"],
        "approver": "governance@consortium.org", "ticket": "GOV-1", "expiry": "2027-01-31"}


def _access(tmp_path: Path, *entries: dict) -> Path:
    import yaml

    path = tmp_path / "access.yaml"
    path.write_text(yaml.safe_dump({"institutions": list(entries)}, sort_keys=False))
    return path


def _access_problems(tmp_path, *entries, today=TODAY):
    return checks.check_access(_access(tmp_path, *entries), DATASETS, today=today)


def test_a_good_entry_passes(tmp_path):
    assert _access_problems(tmp_path, GOOD) == []


@pytest.mark.parametrize("field", ["ticket", "approver", "expiry", "group", "datasets"])
def test_an_entry_without_a_field_fails(tmp_path, field):
    entry = {k: v for k, v in GOOD.items() if k != field}
    problems = _access_problems(tmp_path, entry)
    assert problems == [f"{tmp_path / 'access.yaml'}: entry 1 (state-u): no {field}"]


def test_an_empty_ticket_fails(tmp_path):
    problems = _access_problems(tmp_path, {**GOOD, "ticket": "  "})
    assert problems == [f"{tmp_path / 'access.yaml'}: entry 1 (state-u): no ticket"]


def test_an_entry_past_its_expiry_fails(tmp_path):
    problems = _access_problems(tmp_path, GOOD, {**GOOD, "institution": "old-u",
                                                 "expiry": "2026-11-21"})
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'access.yaml'}: entry 2 (old-u): expired on "
                                  f"2026-11-21")


def test_expiry_is_the_last_day_of_access(tmp_path):
    assert _access_problems(tmp_path, {**GOOD, "expiry": "2026-11-22"}) == []


def test_an_unquoted_yaml_date_is_read_as_a_date(tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text("institutions:\n  - institution: state-u\n    group: r@state-u.edu\n"
                    "    datasets: [event_store]\n    approver: a@b.org\n    ticket: T-1\n"
                    "    expiry: 2026-01-01\n")
    problems = checks.check_access(path, DATASETS, today=TODAY)
    assert problems and "expired on 2026-01-01" in problems[0]


def test_an_expiry_that_is_not_a_date_fails(tmp_path):
    problems = _access_problems(tmp_path, {**GOOD, "expiry": "next spring"})
    assert problems == [f"{tmp_path / 'access.yaml'}: entry 1 (state-u): expiry 'next spring' "
                        f"is not a YYYY-MM-DD date"]


@pytest.mark.parametrize("group", ["allUsers", "allAuthenticatedUsers"])
def test_a_public_group_fails(tmp_path, group):
    problems = _access_problems(tmp_path, {**GOOD, "group": group})
    assert problems == [f"{tmp_path / 'access.yaml'}: entry 1 (state-u): group {group} is "
                        f"public; grant one institution's group"]


def test_a_group_that_is_not_an_email_fails(tmp_path):
    problems = _access_problems(tmp_path, {**GOOD, "group": "domain:state-u.edu"})
    assert len(problems) == 1 and "is not a group's email" in problems[0]


def test_an_unknown_dataset_fails(tmp_path):
    problems = _access_problems(tmp_path, {**GOOD, "datasets": ["campus_synth_staging"]})
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'access.yaml'}: entry 1 (state-u): dataset "
                                  f"campus_synth_staging is not a consumer-facing dataset")


def test_an_institution_listed_twice_fails(tmp_path):
    problems = _access_problems(tmp_path, GOOD, GOOD)
    assert problems == [f"{tmp_path / 'access.yaml'}: entry 2 (state-u): institution listed "
                        f"twice"]


def test_an_unknown_field_fails(tmp_path):
    problems = _access_problems(tmp_path, {**GOOD, "role": "OWNER"})
    assert problems == [f"{tmp_path / 'access.yaml'}: entry 1 (state-u): unknown field(s) role"]


def test_a_file_without_entries_fails(tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text("groups: []\n")
    assert checks.check_access(path, DATASETS, today=TODAY) == [
        f"{path}: needs a list `institutions:` of access entries"]


def test_entries_about_to_expire_are_noted(tmp_path):
    path = _access(tmp_path, {**GOOD, "expiry": "2026-12-01"})
    assert checks.expiring(path, today=TODAY) == [f"{path}: state-u: expires on 2026-12-01"]


# ---- the template's parameters against a parser ---------------------------------------------
def _options(*flags: tuple[str, type]) -> dict:
    parser = argparse.ArgumentParser()
    for flag, kind in flags:
        parser.add_argument(flag, type=kind)
    return {a.dest: a for a in parser._actions if a.option_strings and a.dest != "help"}


def _metadata(tmp_path: Path, *names: str, **extra) -> Path:
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps({"name": "t", "parameters": [
        {"name": n, "label": n, "helpText": n, **extra.get(n, {})} for n in names]}))
    return path


def test_matching_parameters_pass(tmp_path):
    options = _options(("--fte", float), ("--block-rows", int))
    assert checks.check_template(_metadata(tmp_path, "fte", "block_rows"), options, {}) == []


def test_an_unknown_template_parameter_fails(tmp_path):
    path = _metadata(tmp_path, "fte", "colour")
    assert checks.check_template(path, _options(("--fte", float)), {}) == [
        f"{path}: parameter colour is not an option of `campus-synth generate`; the pipeline "
        f"does not know it"]


def test_a_pipeline_option_missing_from_the_template_fails(tmp_path):
    path = _metadata(tmp_path, "fte")
    assert checks.check_template(path, _options(("--fte", float), ("--block-rows", int)),
                                 {}) == [
        f"{path}: pipeline option --block-rows has no parameter block_rows"]


def test_an_awaited_option_is_excused_only_while_the_parser_lacks_it(tmp_path):
    path = _metadata(tmp_path, "fte", "event_days")
    awaited = {"event_days": "--event-days, issue 3"}
    assert checks.check_template(path, _options(("--fte", float)), awaited) == []
    assert checks.check_template(path, _options(("--fte", float), ("--event-days", int)),
                                 awaited) == []
    assert checks.check_template(_metadata(tmp_path, "fte"),
                                 _options(("--fte", float), ("--event-days", int)), awaited) \
        == [f"{path}: pipeline option --event-days has no parameter event_days"]


def test_a_regex_that_refuses_the_options_type_fails(tmp_path):
    path = _metadata(tmp_path, "fte", fte={"regexes": ["^[0-9]+$"]})
    assert checks.check_template(path, _options(("--fte", float)), {}) == [
        f"{path}: parameter fte: regex ^[0-9]+$ refuses a valid float (12.5)"]


def test_a_parameter_without_help_fails(tmp_path):
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps({"parameters": [{"name": "fte", "label": "FTE"}]}))
    assert checks.check_template(path, _options(("--fte", float)), {}) == [
        f"{path}: parameter fte has no helpText"]


# ---- the same rules where Terraform applies them --------------------------------------------
def _resource(kind: str, name: str) -> dict:
    for _, k, n, body in checks.resources(checks.load_terraform()):
        if (k, n) == (kind, name):
            return body
    raise AssertionError(f"no {kind}.{name}")


def test_plan_refuses_what_the_checker_refuses():
    grant = _resource("google_bigquery_dataset_access", "institution")
    assert grant["for_each"] == "${local.institution_grants}"
    assert grant["group_by_email"] == "${each.value.group}"
    assert grant["role"] == "${google_project_iam_custom_role.reader.name}"
    conditions = " ".join(p["condition"] for p in grant["lifecycle"][0]["precondition"])
    for guard in ("each.value.ticket", "each.value.approver", "plantimestamp()",
                  "each.value.expiry", "keys(local.consumer_datasets)"):
        assert guard in conditions, guard
    messages = [p["error_message"] for p in grant["lifecycle"][0]["precondition"]]
    assert all(m.startswith("${var.access_file}: ${each.value.institution}") for m in messages)


def test_the_reader_role_reads_and_nothing_more():
    role = _resource("google_project_iam_custom_role", "reader")
    assert set(role["permissions"]) == {
        "bigquery.datasets.get", "bigquery.tables.get", "bigquery.tables.getData",
        "bigquery.tables.list", "bigquery.routines.get", "bigquery.routines.list"}


def test_access_is_read_from_access_yaml():
    variables = {name: body for document in checks.load_terraform().values()
                 for block in document.get("variable", []) for name, body in block.items()}
    assert variables["access_file"]["default"] == "access.yaml"
    locals_ = checks._locals(checks.load_terraform())
    assert "yamldecode(file(" in locals_["access_entries"]
