"""The profile: a versioned JSON document of aggregates, validated on load.

Validation reports every problem at once, each with its JSON path: first the published JSON
Schema (`profile.schema.json`), then checks a schema cannot express (probabilities that sum
to one, min ≤ mean ≤ max, conditionals whose cells name their given columns, a calendar whose
terms lead to each other).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path

import jsonschema

from distributions._errors import ProfileError

PROFILE_VERSION = 1
_PROBABILITY_TOLERANCE = 0.01


def schema_path() -> Path:
    """Where the published JSON Schema of the profile lives."""
    return Path(str(resources.files("distributions") / "profile.schema.json"))


def default_profile_path() -> Path:
    """The built-in default profile (20,000 FTE)."""
    return Path(str(resources.files("distributions") / "default_profile.json"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_path().read_text()))


def load_profile(path: str | Path | None = None) -> dict:
    """Read and validate a profile (the built-in default when `path` is None)."""
    path = Path(path) if path is not None else default_profile_path()
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(source, [("", f"cannot read the file: {_reason(error)}")]) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise ProfileError(source, [("", f"not valid JSON ({where}): {error.msg}")]) from None
    validate_profile(document, source)
    return document


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)


def validate_profile(document: object, source: str = "<profile>") -> None:
    """Raise ProfileError listing every problem of `document`, or return quietly."""
    problems = schema_problems(document)
    if not problems:
        problems = semantic_problems(document)
    if problems:
        raise ProfileError(source, problems)


def schema_problems(document: object) -> list[tuple[str, str]]:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.path)))
    return [(_pointer(error.absolute_path), _schema_message(error)) for error in errors]


def _pointer(parts) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    return error.message


def semantic_problems(document: dict) -> list[tuple[str, str]]:
    """Checks beyond the schema, on a document the schema accepted."""
    problems = _calendar_problems(document["calendar"])
    for table, spec in document["tables"].items():
        for name, dist in spec.get("rows", {}).items():
            if isinstance(dist, dict):
                problems += distribution_problems(dist, f"/tables/{table}/rows/{name}")
        for column, dist in spec["columns"].items():
            problems += distribution_problems(dist, f"/tables/{table}/columns/{column}")
    return problems


def distribution_problems(dist: dict, path: str) -> list[tuple[str, str]]:
    """Problems of one distribution (recursing into conditional cells)."""
    kind = dist["kind"]
    if kind == "categorical":
        total = sum(item["p"] for item in dist["values"])
        values = [json.dumps(item["value"]) for item in dist["values"]]
        problems = []
        if abs(total - 1.0) > _PROBABILITY_TOLERANCE:
            problems.append((f"{path}/values", f"probabilities sum to {total:.4f}, not 1"))
        if len(set(values)) != len(values):
            problems.append((f"{path}/values", "a value is listed more than once"))
        return problems
    if kind == "continuous":
        return _continuous_problems(dist, path)
    if kind == "conditional":
        return _conditional_problems(dist, path)
    return []


def _continuous_problems(dist: dict, path: str) -> list[tuple[str, str]]:
    problems = []
    lo, hi = dist.get("min"), dist.get("max")
    if lo is not None and hi is not None and lo > hi:
        problems.append((f"{path}/min", f"min {lo} is above max {hi}"))
    elif "mean" in dist and lo is not None and not lo <= dist["mean"] <= hi:
        problems.append((f"{path}/mean", f"mean {dist['mean']} lies outside [{lo}, {hi}]"))
    quantiles = sorted((float(q), v) for q, v in dist.get("quantiles", {}).items())
    if any(b[1] < a[1] for a, b in pairwise(quantiles)):
        problems.append((f"{path}/quantiles", "quantile values must not decrease"))
    return problems


def _conditional_problems(dist: dict, path: str) -> list[tuple[str, str]]:
    problems = []
    given = set(dist["given"])
    for i, cell in enumerate(dist["cells"]):
        if set(cell["when"]) != given:
            problems.append((f"{path}/cells/{i}/when",
                             f"must name exactly the given columns {sorted(given)}"))
        problems += distribution_problems(cell["distribution"], f"{path}/cells/{i}/distribution")
    return problems + distribution_problems(dist["otherwise"], f"{path}/otherwise")


def _calendar_problems(calendar: dict) -> list[tuple[str, str]]:
    term_types = calendar["term_types"]
    problems = []
    if calendar["first_term"]["term_type"] not in term_types:
        problems.append(("/calendar/first_term/term_type",
                         f"{calendar['first_term']['term_type']!r} is not one of term_types"))
    for name, spec in term_types.items():
        if spec["next"] not in term_types:
            problems.append((f"/calendar/term_types/{name}/next",
                             f"{spec['next']!r} is not one of term_types"))
        for i, item in enumerate(spec.get("breaks", [])):
            if item["week"] > spec["weeks"]:
                problems.append((f"/calendar/term_types/{name}/breaks/{i}/week",
                                 f"week {item['week']} is after the term's {spec['weeks']} weeks"))
    return problems
