"""The corpus's flags, scenario files and `profile merge` inputs (see bad_input_corpus.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bad_input_corpus import GENERATE, RUN, Case, default_profile


def _flags(name: str, args, says=(), expect="refused", command=None):
    """`campus-synth COMMAND ARGS` (default: a small `run` into folder/w); `{d}` in an
    argument is the case's folder."""
    def build(folder: Path) -> list[str]:
        given = [a.replace("{d}", str(folder)) for a in args]
        if command is None:
            return [*RUN, "--out", str(folder / "w"), *given]
        return [a.replace("{d}", str(folder)) for a in command] + given
    return Case(f"flag-{name}", "flag", build, expect, list(says))


def _with(setup, case: Case) -> Case:
    """`case` with `setup(folder)` run first (files a flag points at)."""
    build = case.build

    def built(folder: Path) -> list[str]:
        setup(folder)
        return build(folder)
    return Case(case.id, case.kind, built, case.expect, case.says, case.generate)


def _file(name: str, text: str = "x"):
    return lambda folder: (folder / name).write_text(text)


def _dir(name: str):
    return lambda folder: (folder / name).mkdir()


def _loop(name: str):
    return lambda folder: os.symlink(folder / name, folder / name)


def _readonly(name: str):
    def make(folder: Path):
        (folder / name).mkdir()
        (folder / name).chmod(0o555)
    return make


def _broken_profile(folder: Path):
    (folder / "broken.json").write_text('{"profile_version": 1, "tables": ')


def _valid_profile(folder: Path, name: str = "good.json", **settings):
    document = default_profile()
    document["settings"].update(settings)
    (folder / name).write_text(json.dumps(document))


PROFILE = ["profile", "--source", "{d}/missing-src"]
EVALUATE = ["evaluate", "--synthetic", "{d}/nowhere", "--out", "{d}/ev"]

