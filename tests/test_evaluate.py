"""campus-synth evaluate on hand-built tables: a real source (a Parquet folder) and a
synthetic warehouse (a DuckDB file) drawn from the same little generator with another seed,
with three differences planted — a column shifted, a dependency removed, a child count
doubled. The report must flag exactly those and pass the rest."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from distributions import default_profile_path
from pipeline.cli import main

PEOPLE, SECTIONS = 3000, 120


def draw(seed: int) -> dict[str, pd.DataFrame]:
    """A small UDP-shaped institution: people, sections, enrollments (score depends on the
    person's age band; withdrawal on the score), and e-mail rows per person."""
    rng = np.random.default_rng(seed)
    person = pd.DataFrame({
        "person_id": np.arange(1, PEOPLE + 1) + 1000,
        "sex": rng.choice(["Female", "Male", "NoData"], PEOPLE, p=[0.55, 0.43, 0.02]),
        "age_band": rng.choice(["<21", "21-25", "26-35", ">35"], PEOPLE, p=[.5, .3, .15, .05]),
        "prior_credits": rng.gamma(2.0, 15.0, PEOPLE).round(1)})
    section = pd.DataFrame({
        "course_section_id": np.arange(1, SECTIONS + 1) + 5000,
        "course_level": rng.choice(["100", "200", "300", "400"], SECTIONS),
        "delivery_mode": rng.choice(["InPerson", "Online", "Hybrid"], SECTIONS, p=[.6, .3, .1])})
    enrollment = _enrollments(rng, person, section)
    emails = rng.choice([1, 2, 3], PEOPLE, p=[0.6, 0.3, 0.1])
    owners = np.repeat(person["person_id"].to_numpy(), emails)
    email = pd.DataFrame({"person_email_id": np.arange(len(owners)) + 90000,
                          "person_id": owners,
                          "channel": rng.choice(["campus", "personal"], len(owners))})
    return {"person": person, "course_section": section,
            "course_section_enrollment": enrollment, "person_email": email}


def _enrollments(rng, person: pd.DataFrame, section: pd.DataFrame) -> pd.DataFrame:
    per_person = rng.integers(1, 5, PEOPLE)
    people = np.repeat(person["person_id"].to_numpy(), per_person)
    bands = np.repeat(person["age_band"].to_numpy(), per_person)
    bonus = pd.Series(bands).map({"<21": -6.0, "21-25": 0.0, "26-35": 5.0, ">35": 9.0})
    score = np.clip(rng.normal(72, 12, len(people)) + bonus.to_numpy(), 0, 100).round(2)
    withdrawn = rng.random(len(people)) < 1 / (1 + np.exp((score - 55) / 5))
    return pd.DataFrame({
        "course_section_id": rng.choice(section["course_section_id"].to_numpy(), len(people)),
        "person_id": people,
        "score": score,
        "status": np.where(withdrawn, "Withdrawn", "Enrolled"),
        "hours_online": rng.lognormal(3.0, 0.4, len(people)).round(2)})


def plant(tables: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    """The three planted differences."""
    rng = np.random.default_rng(seed)
    enrollment = tables["course_section_enrollment"].copy()
    enrollment["hours_online"] = enrollment["hours_online"] + 12.0  # shifted (~1.4 sd)
    enrollment["status"] = rng.permutation(enrollment["status"].to_numpy())  # no dependency
    email = tables["person_email"]
    doubled = pd.concat([email, email.assign(person_email_id=email["person_email_id"] + 10**6)])
    return {**tables, "course_section_enrollment": enrollment, "person_email": doubled}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    real = root / "real"
    real.mkdir()
    for name, frame in draw(1).items():
        frame.to_parquet(real / f"{name}.parquet", index=False)
    warehouse = root / "run"
    warehouse.mkdir()
    with duckdb.connect(str(warehouse / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA context_store_entity")
        for name, frame in plant(draw(2), 3).items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE context_store_entity.{name} AS SELECT * FROM frame")
            con.unregister("frame")
    return real, warehouse, root


@pytest.fixture(scope="module")
def report(sources):
    real, warehouse, root = sources
    code = main(["evaluate", "--real", str(real), "--synthetic", str(warehouse),
                 "--out", str(root / "report"), "--fail-under"])
    document = json.loads((root / "report" / "report.json").read_text())
    return code, document, root / "report"


def _planted(f: dict) -> str | None:
    """Which planted difference a figure is about, if any."""
    columns = set(f.get("columns") or []) | {f.get("column")}
    if f["table"] == "course_section_enrollment" and "hours_online" in columns:
        return "shift"
    if f["table"] == "course_section_enrollment" and "status" in columns:
        return "dependency"
    if f["table"] == "person_email" and f["kind"] == "cardinality":
        return "doubled"
    if f["kind"] == "detection":
        return "detection"  # a global test: it sees whatever differs
    return None


def test_report_flags_exactly_the_planted_differences(report):
    code, document, _ = report
    failed = [f for f in document["figures"] if f["passed"] is False]
    unexpected = [f for f in failed if _planted(f) is None]
    assert unexpected == [], json.dumps(unexpected, indent=1)
    flagged = {(f["kind"], f["metric"], _planted(f)) for f in failed}
    assert ("column", "ks", "shift") in flagged
    assert ("column", "1-tvd", "shift") in flagged
    assert ("pair", "cramers_v_diff", "dependency") in flagged
    assert ("cardinality", "children_per_parent_ks", "doubled") in flagged
    # the removed dependency leaves the column itself alike, and the doubled children
    # leave their columns alike: only the relations show it
    by = {(f["kind"], f["table"], f.get("column"), f["metric"]): f for f in document["figures"]}
    assert by[("column", "course_section_enrollment", "status", "1-tvd")]["passed"] is True
    assert by[("column", "person_email", "channel", "1-tvd")]["passed"] is True
    assert by[("cardinality", "course_section_enrollment", "person_id",
               "children_per_parent_ks")]["passed"] is True
    assert document["passed"] is False and code == 1


def test_a_failed_figure_s_line_says_how_many_columns_it_used(report, sources, capsys):
    """The summary names a figure's first two columns and counts the rest: a detection
    figure over a table's every column is not about the first two."""
    real, warehouse, root = sources
    main(["evaluate", "--real", str(real), "--synthetic", str(warehouse),
          "--out", str(root / "again")])
    text = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    lines = ["FAIL" + line for line in text.split("FAIL")[1:] if line.startswith(" detection")]
    used = [f for f in report[1]["figures"] if f["kind"] == "detection"
            and f["passed"] is False and len(f.get("columns") or []) > 2]
    assert used and lines, (used, text)
    assert all(f"(+{len(f['columns']) - 2} more columns)" in text for f in used), lines


def test_report_passes_what_was_not_planted(report):
    _, document, _ = report
    judged = [f for f in document["figures"] if f["passed"] is not None
              and _planted(f) is None]
    kinds = {f["kind"] for f in judged}
    assert {"gate", "column", "pair", "cardinality", "cross_table", "privacy"} <= kinds
    assert all(f["passed"] for f in judged)
    # a trend across tables that the generator keeps: score given the person's age band
    trend = [f for f in judged if f["kind"] == "cross_table"
             and f["columns"] == ["person.age_band", "score"]]
    assert trend and trend[0]["extra"]["real"] > 0.15


def test_report_json_structure(report):
    _, document, folder = report
    text = (folder / "report.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in report.json"))
    assert isinstance(document["passed"], bool) and document["figures"]
    for f in document["figures"]:
        assert f["kind"] in ("gate", "column", "pair", "cardinality", "cross_table", "event",
                             "detection", "privacy")
        assert {"table", "metric", "value", "floor", "threshold", "passed"} <= set(f)
        assert "column" in f or "columns" in f or f["kind"] in ("detection", "privacy")
        if f["passed"] is not None and f["kind"] != "gate" and f["floor"] is not None:
            assert f["threshold"] is not None
    gates = [f for f in document["figures"] if f["kind"] == "gate"]
    assert {g["metric"] for g in gates} == {"primary_key_unique", "foreign_key_resolves"}
    assert all(g["value"] == 1.0 and g["passed"] for g in gates)
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "report.json"]
    # where the time went: the families, and what lies outside them
    timings = document["timings"]
    assert {"open", "families", "manifest", "evaluate", "html", "json"} <= set(timings)
    assert timings["families"] == pytest.approx(sum(document["seconds"].values()), abs=0.05)
    assert timings["evaluate"] >= timings["open"] + timings["families"] - 0.05
    assert "row_counts" in timings["shared"]["real"] and "sample" in timings["shared"]["real"]


def test_sdmetrics_cross_check_when_installed(report):
    pytest.importorskip("sdmetrics")
    _, document, _ = report
    scores = {f["table"]: f for f in document["figures"] if f["metric"] == "sdmetrics_quality"}
    assert "course_section_enrollment" in scores
    assert all(0 <= f["value"] <= 1 and f["passed"] is None for f in scores.values())


def test_fail_under_a_lower_share_exits_zero(sources, tmp_path):
    real, warehouse, _ = sources
    assert main(["evaluate", "--real", str(real), "--synthetic", str(warehouse), "--out",
                 str(tmp_path / "r"), "--fail-under", "0.5", "--no-detection"]) == 0


@pytest.mark.parametrize("args, message", [
    (["--real", "{root}/nope", "--synthetic", "{warehouse}"], "nope: cannot open the real"),
    (["--real", "{real}", "--synthetic", "{root}"], "no synthetic warehouse"),
    (["--real", "{real}", "--synthetic", "{warehouse}", "--fail-under", "2"], "--fail-under 2"),
    (["--real", "{real}", "--profile", "p.json"], "not allowed with argument"),
])
def test_bad_input_is_one_message_and_exit_2(sources, capsys, tmp_path, args, message):
    real, warehouse, root = sources
    filled = [a.format(root=root, warehouse=warehouse, real=real) for a in args]
    assert main(["evaluate", *filled, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_against_a_profile_alone(sources, tmp_path):
    """--profile: the warehouse's columns and children per parent against the profile's
    distributions; what the profile cannot be read against is n/a, not failed."""
    _, warehouse, _ = sources
    profile = json.loads(Path(default_profile_path()).read_text())
    profile["tables"] = {
        "person": {"columns": {
            "sex": {"kind": "categorical", "values": [
                {"value": "Female", "p": 0.55}, {"value": "Male", "p": 0.43},
                {"value": "NoData", "p": 0.02}]},
            "ethnicity": {"kind": "categorical", "values": [{"value": "x", "p": 1.0}]}}},
        "person_email": {"columns": {}, "rows": {"per_parent": {"kind": "categorical", "values": [
            {"value": 1, "p": 0.6}, {"value": 2, "p": 0.3}, {"value": 3, "p": 0.1}]}}},
        "course_section_enrollment": {"columns": {"status": {
            "kind": "conditional", "given": ["person_id.sex"], "cells": [],
            "otherwise": {"kind": "categorical", "values": [{"value": "Enrolled", "p": 1}]}}}},
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile))
    code = main(["evaluate", "--profile", str(path), "--synthetic", str(warehouse),
                 "--out", str(tmp_path / "r")])
    document = json.loads((tmp_path / "r" / "report.json").read_text())
    by = {(f["table"], f.get("column"), f["metric"]): f for f in document["figures"]}
    assert code == 0 and document["reference"] == "profile"
    assert by[("person", "sex", "1-tvd")]["passed"] is True
    assert by[("person", "ethnicity", "column_present")]["passed"] is False
    assert by[("course_section_enrollment", "status", "1-tvd")]["passed"] is None
    doubled = by[("person_email", "person_id", "children_per_parent_ks")]
    assert doubled["passed"] is False and doubled["reference"] == "profile"
    assert {f["kind"] for f in document["figures"]} <= {"gate", "column", "cardinality"}


def test_a_table_too_small_for_its_association_is_shown_not_judged(tmp_path):
    """Twenty sections, two of them hybrid: real in two course levels, synthetic in one.
    Cramér's V is 0 against 0.50 from the placement of two rows, which chance alone gives
    a table of this size (its real halves both say 0, so their floor did not show it): the
    figure is shown, not failed. It failed at the 0.1 tolerance before."""
    def sections(hybrid: list[int]) -> pd.DataFrame:
        mode = np.array(["InPerson"] * 20, dtype=object)
        mode[hybrid] = "Hybrid"
        return pd.DataFrame({"course_section_id": np.arange(20) + 5000,
                             "course_level": np.repeat(["100", "200", "300", "400", "500"], 4),
                             "delivery_mode": mode})
    real = tmp_path / "real"
    real.mkdir()
    sections([0, 4]).to_parquet(real / "course_section.parquet", index=False)
    (tmp_path / "run").mkdir()
    with duckdb.connect(str(tmp_path / "run" / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA context_store_entity")
        con.register("frame", sections([0, 1]))
        con.execute("CREATE TABLE context_store_entity.course_section AS SELECT * FROM frame")
    assert main(["evaluate", "--real", str(real), "--synthetic", str(tmp_path / "run"),
                 "--out", str(tmp_path / "r"), "--no-detection"]) == 0
    document = json.loads((tmp_path / "r" / "report.json").read_text())
    [pair] = [f for f in document["figures"] if f["kind"] == "pair"]
    assert pair["value"] > 0.4 and pair["passed"] is None and "too few" in pair["note"]
