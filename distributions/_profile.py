"""The profile: a versioned JSON document of aggregates, validated on load.

Validation reports every problem at once, each with its JSON path: first the published JSON
Schema (`profile.schema.json`), then checks a schema cannot express (probabilities that sum
to one, min ≤ mean ≤ max, conditionals whose cells name their given columns, a calendar whose
terms lead to each other).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path

import jsonschema

from distributions._text import decoded, number_problem, read_bounded, undecodable
from pipeline.errors import ProfileError, shorten
from pipeline.udp._contract import value_key, when_problems

PROFILE_VERSION = 1
_PROBABILITY_TOLERANCE = 0.01
MAX_BYTES = 64 * 2**20  # the default profile is 40 kB; a consortium's a few MB
MAX_DEPTH = 48  # the default profile is 10 deep; conditionals add 4 a level


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
        data = read_bounded(path, MAX_BYTES)
        if data is None:
            raise ProfileError(source, [("", f"the file holds more than {MAX_BYTES:,} bytes; "
                                         f"a profile holds at most {MAX_BYTES:,}")])
        text = decoded(data)  # (UTF-8, or UTF-16/32 with a byte-order mark)
    except OSError as error:
        raise ProfileError(source, [("", f"cannot read the file: {_reason(error)}")]) from None
    except UnicodeDecodeError as error:
        raise ProfileError(source, [("", f"cannot read the file: {undecodable(error)}")]
                           ) from None
    document = parse_profile(text, source)
    validate_profile(document, source)
    return document


def parse_profile(text: str, source: str = "<profile>") -> object:
    """Parse profile JSON; a non-finite number (NaN, Infinity, 1e999) is kept as a marker
    that validation reports at its JSON path (Python's json would accept it as a float)."""
    try:
        return json.loads(text, parse_constant=NonFinite, parse_float=_finite_float,
                          object_pairs_hook=_unique_keys)
    except _DuplicateKey as error:
        raise ProfileError(source, [("", f"the key {shorten(error.args[0], 80)!r} appears "
                                     "twice in one object (JSON would keep only the last)")]
                           ) from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise ProfileError(source, [("", f"not valid JSON ({where}): {error.msg}")]) from None
    except RecursionError:
        raise ProfileError(source, [("", f"nested deeper than {MAX_DEPTH} levels")]) from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise ProfileError(source, [("", f"not valid JSON: {number_problem(error)}")]
                           ) from None


class _DuplicateKey(ValueError):
    """A JSON object naming one key twice: json keeps the last silently."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return document


class NonFinite(str):
    """A NaN or infinite number where the profile needs a finite one."""


def _finite_float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)


def validate_profile(document: object, source: str = "<profile>") -> None:
    """Raise ProfileError listing every problem of `document`, or return quietly."""
    problems = structure_problems(document)
    if not problems:
        problems = schema_problems(document)
    if not problems:
        problems = semantic_problems(document)
    if problems:
        raise ProfileError(source, problems)


def structure_problems(document: object) -> list[tuple[str, str]]:
    """Depth and non-finite numbers, found without recursion (so a deeply nested document
    never reaches jsonschema's recursive descent)."""
    problems: list[tuple[str, str]] = []
    stack: list[tuple[object, tuple, int]] = [(document, (), 0)]
    while stack:
        node, parts, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [(_pointer(parts[:MAX_DEPTH]), f"nested deeper than {MAX_DEPTH} levels")]
        if isinstance(node, NonFinite) or (isinstance(node, float) and not math.isfinite(node)):
            problems.append((_pointer(parts), f"{node} is not a finite number"))
        elif isinstance(node, dict):
            stack += [(v, (*parts, k), depth + 1) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(v, (*parts, i), depth + 1) for i, v in enumerate(node)]
    return sorted(problems)


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
            problems += distribution_problems(dist, f"/tables/{table}/columns/{column}",
                                              spec["columns"])
    return problems


def distribution_problems(dist: dict, path: str,
                          siblings: dict | None = None) -> list[tuple[str, str]]:
    """Problems of one distribution (recursing into conditional cells); `siblings` are the
    distributions of its table's columns, which a conditional's `when` values must exist in."""
    kind = dist["kind"]
    if kind == "categorical":
        return _share_problems(dist["values"], f"{path}/values") + (
            [(f"{path}/values", "a value is listed more than once")]
            if len(values := [value_key(item["value"]) for item in dist["values"]])
            != len(set(values)) else [])
    if kind == "continuous":
        return _continuous_problems(dist, path)
    if kind == "conditional":
        return _conditional_problems(dist, path, siblings or {})
    return []


def _share_problems(items: list[dict], path: str) -> list[tuple[str, str]]:
    total = sum(item["p"] for item in items)
    if abs(total - 1.0) > _PROBABILITY_TOLERANCE:
        return [(path, f"probabilities sum to {total:.4f}, not 1")]
    return []


def _continuous_problems(dist: dict, path: str) -> list[tuple[str, str]]:
    problems = []
    lo, hi = dist.get("min"), dist.get("max")
    if lo is not None and hi is not None and lo > hi:
        problems.append((f"{path}/min", f"min {lo} is above max {hi}"))
    elif "mean" in dist and not (lo is None or lo <= dist["mean"]) or not (
            "mean" not in dist or hi is None or dist["mean"] <= hi):
        problems.append((f"{path}/mean", f"mean {dist['mean']} lies outside [{lo}, {hi}]"))
    quantiles = sorted((float(q), v) for q, v in dist.get("quantiles", {}).items())
    if len({q for q, _ in quantiles}) < len(quantiles):  # ("0.5" and "0.50": one would win)
        problems.append((f"{path}/quantiles", "a quantile level is given twice, in two "
                         "spellings (such as 0.5 and 0.50)"))
    elif any(b[1] < a[1] for a, b in pairwise(quantiles)):
        problems.append((f"{path}/quantiles", "quantile values must not decrease"))
    elif quantiles and lo is not None and hi is not None and lo <= hi and not (
            lo - 1e-9 <= quantiles[0][1] and quantiles[-1][1] <= hi + 1e-9):
        problems.append((f"{path}/quantiles", f"quantile values must lie in [min, max] = "
                         f"[{lo}, {hi}]"))
    if dist.get("integer") and lo is not None and hi is not None and lo <= hi \
            and math.ceil(lo) > math.floor(hi):
        problems.append((f"{path}/min", f"no integer lies in [min, max] = [{lo}, {hi}]"))
    return problems


def _conditional_problems(dist: dict, path: str, siblings: dict) -> list[tuple[str, str]]:
    problems = []
    given = set(dist["given"])
    seen: dict[str, int] = {}
    for i, cell in enumerate(dist["cells"]):
        if set(cell["when"]) != given:
            problems.append((f"{path}/cells/{i}/when",
                             f"must name exactly the given columns {sorted(given)}"))
        problems += when_problems(cell["when"], f"{path}/cells/{i}/when",
                                  {g: siblings[g] for g in given if g in siblings})
        key = json.dumps(cell["when"], sort_keys=True)
        if key in seen:
            problems.append((f"{path}/cells/{i}/when", f"the same as cells/{seen[key]}/when"))
        seen.setdefault(key, i)
        problems += distribution_problems(cell["distribution"],
                                          f"{path}/cells/{i}/distribution", siblings)
    return problems + distribution_problems(dist["otherwise"], f"{path}/otherwise", siblings)


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
        for kind in ("breaks", "exams"):
            for i, item in enumerate(spec.get(kind, [])):
                if item["week"] > spec["weeks"]:
                    problems.append((f"/calendar/term_types/{name}/{kind}/{i}/week",
                                     f"week {item['week']} is after the term's "
                                     f"{spec['weeks']} weeks"))
    for i, term in enumerate(calendar.get("terms", [])):
        if term["term_type"] not in term_types:
            problems.append((f"/calendar/terms/{i}/term_type",
                             f"{term['term_type']!r} is not one of term_types"))
    return problems
