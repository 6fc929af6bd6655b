"""The Workflows check of infra/checks.py: the definition's jumps and variables, and the
environment the Terraform that deploys it sets. checks.py re-exports every name here."""

from __future__ import annotations

import re
from pathlib import Path

from _checks_terraform import INFRA, TERRAFORM, _rel, _strings, load_terraform, resources

WORKFLOW = INFRA / "workflows" / "campus_synth.yaml"


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

