"""An adversarial corpus of malformed inputs for the campus-synth command line, built as
files in a scratch folder (nothing binary is checked in).

Each `Case` builds its inputs in a folder and returns the command line to run there; its
`expect` says what the CLI promises:

- "refused": exit 2, one `campus-synth: error:` message of a few bounded lines that holds
  every text of `says`, no traceback, and the folder exactly as it was (nothing written);
- "ok": exit 0 (for `profile`, the notes hold every text of `says`, and the profile it
  wrote loads and passes the generator's contract);
- "clean": either of the two (an input the promise does not decide, e.g. a CSV whose text is
  not UTF-8): what matters is that it is never a traceback, exit 1 or a half-written output.

Used by tests/test_bad_input_corpus.py; `python tests/bad_input_corpus.py` lists the cases.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from test_profile_inputs import small_tables, write_parquet

from distributions import default_profile_path
from pipeline.cli import main

RUN = ["run", "--fte", "300", "--event-days", "2", "--no-evaluate", "--no-marts"]
# a profile case: a refusal comes before any work; an accepted profile generates (smallest)
GENERATE = ["generate", "--fte", "100", "--event-days", "1"]


@dataclass
class Case:
    """One malformed input: `build(folder)` writes its files and returns the argv."""

    id: str
    kind: str                       # profile, flag, source, scenario, merge
    build: Callable[[Path], list[str]]
    expect: str = "refused"         # refused, ok, clean
    says: list[str] = field(default_factory=list)
    generate: bool = False          # "ok" source cases: also generate (300 FTE) from the profile


# ---- profiles ------------------------------------------------------------------------------
def default_profile() -> dict:
    return json.loads(default_profile_path().read_text())


def _at(document, path: str):
    node = document
    for part in [p for p in path.strip("/").split("/") if p]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _put(path: str, value):
    def mutate(document):
        *parents, last = path.strip("/").split("/")
        node = _at(document, "/".join(parents))
        node[int(last) if isinstance(node, list) else last] = copy.deepcopy(value)
    return mutate


def _delete(path: str):
    def mutate(document):
        *parents, last = path.strip("/").split("/")
        node = _at(document, "/".join(parents))
        del node[int(last) if isinstance(node, list) else last]
    return mutate


def _profile_case(name: str, mutate, says=(), expect="refused", text=None, generate=False):
    """A `run --profile` case on the default profile changed by `mutate` (or raw `text`)."""
    def build(folder: Path) -> list[str]:
        path = folder / f"{name}.json"
        if text is not None:
            path.write_text(text(default_profile()) if callable(text) else text)
        else:
            document = default_profile()
            mutate(document)
            path.write_text(json.dumps(document))
        return [*GENERATE, "--profile", str(path), "--out", str(folder / "w")]
    return Case(f"profile-{name}", "profile", build, expect, list(says), generate)


SEX = "/tables/person/columns/sex"
SCORE = "/tables/learner_activity_result/columns/published_score"
SECTIONS = "/tables/course_section/rows/per_parent"
ROLE_STATUS = "/tables/course_section_enrollment/columns/role_status"
FALL = "/calendar/term_types/Fall"
TOOL = "/events/tools/modules"


def _duplicate_settings(document: dict) -> str:
    text = json.dumps(document)
    return text.replace('"settings": {', '"settings": {"fte": 300}, "settings": {', 1)


def _quantiles(values: dict):
    def mutate(document):
        _at(document, SCORE)["quantiles"] = values
    return mutate


def _learners(document: dict) -> None:
    """Every enrollment a 'Learner' (and statuses drawn given nothing, so that no cell names
    a role the distribution lacks)."""
    columns = _at(document, "/tables/course_section_enrollment/columns")
    columns["role"] = {"kind": "categorical", "values": [{"value": "Learner", "p": 1.0}]}
    for name in ("role_status", "enrollment_status"):
        columns[name] = columns[name]["otherwise"]


PROFILE_CASES = [
    _profile_case("fte-string", _put("/settings/fte", "300"), ["/settings/fte"]),
    _profile_case("terms-float", _put("/settings/terms", 2.5), ["/settings/terms"]),
    _profile_case("terms-negative", _put("/settings/terms", -1), ["/settings/terms"]),
    _profile_case("terms-huge-int", _put("/settings/terms", 10**30), ["terms"]),
    _profile_case("fte-zero", _put("/settings/fte", 0), ["/settings/fte"]),
    _profile_case("fte-bool", _put("/settings/fte", True), ["/settings/fte"]),
    _profile_case("settings-list", _put("/settings", [300, 2]), ["/settings"]),
    _profile_case("version-2", _put("/profile_version", 2), ["/profile_version"]),
    _profile_case("version-string", _put("/profile_version", "1"), ["/profile_version"]),
    _profile_case("name-number", _put("/name", 123), ["/name"]),
    _profile_case("root-null", None, ["not of type"], text="null"),
    _profile_case("root-string", None, ["not of type"], text='"a profile"'),
    _profile_case("root-empty-object", None, ["/"], text="{}"),
    _profile_case("unknown-top-key", _put("/colour", "blue"), ["colour"]),
    _profile_case("duplicate-key", None, ["settings"], text=_duplicate_settings),
    _profile_case("tables-empty", _put("/tables", {}), ["/tables"]),
    _profile_case("table-empty-object", _put("/tables/person", {}), ["/tables/person"]),
    _profile_case("columns-empty", _put("/tables/person/columns", {}), [SEX]),
    _profile_case("column-null", _put(SEX, None), [SEX]),
    _profile_case("values-empty", _put(f"{SEX}/values", []), [SEX]),
    _profile_case("value-number", _put(f"{SEX}/values/0/value", 123), [SEX]),
    _profile_case("value-null", _put(f"{SEX}/values/0/value", None), [SEX]),
    _profile_case("p-bool", _put(f"{SEX}/values/0/p", True), [f"{SEX}/values/0/p"]),
    _profile_case("p-string-number", _put(f"{SEX}/values/0/p", "0.56"), [f"{SEX}/values/0/p"]),
    _profile_case("p-above-one", _put(f"{SEX}/values", [{"value": "Female", "p": 1.5},
                                                       {"value": "Male", "p": -0.5}]), [SEX]),
    _profile_case("one-value-share-1", _put(f"{SEX}/values", [{"value": "Female", "p": 1.0}]),
                  expect="ok", generate=True),
    _profile_case("value-twice", _put(f"{SEX}/values", [{"value": "Female", "p": 0.5},
                                                        {"value": "Female", "p": 0.5}]),
                  [f"{SEX}/values", "more than once"]),
    _profile_case("kind-unknown", _put(f"{SEX}/kind", "weird"), [SEX]),
    _profile_case("dist-unknown-key", _put(f"{SEX}/weights", [1, 2]), [SEX]),
    _profile_case("mean-string", _put(f"{SCORE}/mean", "0.8"), [f"{SCORE}/mean"]),
    _profile_case("sd-zero", _put(f"{SCORE}/sd", 0), expect="clean"),
    _profile_case("min-equals-max", lambda d: _at(d, SCORE).update(min=0.5, max=0.5,
                                                                   mean=0.5), expect="clean"),
    _profile_case("family-unknown", _put(f"{SCORE}/family", "cauchy"), [f"{SCORE}/family"]),
    _profile_case("quantiles-out-of-order", _quantiles({"0.1": 0.9, "0.5": 0.5, "0.9": 0.2}),
                  [f"{SCORE}/quantiles"]),
    _profile_case("quantile-level-text", _quantiles({"median": 0.5}), [f"{SCORE}/quantiles"]),
    _profile_case("quantile-level-above-1", _quantiles({"1.5": 0.5}), [f"{SCORE}/quantiles"]),
    _profile_case("quantile-outside-range", _quantiles({"0.5": 7.0}), [f"{SCORE}/quantiles"]),
    _profile_case("integer-no-value-in-range", lambda d: _at(d, SECTIONS).update(
        min=1.2, max=1.7, mean=1.5), [SECTIONS]),
    _profile_case("per-parent-min-negative", lambda d: _at(d, SECTIONS).update(min=-5),
                  [SECTIONS]),
    _profile_case("per-parent-max-huge", lambda d: _at(d, SECTIONS).update(max=10**15),
                  [SECTIONS]),
    _profile_case("sections-per-offering-zero", _put(SECTIONS, {"kind": "categorical", "values": [
        {"value": 0, "p": 1.0}]}), [SECTIONS, "draws no section"]),
    _profile_case("per-parent-half-rows", _put(SECTIONS, {"kind": "categorical", "values": [
        {"value": 2.5, "p": 1.0}]}), [SECTIONS, "whole numbers"]),
    _profile_case("fte-by-load-all-zero", lambda d: d["institution"].update(fte_by_load={
        k: 0.0 for k in d["institution"]["fte_by_load"]}), ["/institution/fte_by_load"]),
    _profile_case("fte-by-load-missing-load", _delete("/institution/fte_by_load/HalfTime"),
                  ["/institution/fte_by_load", "'HalfTime'"]),
    _profile_case("instructors-1e300", _put("/institution/instructors_per_100_students",
                                            1e300), ["/institution/instructors_per_100"]),
    _profile_case("score-max-1e308", _put(f"{SCORE}/max", 1e308), [SCORE, "cannot be drawn"]),
    _profile_case("row-count-negative", _put("/tables/campus/rows/count", -4),
                  ["/tables/campus/rows/count"]),
    _profile_case("row-count-zero", _put("/tables/campus/rows/count", 0),
                  ["/tables/campus/rows/count"]),
    _profile_case("row-count-huge", _put("/tables/campus/rows/count", 10**15),
                  ["/tables/campus/rows/count"]),
    _profile_case("row-count-float", _put("/tables/campus/rows/count", 2.5),
                  ["/tables/campus/rows/count"]),
    _profile_case("cells-empty", _put(f"{ROLE_STATUS}/cells", []), expect="clean"),
    _profile_case("given-empty", _put(f"{ROLE_STATUS}/given", []), [ROLE_STATUS]),
    _profile_case("given-unknown-column", _put(f"{ROLE_STATUS}/given", ["shoe_size"]),
                  [ROLE_STATUS]),
    _profile_case("term-types-empty", _put("/calendar/term_types", {}), ["/calendar"]),
    _profile_case("term-weeks-zero", _put(f"{FALL}/weeks", 0), [f"{FALL}/weeks"]),
    _profile_case("term-weeks-1000", _put(f"{FALL}/weeks", 1000), [f"{FALL}/weeks"]),
    _profile_case("break-days-negative", _put(f"{FALL}/breaks/0/days", -3),
                  [f"{FALL}/breaks/0/days"]),
    _profile_case("begins-13-45", _put(f"{FALL}/begins_on_or_after", "13-45"),
                  [f"{FALL}/begins_on_or_after"]),
    _profile_case("first-year-negative", _put("/calendar/first_term/year", -5),
                  ["/calendar/first_term/year"]),
    _profile_case("first-year-99999", _put("/calendar/first_term/year", 99999),
                  ["/calendar/first_term/year"]),
    _profile_case("exam-week-after-term", _put(f"{FALL}/exams/1/week", 40),
                  [f"{FALL}/exams/1/week"]),
    _profile_case("session-weeks-negative", _put("/calendar/sessions/1/weeks", -8),
                  ["/calendar/sessions/1/weeks"]),
    _profile_case("grading-scheme-empty", _put("/grading_scheme", []), ["/grading_scheme"]),
    _profile_case("grading-min-score-150", _put("/grading_scheme/0/min_score", 150),
                  expect="clean"),  # no A for anyone: odd, not impossible (extra credit)
    _profile_case("score-rho-5", _put("/engagement/score_rho", 5), ["/engagement/score_rho"]),
    _profile_case("student-share-negative", _put("/engagement/student_share", -0.5),
                  ["/engagement/student_share"]),
    _profile_case("fill-rate-zero", _put("/institution/section_fill_rate", 0),
                  ["/institution/section_fill_rate"]),
    _profile_case("instructors-negative", _put("/institution/instructors_per_100_students",
                                               -3), ["/institution/instructors_per_100"]),
    _profile_case("fte-by-load-negative", _put("/institution/fte_by_load/FullTime", -1),
                  ["/institution/fte_by_load/FullTime"]),
    _profile_case("tools-empty", _put("/events/tools", {}), expect="clean"),
    _profile_case("tool-rate-negative", _put(f"{TOOL}/rate", -0.6), [f"{TOOL}/rate"]),
    _profile_case("tool-adoption-2", _put(f"{TOOL}/adoption", 2), [f"{TOOL}/adoption"]),
    _profile_case("tool-ed-app-unknown", _put(f"{TOOL}/ed_app", "blackboard"),
                  [f"{TOOL}/ed_app"]),
    _profile_case("tool-mix-sums-0", _put(f"{TOOL}/student/0/p", 0), [f"{TOOL}/student"]),
    _profile_case("weekday-six-days", _put("/events/weekday", [1, 1, 1, 1, 1, 1]),
                  ["/events/weekday"]),
    _profile_case("diurnal-negative", _put("/events/diurnal/3", -1), ["/events/diurnal"]),
    _profile_case("diurnal-all-zero", _put("/events/diurnal", [0] * 24), ["/events/diurnal"]),
    _profile_case("engagement-sigma-string", _put("/events/engagement_sigma", "high"),
                  ["/events/engagement_sigma"]),
    _profile_case("extra-column-no-kind", _put("/tables/person/extras",
                                               {"shoe_size": {"type": "int64"}}),
                  ["/tables/person/extras/shoe_size"]),
    _profile_case("drop-person-email", _delete("/tables/person_email"), expect="clean"),
    _profile_case("drop-events", _delete("/events"), expect="clean"),
    _profile_case("role-without-student", _learners,
                  ["/tables/course_section_enrollment/columns/role", "has no value 'Student'"]),
    _profile_case("sections-all-empty", _put(
        "/tables/course_section_enrollment/rows/per_section",
        {"kind": "categorical", "values": [{"value": 0, "p": 1.0}]}), expect="clean"),
]


# ---- hand edits of a profile `profile` wrote -----------------------------------------------
def _edited_case(name: str, edit, expect="ok", says=(), generate=False):
    """`run --profile` on the small source's profile (written by `profile`), edited."""
    def build(folder: Path) -> list[str]:
        document = json.loads(_written_profile())
        text = edit(document)
        path = folder / f"{name}.json"
        path.write_text(text if isinstance(text, str) else json.dumps(document, indent=1))
        return [*GENERATE, "--profile", str(path), "--out", str(folder / "w")]
    return Case(f"edited-{name}", "profile", build, expect, list(says), generate)


