"""Terraform checks of infra/checks.py: the .tf files parsed, and `check_terraform`'s rules
(nothing public, dataset access one way only, least privilege, closed buckets, every dataset
labelled synthetic). Kept apart from checks.py because the Workflows check reads the same parsed
Terraform; checks.py re-exports every name here."""

from __future__ import annotations

import re
from pathlib import Path

INFRA = Path(__file__).resolve().parent
TERRAFORM = INFRA / "terraform"

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
PROJECT_WIDE_IMPERSONATION = ("roles/iam.serviceAccountUser",
                              "roles/iam.serviceAccountTokenCreator")
PROSE = ("description", "error_message", "display_name", "title")  # text for people, not grants


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