FLAG_CASES = [
    _flags("seed-text", ["--seed", "abc"], ["--seed"]),
    _flags("seed-float", ["--seed", "1.5"], ["--seed"]),
    _flags("seed-huge", ["--seed", str(2**70)], expect="clean",  # hashed as text: works
           command=[*GENERATE, "--out", "{d}/w"]),
    _flags("terms-text", ["--terms", "two"], ["--terms"]),
    _flags("terms-negative", ["--terms", "-2"], ["--terms"]),
    _flags("fte-empty", ["--fte", ""], ["--fte"]),
    _flags("fte-hex", ["--fte", "0x10"], ["--fte"]),
    _flags("block-rows-zero", ["--block-rows", "0"], ["--block-rows"]),
    _flags("block-rows-huge", ["--block-rows", str(10**12)], ["--block-rows"]),
    _flags("event-scale-101", ["--event-scale", "101"], ["--event-scale"]),
    _flags("event-scale-inf", ["--event-scale", "inf"], ["--event-scale"]),
    _flags("event-days-negative", ["--event-days", "-3"], ["--event-days"]),
    _flags("event-days-10000", ["--event-days", "10000"], ["--event-days"]),
    _flags("event-days-float", ["--event-days", "2.5"], ["--event-days"]),
    _flags("profile-empty-string", ["--profile", ""], ["--profile"]),
    _flags("profile-is-folder", ["--profile", "{d}"], ["cannot read the file"]),
    _with(_loop("loop.json"), _flags("profile-symlink-loop", ["--profile", "{d}/loop.json"],
                                     ["loop.json"])),
    _with(_file("f"), _flags("out-is-file", [], ["f"], command=[
        *RUN, "--out", "{d}/f"])),
    _with(_file("f"), _flags("out-under-a-file", [], ["f"], command=[
        *RUN, "--out", "{d}/f/w"])),
    # (refused when not root; root writes anywhere)
    _with(_readonly("ro"), _flags("out-unwritable", [], ["ro"], expect="clean", command=[
        *GENERATE, "--out", "{d}/ro/w"])),
    _with(_loop("loop"), _flags("out-symlink-loop", [], ["loop"], command=[
        *RUN, "--out", "{d}/loop"])),
    _flags("out-missing-parents", [], expect="clean", command=[
        *GENERATE, "--out", "{d}/a/b/c"]),
    _flags("target-bigquery-no-project", ["--target", "bigquery"], ["--project"]),
    _flags("project-without-target", ["--project", "p"], ["--project"]),
    _flags("retain-without-target", ["--retain", "0"], ["--retain"]),
    _flags("target-unknown", ["--target", "sqlite"], ["--target"]),
    _flags("generate-no-marts", [], ["--no-marts"], command=[
        "generate", "--fte", "300", "--out", "{d}/w", "--no-marts"]),
    _flags("generate-target", [], ["--target"], command=[
        "generate", "--fte", "300", "--out", "{d}/w", "--target", "duckdb"]),
    _flags("runner-empty", ["--runner="], ["runner"]),
    _flags("beam-flag-typo", ["--direct_num_worker=2"], ["--direct_num_worker"]),
    _flags("positional-junk", ["extra"], ["extra"]),
    _flags("no-command", [], ["command"], command=[]),
    _flags("unknown-command", ["frobnicate"], ["frobnicate"], command=[]),
    # profile
    _flags("profile-k-zero", [*PROFILE, "--k", "0"], ["--k"], command=[]),
    _flags("profile-k-negative", [*PROFILE, "--k", "-3"], ["--k"], command=[]),
    _flags("profile-k-text", [*PROFILE, "--k", "ten"], ["--k"], command=[]),
    _flags("profile-epsilon-zero", [*PROFILE, "--epsilon", "0"], ["--epsilon"], command=[]),
    _flags("profile-epsilon-negative", [*PROFILE, "--epsilon", "-1"], ["--epsilon"],
           command=[]),
    _flags("profile-epsilon-tiny", [*PROFILE, "--epsilon", "1e-9"], ["--epsilon", "0.001"],
           command=[]),
    _flags("profile-epsilon-nan", [*PROFILE, "--epsilon", "nan"], ["--epsilon"], command=[]),
    _flags("profile-epsilon-inf", [*PROFILE, "--epsilon", "inf"], ["--epsilon"], command=[]),
    _flags("profile-seed-negative", [*PROFILE, "--seed", "-1"], ["--seed"], command=[]),
    _flags("profile-no-source", ["profile", "--out", "{d}/p.json"], ["--source"], command=[]),
    _flags("profile-source-empty", ["profile", "--source", "", "--out", "{d}/p.json"],
           ["source"], command=[]),
    _flags("profile-source-bigquery-bare", ["profile", "--source", "bigquery://",
                                            "--out", "{d}/p.json"], ["bigquery://"],
           command=[]),
    _with(_file("notes.txt"), _flags("profile-source-text-file", [
        "profile", "--source", "{d}/notes.txt", "--out", "{d}/p.json"], ["notes.txt"],
        command=[])),
    _with(_file("empty.duckdb", ""), _flags("profile-source-zero-byte-duckdb", [
        "profile", "--source", "{d}/empty.duckdb", "--out", "{d}/p.json"], ["empty.duckdb"],
        command=[])),
    _with(_loop("srcloop"), _flags("profile-source-symlink-loop", [
        "profile", "--source", "{d}/srcloop", "--out", "{d}/p.json"], ["srcloop"],
        command=[])),
    # merge
    _flags("merge-none", ["profile", "merge", "--out", "{d}/m.json"], ["merge"], command=[]),
    _with(_valid_profile, _flags("merge-one", ["profile", "merge", "{d}/good.json", "--out",
                                               "{d}/m.json"], ["two or more"], command=[])),
    _with(_valid_profile, _flags("merge-missing", [
        "profile", "merge", "{d}/good.json", "{d}/nope.json", "--out", "{d}/m.json"],
        ["nope.json"], command=[])),
    _with(lambda d: (_valid_profile(d), _broken_profile(d)), _flags("merge-one-broken", [
        "profile", "merge", "{d}/good.json", "{d}/broken.json", "--out", "{d}/m.json"],
        ["broken.json"], command=[])),
    _with(_valid_profile, _flags("merge-same-file-twice", [
        "profile", "merge", "{d}/good.json", "{d}/good.json", "--out", "{d}/m.json"],
        expect="clean", command=[])),
    _with(lambda d: (_valid_profile(d), _valid_profile(d, "other.json", terms=1, fte=50)),
          _flags("merge-different-sizes", ["profile", "merge", "{d}/good.json",
                                           "{d}/other.json", "--out", "{d}/m.json"],
                 expect="ok", command=[])),
    _with(_valid_profile, _flags("merge-with-source", [
        "profile", "merge", "{d}/good.json", "{d}/good.json", "--source", "{d}/x",
        "--out", "{d}/m.json"], ["--source"], command=[])),
    _with(_valid_profile, _flags("merge-out-is-input", [
        "profile", "merge", "{d}/good.json", "{d}/good.json", "--out", "{d}/good.json"],
        ["good.json"], command=[])),
    # evaluate, publish, clean, build, export-distributions, caliper
    _flags("evaluate-no-against", ["evaluate", "--synthetic", "{d}"], ["--real"], command=[]),
    _flags("evaluate-both", [*EVALUATE, "--real", "{d}", "--profile", "{d}/p.json"],
           ["--profile"], command=[]),
    _flags("evaluate-synthetic-missing", [*EVALUATE, "--profile", "{d}/p.json"],
           ["nowhere"], command=[]),
    _flags("evaluate-fail-under-2", [*EVALUATE, "--profile", "{d}/p.json", "--fail-under",
                                     "2"], ["--fail-under"], command=[]),
    _flags("evaluate-fail-under-text", [*EVALUATE, "--profile", "{d}/p.json",
                                        "--fail-under", "most"], ["--fail-under"], command=[]),
    _flags("publish-no-project", ["publish", "--out", "{d}"], ["--project"], command=[]),
    _flags("publish-retain-zero", ["publish", "--out", "{d}/nowhere", "--project", "p",
                                   "--retain", "0"], ["--retain"], command=[]),
    _flags("publish-no-manifest", ["publish", "--out", "{d}/nowhere", "--project", "p"],
           ["nowhere"], command=[]),
    _flags("clean-out-empty", ["clean", "--out", ""], ["--out"], command=[]),
    _flags("clean-out-root", ["clean", "--out", "/"], ["/"], command=[]),
    _with(_file("f"), _flags("clean-out-file", ["clean", "--out", "{d}/f"], expect="clean",
                             command=[])),
    _flags("clean-out-missing", ["clean", "--out", "{d}/none"], expect="clean", command=[]),
    _flags("build-out-missing", ["build", "--out", "{d}/none"], ["none"], command=[]),
    _flags("build-bigquery-no-project", ["build", "--out", "{d}", "--target", "bigquery"],
           ["--project"], command=[]),
    _flags("export-out-txt", ["export-distributions", "--out", "{d}/d.txt"], ["d.txt"],
           command=[]),
    _flags("export-out-folder", ["export-distributions", "--out", "{d}"], expect="refused",
           command=[]),
    _flags("caliper-out-missing", ["caliper", "--out", "{d}/none"], ["none"], command=[]),
    _flags("caliper-limit-negative", ["caliper", "--out", "{d}/none", "--limit", "-1"],
           ["--limit"], command=[]),
]


