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
import json
import re
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parent
TERRAFORM = INFRA / "terraform"
ACCESS = TERRAFORM / "access.yaml"
METADATA = INFRA / "dataflow" / "metadata.json"
WORKFLOW = INFRA / "workflows" / "campus_synth.yaml"

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
PROJECT_WIDE_IMPERSONATION = ("roles/iam.serviceAccountUser",
                              "roles/iam.serviceAccountTokenCreator")
PROSE = ("description", "error_message", "display_name", "title")  # text for people, not grants
ACCESS_FIELDS = ("institution", "group", "datasets", "approver", "ticket", "expiry")
EMAIL = re.compile(r"^[^@\s:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
# flags the parser does not have yet but whose template parameters are declared already, each
# with the work that adds it; an entry stops being an exception as soon as the parser has it
AWAITED_OPTIONS = {
    "event_scale": "--event-scale (float, fraction of the event volume), issue 3",
    "event_days": "--event-days (int, days of each term with events), issue 3",
}


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(INFRA.parent))
    except ValueError:
        return str(path)


# ---- Terraform, parsed ---------------------------------------------------------------------
def load_terraform(folder: Path = TERRAFORM) -> dict[Path, dict]:
    """Every .tf file under folder (modules included), parsed by python-hcl2, by path."""
    import hcl2

    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False,
                                        explicit_blocks=False)
    parsed = {}
    for path in sorted(Path(folder).rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        with open(path) as handle:
            parsed[path] = hcl2.load(handle, serialization_options=options)
    return parsed


def resources(parsed: dict[Path, dict]):
    """(path, type, name, body) for every resource block."""
    for path, document in parsed.items():
        for block in document.get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    yield path, kind, name, body


def _locals(parsed: dict[Path, dict]) -> dict:
    values = {}
    for document in parsed.values():
        for block in document.get("locals", []):
            values.update(block)
    return values


def consumer_datasets(parsed: dict[Path, dict] | None = None) -> set[str]:
    """The consumer-facing dataset ids, from `local.consumer_datasets` in the Terraform."""
    return set(_locals(parsed if parsed is not None else load_terraform()).get(
        "consumer_datasets", {}))


def _strings(value, where=()):
    """(path of keys, string) for every string inside a parsed value."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, (*where, "<key>"))
            yield from _strings(item, (*where, key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, where)


def check_terraform(folder: Path = TERRAFORM) -> list[str]:
    parsed = load_terraform(folder)
    problems = []
    # 1. nothing public, anywhere: resources, variable defaults, locals, module arguments, tfvars
    for path, document in parsed.items():
        for section, blocks in document.items():
            for keys, text in _strings(blocks):
                if keys and keys[-1] in PROSE:
                    continue
                for member in PUBLIC_MEMBERS:
                    if re.search(rf"\b{member}\b", text):
                        entry = ".".join(str(k) for k in keys[:3]) or section
                        problems.append(f"{_rel(path)}: {section} {entry}: grants {member} "
                                        f"(public access is never allowed)")
    for path in sorted(Path(folder).rglob("*.tfvars")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for member in PUBLIC_MEMBERS:
                if re.search(rf"\b{member}\b", line):
                    problems.append(f"{_rel(path)}:{number}: grants {member} "
                                    f"(public access is never allowed)")
    # 2. dataset access one way only, and never to a domain or a special group
    for path, kind, name, body in resources(parsed):
        where = f"{_rel(path)}: {kind}.{name}"
        if kind.startswith("google_bigquery_dataset_iam_"):
            problems.append(f"{where}: dataset IAM resource; dataset access is managed only by "
                            f"google_bigquery_dataset_access entries")
        if kind == "google_bigquery_dataset" and "access" in body:
            problems.append(f"{where}: `access` block; dataset access is managed only by "
                            f"google_bigquery_dataset_access entries")
        if kind == "google_bigquery_dataset_access":
            for field in ("domain", "special_group"):
                if body.get(field):
                    problems.append(f"{where}: grants a {field.replace('_', ' ')} "
                                    f"({body[field]}); grant a group per institution")
        # least privilege: no basic roles, no project-wide actAs or token minting, and project
        # IAM only additive (an authoritative binding or policy would drop others' grants)
        if kind in ("google_project_iam_binding", "google_project_iam_policy"):
            problems.append(f"{where}: authoritative project IAM; use google_project_iam_member")
        role = body.get("role")
        roles = [role] if isinstance(role, str) else []
        if isinstance(body.get("for_each"), dict):  # role/member pairs listed in for_each
            roles += [v[0] for v in body["for_each"].values()
                      if isinstance(v, list) and v and isinstance(v[0], str)]
        for name_ in roles:
            if name_ in BASIC_ROLES:
                problems.append(f"{where}: grants the basic role {name_}; grant a predefined "
                                f"or custom role")
            if kind == "google_project_iam_member" and name_ in PROJECT_WIDE_IMPERSONATION:
                problems.append(f"{where}: grants {name_} on the whole project; grant it on "
                                f"one service account")
        # 3. buckets closed
        if kind == "google_storage_bucket":
            if body.get("public_access_prevention") != "enforced":
                problems.append(f"{where}: public_access_prevention is not \"enforced\"")
            if body.get("uniform_bucket_level_access") is not True:
                problems.append(f"{where}: uniform_bucket_level_access is not true")
        # 4. every dataset labelled synthetic
        if kind == "google_bigquery_dataset":
            labels = body.get("labels")
            module_labels = _locals({p: d for p, d in parsed.items()
                                     if p.parent == path.parent}).get("labels", {})
            synthetic = (isinstance(labels, dict)
                         and labels.get("data_classification") == "synthetic") or (
                isinstance(labels, str) and "local.labels" in labels
                and module_labels.get("data_classification") == "synthetic")
            if not synthetic:
                problems.append(f"{where}: no data_classification=synthetic label")
    return problems


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


# ---- the Workflows definition and the Terraform that deploys it ----------------------------
def check_workflow(path: Path = WORKFLOW, folder: Path = TERRAFORM) -> list[str]:
    import yaml

    name = _rel(path)
    text = Path(path).read_text()
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"{name}: not YAML: {error}"]
    if not isinstance(document, dict) or "main" not in document:
        return [f"{name}: no `main` workflow"]
    steps = document["main"].get("steps", [])
    step_names = {next(iter(step)) for step in steps}
    problems = []
    for step in steps:
        body = next(iter(step.values()))
        targets = [body.get("next")] if isinstance(body, dict) else []
        if isinstance(body, dict):
            targets += [c.get("next") for c in body.get("switch", [])]
        for target in filter(None, targets):
            if target not in step_names and target not in ("end", "continue", "break"):
                problems.append(f"{name}: step {next(iter(step))}: next {target} is not a step")
    problems += _undefined_variables(name, document["main"], steps)
    used = set(re.findall(r'sys\.get_env\("([A-Z0-9_]+)"\)', text)) - {
        "GOOGLE_CLOUD_PROJECT_ID", "GOOGLE_CLOUD_PROJECT_NUMBER", "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_CLOUD_WORKFLOW_ID", "GOOGLE_CLOUD_WORKFLOW_REVISION_ID",
        "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID"}
    workflows = [(p, n, b) for p, k, n, b in resources(load_terraform(folder))
                 if k == "google_workflows_workflow"]
    if not workflows:
        return [*problems, f"{_rel(folder)}: no google_workflows_workflow deploys {name}"]
    for tf_path, resource, body in workflows:
        env = set(body.get("user_env_vars") or {})
        for missing in sorted(used - env):
            problems.append(f"{name}: reads {missing}, which {_rel(tf_path)} "
                            f"google_workflows_workflow.{resource} does not set")
        for unused in sorted(env - used):
            problems.append(f"{_rel(tf_path)}: google_workflows_workflow.{resource} sets "
                            f"{unused}, which {name} never reads")
    return problems


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_WORDS = {"true", "false", "null", "in", "and", "or", "not", "True", "False"}


def _undefined_variables(name: str, workflow: dict, steps: list) -> list[str]:
    """Names an expression reads that no parameter, assign or result defines (typos)."""
    defined = set(workflow.get("params", []))
    for step in steps:
        for _, body in step.items():
            for assign in [*(body.get("assign", []) if isinstance(body, dict) else []),
                           *[a for c in (body.get("switch", []) if isinstance(body, dict)
                                         else []) for a in c.get("assign", [])]]:
                defined.update(re.match(r"[A-Za-z_]\w*", key).group(0) for key in assign)
            if isinstance(body, dict) and body.get("result"):
                defined.add(body["result"])
    problems = []
    for step in steps:
        step_name, body = next(iter(step.items()))
        for _, text in _strings(body):
            for expression in re.findall(r"\$\{(.+)\}", text):
                bare = _STRING.sub('""', expression)
                for match in re.finditer(r"(?<![\w.])([A-Za-z_]\w*)\b(?!\s*\(|\.\w+\s*\()", bare):
                    word = match.group(1)
                    if word not in defined and word not in _WORDS:
                        problems.append(f"{name}: step {step_name}: {word} is never assigned")
    return sorted(set(problems))


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
