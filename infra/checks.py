"""Offline policy checks over infra/: who gets access, and that the pieces agree.

    .venv/bin/python infra/checks.py          # every check; exit 1 and one line per problem

Each check returns a list of problems, one line each, naming the file and the entry:

- `check_access`: every access.yaml entry has an institution, a group (an email, never a public
  member), datasets that exist and are consumer-facing, an approver, a ticket, and an expiry
  (YYYY-MM-DD, the last day access holds) that is not past; institutions are unique.
- `check_terraform`: nothing grants allUsers or allAuthenticatedUsers (resources, variable
  defaults, tfvars); BigQuery dataset access is managed one way only (google_bigquery_dataset_access
  entries: no dataset `access` blocks, no google_bigquery_dataset_iam_*), and no access entry
  grants a whole domain or a special group; no basic role (owner, editor, viewer), no project-wide
  actAs or token creation, no authoritative project IAM; every bucket enforces public access
  prevention and uniform bucket-level access; every dataset carries data_classification=synthetic.
- `check_template`: the Flex Template's metadata.json declares exactly the options of
  `campus-synth generate` (from the real argparse parser), no parameter the pipeline does not know.
- `check_workflow`: every environment variable the Workflows definition reads is set by Terraform
  (and nothing else is set), every jump lands on a step, every variable an expression reads is
  assigned somewhere (a typo fails).
- `check_skips`: every `checkov:skip` in infra/ carries its reason.

It needs pyyaml and python-hcl2 (the project's `test` extra); `check_template` imports the
pipeline. checkov itself runs from its own venv (tests/test_infra_checkov.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import re
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parent


def _load_helper(name: str) -> None:
    """Import infra/<name>.py by its path, under its own name, once."""
    # infra/ is not a package and checks.py runs both as a script and loaded by its path
    # (tests/infra): loading the helpers by path works either way and leaves sys.path alone
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, INFRA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


# the Terraform and Workflows checks live in helper modules (the Workflows one imports the
# Terraform one by name, so that one loads first); their names are re-exported here
_load_helper("_checks_terraform")
_load_helper("_checks_workflow")
from _checks_terraform import (  # noqa: E402, F401
    BASIC_ROLES,
    PROJECT_WIDE_IMPERSONATION,
    PROSE,
    PUBLIC_MEMBERS,
    TERRAFORM,
    _locals,
    _rel,
    _strings,
    check_terraform,
    consumer_datasets,
    load_terraform,
    resources,
)
from _checks_workflow import WORKFLOW, _undefined_variables, check_workflow  # noqa: E402, F401

ACCESS = TERRAFORM / "access.yaml"
METADATA = INFRA / "dataflow" / "metadata.json"

ACCESS_FIELDS = ("institution", "group", "datasets", "approver", "ticket", "expiry")
EMAIL = re.compile(r"^[^@\s:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
# flags the parser does not have yet but whose template parameters are declared already, each
# with the work that adds it; an entry stops being an exception as soon as the parser has it
AWAITED_OPTIONS = {
    "event_scale": "--event-scale (float, fraction of the event volume), issue 3",
    "event_days": "--event-days (int, days of each term with events), issue 3",
}


# ---- access.yaml ---------------------------------------------------------------------------
def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def check_access(path: Path = ACCESS, datasets: set[str] | None = None,
                 today: dt.date | None = None) -> list[str]:
    import yaml

    name = _rel(path)
    today = today or dt.datetime.now(dt.UTC).date()
    datasets = consumer_datasets() if datasets is None else datasets
    try:
        document = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as error:
        return [f"{name}: cannot be read: {error}"]
    entries = (document or {}).get("institutions") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return [f"{name}: needs a list `institutions:` of access entries"]
    problems, seen = [], set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"{name}: entry {index + 1}: not a mapping")
            continue
        label = f"entry {index + 1} ({entry.get('institution') or 'no institution'})"
        for field in ACCESS_FIELDS:
            value = entry.get(field)
            if value is None or (isinstance(value, (str, list)) and not value) or (
                    isinstance(value, str) and not value.strip()):
                problems.append(f"{name}: {label}: no {field}")
        unknown = sorted(set(entry) - set(ACCESS_FIELDS))
        if unknown:
            problems.append(f"{name}: {label}: unknown field(s) {', '.join(unknown)}")
        institution = entry.get("institution")
        if institution in seen:
            problems.append(f"{name}: {label}: institution listed twice")
        seen.add(institution)
        group = entry.get("group")
        if isinstance(group, str) and group.strip():
            if any(member in group for member in PUBLIC_MEMBERS):
                problems.append(f"{name}: {label}: group {group} is public; grant one "
                                f"institution's group")
            elif not EMAIL.match(group.strip()):
                problems.append(f"{name}: {label}: group {group!r} is not a group's email")
        listed = entry.get("datasets")
        if listed is not None and not isinstance(listed, list):
            problems.append(f"{name}: {label}: datasets must be a list")
        elif listed:
            for dataset in listed:
                if dataset not in datasets:
                    problems.append(f"{name}: {label}: dataset {dataset} is not a "
                                    f"consumer-facing dataset ({', '.join(sorted(datasets))})")
        if entry.get("expiry") is not None:
            expiry = _date(entry["expiry"])
            if expiry is None:
                problems.append(f"{name}: {label}: expiry {entry['expiry']!r} is not a "
                                f"YYYY-MM-DD date")
            elif expiry < today:
                problems.append(f"{name}: {label}: expired on {expiry.isoformat()} (ticket "
                                f"{entry.get('ticket') or 'none'}); renew with a new ticket "
                                f"or remove the entry")
    return problems


def expiring(path: Path = ACCESS, days: int = 30, today: dt.date | None = None) -> list[str]:
    """Entries that expire within `days`: a reminder, not a failure."""
    import yaml

    today = today or dt.datetime.now(dt.UTC).date()
    entries = (yaml.safe_load(Path(path).read_text()) or {}).get("institutions") or []
    notes = []
    for entry in entries:
        expiry = _date(entry.get("expiry")) if isinstance(entry, dict) else None
        if expiry and today <= expiry <= today + dt.timedelta(days=days):
            notes.append(f"{_rel(path)}: {entry.get('institution')}: expires on "
                         f"{expiry.isoformat()}")
    return notes


# ---- the Flex Template and the pipeline's options ------------------------------------------
def pipeline_options() -> dict[str, argparse.Action]:
    """The options of `campus-synth generate`, from the real parser, by template name (dest)."""
    from pipeline.cli._parser import command_parser

    commands = next(a for a in command_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    return {action.dest: action for action in commands.choices["generate"]._actions
            if action.option_strings and action.dest != "help"}


_NUMBER = {int: "0123", float: "12.5"}


def check_template(path: Path = METADATA, options: dict | None = None,
                   awaited: dict | None = None) -> list[str]:
    name = _rel(path)
    options = pipeline_options() if options is None else options
    awaited = AWAITED_OPTIONS if awaited is None else awaited
    try:
        metadata = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        return [f"{name}: cannot be read: {error}"]
    problems, declared = [], {}
    for index, parameter in enumerate(metadata.get("parameters", [])):
        pname = parameter.get("name")
        if not pname:
            problems.append(f"{name}: parameter {index + 1} has no name")
            continue
        if pname in declared:
            problems.append(f"{name}: parameter {pname} is declared twice")
        declared[pname] = parameter
        for field in ("label", "helpText"):
            if not parameter.get(field):
                problems.append(f"{name}: parameter {pname} has no {field}")
    for pname, parameter in declared.items():
        action = options.get(pname)
        if action is None:
            if pname not in awaited:
                problems.append(f"{name}: parameter {pname} is not an option of "
                                f"`campus-synth generate`; the pipeline does not know it")
            continue
        required = getattr(action, "required", False)
        if required and parameter.get("isOptional", False):
            problems.append(f"{name}: parameter {pname} is optional but the pipeline requires "
                            f"{max(action.option_strings, key=len)}")
        sample = _NUMBER.get(getattr(action, "type", None))
        for regex in parameter.get("regexes", []):
            if sample and not re.fullmatch(regex, sample):
                problems.append(f"{name}: parameter {pname}: regex {regex} refuses a valid "
                                f"{action.type.__name__} ({sample})")
    for dest, action in options.items():
        if dest not in declared:
            problems.append(f"{name}: pipeline option {max(action.option_strings, key=len)} "
                            f"has no parameter {dest}")
    return problems


# ---- checkov skips -------------------------------------------------------------------------
SKIP = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def check_skips(folder: Path = INFRA) -> list[str]:
    """Every `checkov:skip=ID:reason` in infra/ says why (a reason of a few words at least)."""
    problems = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or path.suffix in (".pyc",) or ".terraform" in path.parts:
            continue
        try:
            lines = path.read_text().splitlines()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(lines, 1):
            match = SKIP.search(line)
            if match and len((match.group(2) or "").split()) < 4:
                problems.append(f"{_rel(path)}:{number}: checkov skip {match.group(1)} gives "
                                f"no reason")
    return problems


def all_problems() -> list[str]:
    return [*check_access(), *check_terraform(), *check_template(), *check_workflow(),
            *check_skips()]


def main() -> int:
    sys.path.insert(0, str(INFRA.parent))  # the pipeline, for check_template
    problems = all_problems()
    for line in problems:
        print(line)
    for note in expiring():
        print(f"note: {note}")
    if not problems:
        print("infra checks: no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