@functools.lru_cache(maxsize=1)
def _written_profile() -> str:
    """The text of the profile `profile` writes for the small source (made once)."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        source = write_parquet(Path(tmp) / "src", small_tables())
        assert main(["profile", "--source", str(source), "--out", f"{tmp}/p.json"]) == 0
        return Path(f"{tmp}/p.json").read_text()


def _round_floats(node, digits=2):
    if isinstance(node, float):
        return round(node, digits)
    if isinstance(node, dict):
        return {k: _round_floats(v, digits) for k, v in node.items()}
    if isinstance(node, list):
        return [_round_floats(v, digits) for v in node]
    return node


def _renamed_sex(document):
    for item in _at(document, SEX)["values"]:
        item["value"] = {"Male": "M", "Female": "F"}.get(item["value"], item["value"])


EDITED_CASES = [
    _edited_case("as-written", lambda d: None, generate=True),
    _edited_case("fte-500", _put("/settings/fte", 500)),
    _edited_case("renamed-values", _renamed_sex),
    _edited_case("rounded-2-digits", lambda d: json.dumps(_round_floats(d)), expect="clean"),
    _edited_case("structure-dropped", _delete("/structure"), expect="clean"),
    _edited_case("structure-offerings-zero", _put("/structure/offerings_per_fte", 0),
                 says=["/structure/offerings_per_fte"], expect="refused"),
    _edited_case("terms-per-student-99", _put("/structure/terms_per_student/values/0/value",
                                             99), expect="clean"),
    _edited_case("trailing-comma", lambda d: json.dumps(d)[:-1] + ",}",
                 says=["not valid JSON"], expect="refused"),
    _edited_case("truncated", lambda d: json.dumps(d)[: len(json.dumps(d)) // 2],
                 says=["not valid JSON"], expect="refused"),
    _edited_case("byte-order-mark", lambda d: "\ufeff" + json.dumps(d)),
    _edited_case("latin-1", lambda d: None, expect="refused"),
]


def _latin1(case: Case) -> Case:
    build = case.build

    def latin(folder: Path) -> list[str]:
        argv = build(folder)
        path = Path(argv[argv.index("--profile") + 1])
        path.write_bytes(path.read_text().replace("profiled", "profil\u00e9").encode("latin-1"))
        return argv
    return Case(case.id, case.kind, latin, case.expect, ["cannot read the file"], False)


EDITED_CASES[-1] = _latin1(EDITED_CASES[-1])