# ---- scenario files ------------------------------------------------------------------------
def _scenario(name: str, text: str, says=(), suffix=".yaml"):
    def build(folder: Path) -> list[str]:
        path = folder / f"{name}{suffix}"
        path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        return [*RUN, "--scenario", str(path), "--out", str(folder / "w")]
    return Case(f"scenario-{name}", "scenario", build, "refused", [f"{name}{suffix}", *says])


SCENARIO_CASES = [
    _scenario("yaml-unclosed", "name: x\ncolumns: {person: [\n"),
    _scenario("yaml-tabs", "name: x\n\tcolumns: 1\n"),
    _scenario("empty", ""),
    _scenario("a-list", "- 1\n- 2\n"),
    _scenario("name-number", "name: 7\n", ["/name"]),
    _scenario("name-slash", "name: ../escape\n", ["/name"]),
    _scenario("name-dotdot", "name: ..\n", ["/name"]),
    _scenario("columns-string", "name: x\ncolumns: lots\n", ["/columns"]),
    _scenario("rows-negative", "name: x\ntables:\n  t:\n    grain: {entity: person}\n"
              "    rows: -5\n", ["rows"]),
    _scenario("lambda-string", "name: x\ncolumns:\n  person:\n    shoe:\n      family: Poisson"
              "\n      lambda: many\n", ["lambda"]),
    _scenario("binary", bytes(range(256))),
    _scenario("json-broken", '{"name": "x",', suffix=".json"),
    _scenario("yaml-anchor-bomb", "a: &a [x, x, x, x, x, x, x, x, x]\n"
              "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
              "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
              "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
              "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
              "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nname: bomb\n"),
]


def _missing_scenario(folder: Path) -> list[str]:
    return [*RUN, "--scenario", str(folder / "nope.yaml"), "--out", str(folder / "w")]


def _scenario_folder(folder: Path) -> list[str]:
    return [*RUN, "--scenario", str(folder), "--out", str(folder / "w")]


def _scenario_with_bom(folder: Path) -> list[str]:
    path = folder / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"name": "bom"}).encode())
    return [*GENERATE, "--scenario", str(path), "--out", str(folder / "w")]


SCENARIO_CASES += [Case("scenario-json-byte-order-mark", "scenario", _scenario_with_bom, "ok")]
SCENARIO_CASES += [Case("scenario-missing", "scenario", _missing_scenario, "refused",
                        ["nope.yaml"]),
                   Case("scenario-is-folder", "scenario", _scenario_folder, "refused")]
