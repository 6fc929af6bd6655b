"""`campus-synth profile merge`: institutions profile their own hand-built warehouses, the
consortium merges the profiles (no rows move), and the merged profile drives `run`.

The consortium's institution must match the union of the sources — their tables concatenated,
the keys of each kept apart — within issue 11's limits (real_source_checks._issue_11_misses:
rows within 10 % per table, children per parent KS per FK, TVD/KS per column, each held to
twice its noise floor where the sources are too small to resolve the limit). Merged here:
- two unlike institutions: `withdrawal` (450 students, two terms, withdrawal tied to low
  scores) and `all_submitted` (350, one term of 6 offerings, no unsubmitted work);
- three: those two and a `weights_200` institution whose terms begin in spring, run 15 weeks
  and hold group weights summing to 200;
- one profile with itself: the same institution twice — counts doubled, the same shapes.
Besides, against the union of the first two: categorical shares (person.sex, student
role_status, result grading_status) TVD ≤ 0.03, score ratios KS ≤ 0.05, student enrollments
within 15 %, the merged manifest (each source with its digest and actions, counts added), and
the withdrawn, whom the two treat unlike each other: each institution's terms keep its
withdrawn share, and the withdrawn's final scores match the union's.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import duckdb
import numpy as np
import pytest
from handbuilt import institution, shape_of, write_duckdb
from real_source_checks import ROWS_TOLERANCE, _issue_11_misses

from pipeline.cli import main

ENTITY = "context_store_entity"
SHAPES = {"a": shape_of("withdrawal", students=450, seed=21),
          "b": shape_of("all_submitted", students=350, seed=22, terms=1, offerings_per_term=6),
          "c": shape_of("weights_200", students=300, seed=23, term_weeks=15,
                        first_term=("Spring", 2025, "02-01"))}


@pytest.fixture(scope="module")
def institutions(tmp_path_factory):
    """name → (source, profile) of each hand-built institution, profiled on its own."""
    folder = tmp_path_factory.mktemp("institutions")
    out = {}
    for name, shape in SHAPES.items():
        source = write_duckdb(folder / f"{name}.duckdb", institution(shape))
        profile = folder / f"{name}.json"
        assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
        out[name] = (source, profile)
    return out


def _merge_and_run(folder, profiles) -> tuple:
    """The merged profile and the warehouse generated from it."""
    merged = folder / "consortium.json"
    assert main(["profile", "merge", *map(str, profiles), "--out", str(merged)]) == 0
    return merged, _run(merged, folder / "w")


def _run(profile, out):
    """The warehouse generated from `profile` (seed 3, one day of events, no marts)."""
    assert main(["run", "--profile", str(profile), "--out", str(out), "--no-marts",
                 "--event-days", "1", "--seed", "3", "--no-evaluate"]) == 0
    return out / "warehouse.duckdb"


@pytest.fixture(scope="module")
def consortium(institutions, tmp_path_factory):
    sources, profiles = zip(*(institutions[n] for n in "ab"), strict=True)
    merged, warehouse = _merge_and_run(tmp_path_factory.mktemp("merge"), profiles)
    return list(sources), list(profiles), merged, warehouse


def union_of(sources, path):
    """One DuckDB file holding every source's tables concatenated, the integer keys of the
    i-th source moved on by i × 10⁹ so that no two institutions share a key (what an
    evaluator pooling the institutions' own rows would do)."""
    con = duckdb.connect(str(path))
    for i, source in enumerate(sources):
        con.execute(f"ATTACH '{source}' AS s{i} (READ_ONLY)")
    tables = con.execute("SELECT DISTINCT schema_name, table_name FROM duckdb_tables() "
                         "WHERE database_name = 's0'").fetchall()
    for schema, name in tables:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        selects = []
        for i in range(len(sources)):
            columns = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
                "AND schema_name = ? AND table_name = ?", [f"s{i}", schema, name]).fetchall()
            select = ", ".join(f'"{c}" + {i * 10 ** 9} AS "{c}"' if c.endswith("_id") and
                               t in ("BIGINT", "INTEGER") else f'"{c}"' for c, t in columns)
            selects.append(f'SELECT {select} FROM s{i}."{schema}"."{name}"')
        con.execute(f'CREATE TABLE "{schema}"."{name}" AS ' + " UNION ALL BY NAME ".join(selects))
    con.close()
    return path


def issue_11_misses(sources, warehouse, folder) -> tuple[dict, list]:
    """Tables whose rows are off by more than 10 % and the figures over issue 11's limits,
    the generated warehouse against the union of the sources (`campus-synth evaluate`)."""
    union = union_of(sources, folder / "union.duckdb")
    assert main(["evaluate", "--real", str(union), "--synthetic", str(warehouse), "--out",
                 str(folder / "evaluation"), "--no-detection"]) in (0, 1)  # 1: a figure failed
    report = json.loads((folder / "evaluation" / "report.json").read_text())
    real, synthetic = report["tables"]["real"], report["tables"]["synthetic"]
    rows = {t: (n, synthetic.get(t, 0)) for t, n in real.items()
            if t != "expanded" and abs(synthetic.get(t, 0) / n - 1) > ROWS_TOLERANCE}
    return rows, _issue_11_misses(report)


def _union(sources, sql: str) -> list[tuple]:
    """Rows of `sql` over the union of the sources' tables ({t} names a table)."""
    rows: list[tuple] = []
    for source in sources:
        with duckdb.connect(str(source), read_only=True) as con:
            rows += con.sql(sql.replace("{t}", ENTITY + ".")).fetchall()
    return rows


def _shares(rows: list[tuple]) -> dict:
    total: dict = {}
    for value, n in rows:
        total[value] = total.get(value, 0) + n
    size = sum(total.values())
    return {v: n / size for v, n in total.items()}


def _tvd(a: dict, b: dict) -> float:
    return 0.5 * sum(abs(a.get(k, 0) - b.get(k, 0)) for k in set(a) | set(b))


SHARES = {
    "sex": "SELECT sex, COUNT(*) FROM {t}person p WHERE EXISTS (SELECT 1 FROM "
           "{t}course_section_enrollment e WHERE e.person_id = p.person_id AND role = 'Student')"
           " GROUP BY 1",
    "role_status": "SELECT role_status, COUNT(*) FROM {t}course_section_enrollment "
                   "WHERE role = 'Student' GROUP BY 1",
    "grading_status": "SELECT grading_status, COUNT(*) FROM {t}learner_activity_result "
                      "GROUP BY 1",
}
RATIOS = ("SELECT r.published_score / a.points_possible FROM {t}learner_activity_result r "
          "JOIN {t}learner_activity a USING (learner_activity_id) "
          "WHERE r.published_score IS NOT NULL AND a.points_possible > 0")


@pytest.mark.parametrize("name", sorted(SHARES))
def test_shares_match_the_union(consortium, name):
    sources, _, _, warehouse = consortium
    want = _shares(_union(sources, SHARES[name]))
    got = _shares(_union([warehouse], SHARES[name]))
    assert _tvd(got, want) <= 0.03, (name, got, want)


def _ks(a, b) -> float:
    """Largest gap between the empirical CDFs of two samples."""
    a, b = np.sort(a), np.sort(b)
    grid = np.union1d(a, b)
    return float(np.abs(np.searchsorted(a, grid, "right") / len(a)
                        - np.searchsorted(b, grid, "right") / len(b)).max())


def test_scores_match_the_union(consortium):
    sources, _, _, warehouse = consortium
    want = [r[0] for r in _union(sources, RATIOS)]
    got = [r[0] for r in _union([warehouse], RATIOS)]
    ks = _ks(want, got)
    assert ks <= 0.05, ks


WITHDRAWN_FINAL = ("SELECT g.le_final_score, g.person_id FROM {t}course_grade g "
                   "JOIN {t}course_section_enrollment e USING (person_id, course_section_id) "
                   "WHERE e.role = 'Student' AND e.role_status = 'Withdrawn' "
                   "AND g.le_final_score IS NOT NULL")
STATUS_BY_TERM = ("SELECT o.academic_term_id, e.role_status, COUNT(*) "
                  "FROM {t}course_section_enrollment e JOIN {t}course_section s "
                  "USING (course_section_id) JOIN {t}course_offering o USING (course_offering_id) "
                  "WHERE e.role = 'Student' GROUP BY 1, 2")


def test_withdrawn_scores_match_the_union(consortium, tmp_path):
    """a's students withdraw for low scores and leave most of their work missing (their mean
    final score ~16), b's submit everything (~74). Pooled into one set of withdrawal
    parameters, both institutions' withdrawn came out alike in every term (~35) and their
    final scores stood at KS 0.34 from the union's. Each term drawn with its institution's
    own withdrawal, the merged institution's withdrawn are as close to the union's as the two
    institutions generated each from its own profile (within 0.03, about half the noise of
    either KS at ~480 withdrawn): the merge loses nothing of them. (Not held to KS 0.05:
    `a` generated alone missed its own withdrawn's final scores by KS ~0.1 at this size,
    0.16 at 2,000 students, which no merge can mend; since their random missing share
    counts only their kept rows due after leaving, 0.06 at 2,000, merged 0.05 against
    the two alone's 0.08 here.)"""
    sources, profiles, _, warehouse = consortium
    want = [score for score, _ in _union(sources, WITHDRAWN_FINAL)]
    alone = [_run(p, tmp_path / p.stem) for p in profiles]
    own = _ks(want, [score for score, _ in _union(alone, WITHDRAWN_FINAL)])
    merged = _ks(want, [score for score, _ in _union([warehouse], WITHDRAWN_FINAL)])
    assert merged <= own + 0.03, (merged, own)


def test_each_institutions_terms_keep_its_withdrawn_share(consortium):
    """a's students withdraw from 24 % of their enrollments, b's from 6 %: in the merged
    institution each one's terms (listed in turn: a's two, then b's one) keep its own share
    (TVD ≤ 0.03; one pooled share put 19-20 % in every term)."""
    sources, profiles, _, warehouse = consortium
    generated = _union([warehouse], STATUS_BY_TERM)
    terms = sorted({term for term, _, _ in generated})
    start = 0
    for source, profile in zip(sources, profiles, strict=True):
        count = json.loads(profile.read_text())["settings"]["terms"]
        own = set(terms[start:start + count])
        start += count
        got = _shares([(status, n) for term, status, n in generated if term in own])
        want = _shares([(status, n) for _, status, n in _union([source], STATUS_BY_TERM)])
        assert _tvd(got, want) <= 0.03, (source.name, got, want)


def test_size_is_the_sum(consortium):
    sources, _, _, warehouse = consortium
    sql = "SELECT COUNT(*) FROM {t}course_section_enrollment WHERE role = 'Student'"
    want = sum(r[0] for r in _union(sources, sql))
    got = _union([warehouse], sql)[0][0]
    assert abs(got / want - 1) <= 0.15, (got, want)


def test_manifest_keeps_each_source(consortium):
    _, profiles, merged, _ = consortium
    manifest = json.loads(merged.with_name("consortium.privacy.json").read_text())
    assert [s["sha256"] for s in manifest["sources"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in profiles]
    inputs = [json.loads(p.with_name(p.stem + ".privacy.json").read_text()) for p in profiles]
    assert [s["actions"] for s in manifest["sources"]] == [m["actions"] for m in inputs]
    table = "course_section_enrollment"
    assert manifest["tables"][table] == sum(m["tables"][table] for m in inputs)
    # each institution's terms are its own rows: a's two and b's one; FTE is per term
    settings = [json.loads(p.read_text())["settings"] for p in profiles]
    merged_settings = json.loads(merged.read_text())["settings"]
    assert merged_settings["terms"] == 3
    assert merged_settings["fte"] == pytest.approx(
        sum(s["fte"] * s["terms"] for s in settings) / 3, abs=0.2)
    assert [(s["profile"], s["terms"]) for s in manifest["calendar"]] == [
        (str(p), s["terms"]) for p, s in zip(profiles, settings, strict=True)]


def test_two_institutions_match_their_union(consortium, tmp_path):
    """Issue 11's "done when": every table's rows, every FK's children per parent and every
    column of the institution generated from the merged profile against the union."""
    sources, _, _, warehouse = consortium
    rows, misses = issue_11_misses(sources, warehouse, tmp_path)
    assert not rows, f"rows (union, generated) off by more than 10 %: {rows}"
    assert not misses, f"figures over issue 11's limits: {misses}"


def test_three_institutions_match_their_union(institutions, tmp_path):
    """The third begins in spring with 15-week terms: its terms keep their own dates."""
    sources, profiles = zip(*institutions.values(), strict=True)
    merged, warehouse = _merge_and_run(tmp_path, profiles)
    calendar = json.loads(merged.read_text())["calendar"]
    assert [(t["term_type"], t["year"], t.get("weeks", 16)) for t in calendar["terms"]] == [
        ("Fall", 2024, 16), ("Spring", 2025, 16), ("Fall", 2024, 16), ("Spring", 2025, 15),
        ("Fall", 2025, 15)]
    rows, misses = issue_11_misses(list(sources), warehouse, tmp_path)
    assert not rows, f"rows (union, generated) off by more than 10 %: {rows}"
    assert not misses, f"figures over issue 11's limits: {misses}"


def test_an_institution_merged_with_itself_is_twice_the_institution(institutions, tmp_path):
    """Counts doubled (terms, rows of fixed tables, term rows in the generated institution),
    every shape the same (shares to 10⁻⁶, quantiles to 10⁻⁴ of the range), and the generated
    institution matches the institution's tables twice over."""
    # (not b: its 20 group weights, each twice in the doubled source, are judged as
    # categories, which no continuous draw matches)
    source, profile = institutions["c"]
    merged, warehouse = _merge_and_run(tmp_path, [profile, profile])
    one, two = (json.loads(p.read_text()) for p in (profile, merged))
    assert two["settings"]["terms"] == 2 * one["settings"]["terms"]
    assert two["settings"]["fte"] == pytest.approx(one["settings"]["fte"], abs=0.1)
    assert two["tables"]["campus"]["rows"]["count"] == 2 * one["tables"]["campus"]["rows"]["count"]
    for table, spec in one["tables"].items():
        for column, dist in spec["columns"].items():
            _assert_same_shape(two["tables"][table]["columns"][column], dist, f"{table}.{column}")
        for key, dist in spec.get("rows", {}).items():
            if key != "count":
                _assert_same_shape(two["tables"][table]["rows"][key], dist, f"{table}/{key}")
    rows, misses = issue_11_misses([source, source], warehouse, tmp_path)
    assert not rows, f"rows (union, generated) off by more than 10 %: {rows}"
    assert not misses, f"figures over issue 11's limits: {misses}"


def _assert_same_shape(got: dict, want: dict, where: str) -> None:
    assert got["kind"] == want["kind"], where
    if want["kind"] == "categorical":
        assert {json.dumps(i["value"]): pytest.approx(i["p"], abs=1e-6) for i in got["values"]} \
            == {json.dumps(i["value"]): i["p"] for i in want["values"]}, where
    elif want["kind"] == "continuous" and "quantiles" in want:
        values = list(want["quantiles"].values())
        scale = 1e-4 * max(want.get("max", max(values)) - want.get("min", min(values)), 1e-9)
        for level, value in want["quantiles"].items():
            assert got["quantiles"][level] == pytest.approx(value, abs=scale), (where, level)
    elif want["kind"] == "conditional":
        cells = {json.dumps(c["when"], sort_keys=True): c["distribution"] for c in got["cells"]}
        for cell in want["cells"]:
            _assert_same_shape(cells[json.dumps(cell["when"], sort_keys=True)],
                               cell["distribution"], f"{where} {cell['when']}")
        _assert_same_shape(got["otherwise"], want["otherwise"], f"{where} otherwise")


def test_sizes_stored_as_values_and_as_a_range_merge(institutions, tmp_path):
    """One institution's students per offering stored as its few values (categorical),
    another's as a range (continuous, as a source with many offerings gives): the merged
    sizes keep every quantile inside their own [min, max] (the values' mass spread to v ± ½
    put the top quantile half a unit past max, and the merged profile failed its own check)."""
    source, profile = institutions["b"]
    ranged = json.loads(profile.read_text())
    sizes = {"kind": "continuous", "family": "empirical", "integer": True, "mean": 97.0,
             "sd": 4.0, "min": 92, "max": 102, "median": 97,
             "quantiles": {"0.01": 92, "0.5": 97, "0.99": 102}}
    ranged["tables"]["course_section_enrollment"]["rows"]["per_offering"] = {
        "kind": "conditional", "given": ["course_level"],
        "cells": [{"when": {"course_level": "100"}, "distribution": sizes}], "otherwise": sizes}
    other = tmp_path / "ranged.json"
    other.write_text(json.dumps(ranged))
    shutil.copy(profile.with_name("b.privacy.json"), tmp_path / "ranged.privacy.json")
    merged = tmp_path / "consortium.json"
    assert main(["profile", "merge", str(profile), str(other), "--out", str(merged)]) == 0
    sizes = json.loads(merged.read_text())["tables"]["course_section_enrollment"]["rows"]
    spec = sizes["per_offering"]
    for cell in [spec.get("otherwise", spec), *(c["distribution"] for c in spec.get("cells", []))]:
        if cell["kind"] == "continuous":
            assert all(cell["min"] <= v <= cell["max"] for v in cell["quantiles"].values())


def test_a_consortium_of_more_than_forty_terms_merges(institutions, tmp_path):
    """Each member's terms are the consortium's rows, so terms add up: eleven four-term
    members make 44 terms, each member's listed with its own work (runs and profiles once
    stopped at 40 terms, and such a merge exited 2)."""
    _, profile = institutions["a"]
    member = json.loads(profile.read_text())
    member["settings"]["terms"] = 4  # its two listed terms, then two more of its calendar
    members = []
    for i in range(11):
        members.append(tmp_path / f"m{i}.json")
        members[-1].write_text(json.dumps(member))
        shutil.copy(profile.with_name("a.privacy.json"), tmp_path / f"m{i}.privacy.json")
    merged = tmp_path / "consortium.json"
    assert main(["profile", "merge", *map(str, members), "--out", str(merged)]) == 0
    document = json.loads(merged.read_text())
    assert document["settings"]["terms"] == len(document["calendar"]["terms"]) == 44
    own = [{k: t[k] for k in ("activities", "due_date")} for t in member["calendar"]["terms"]]
    assert own and all(own[0].values())
    for start in range(0, 44, 4):
        got = document["calendar"]["terms"][start:start + len(own)]
        assert [{k: t.get(k) for k in ("activities", "due_date")} for t in got] == own


def test_gpa_drawn_on_the_student_alone_weighs_in_at_zero(institutions, tmp_path):
    """A profile without gpa_enrollment_rho draws GPA on the student alone: merged with one
    whose GPA follows the course's own score, it counts as 0 in the FTE-weighted mean (left
    out, it made gpa_rho 0.35 beside gpa_enrollment_rho 1.0: squares over 1, past the
    profile schema's bound)."""
    _, profile = institutions["b"]
    members = []
    for name, rhos in (("own", {"gpa_rho": 0.0, "gpa_enrollment_rho": 1.0}),
                       ("student", {"gpa_rho": 0.7})):
        member = json.loads(profile.read_text())
        member["engagement"].pop("gpa_enrollment_rho", None)
        member["engagement"].update(rhos)
        members.append(tmp_path / f"{name}.json")
        members[-1].write_text(json.dumps(member))
        shutil.copy(profile.with_name("b.privacy.json"), tmp_path / f"{name}.privacy.json")
    merged = tmp_path / "consortium.json"
    assert main(["profile", "merge", *map(str, members), "--out", str(merged)]) == 0
    engagement = json.loads(merged.read_text())["engagement"]
    assert engagement["gpa_rho"] == pytest.approx(0.35, abs=1e-3)
    assert engagement["gpa_enrollment_rho"] == pytest.approx(0.5, abs=1e-3)


def test_points_follow_due_dates_as_the_institutions_do(consortium):
    """Each institution's Spearman of points with due dates, weighed by its activities."""
    _, profiles, merged, _ = consortium
    links = [json.loads(p.read_text())["tables"]["learner_activity"]["links"]["points_possible"]
             for p in profiles]
    rows = [json.loads(p.with_name(f"{p.stem}.privacy.json").read_text())["tables"][
        "learner_activity"] for p in profiles]
    want = sum(link["spearman"] * n for link, n in zip(links, rows, strict=True)) / sum(rows)
    got = json.loads(merged.read_text())["tables"]["learner_activity"]["links"]["points_possible"]
    assert got["with"] == "due_date" and abs(got["spearman"] - want) < 1e-3, (got, links, rows)


def test_response_dates_stay_dates_only_where_every_institution_holds_dates(institutions,
                                                                             tmp_path):
    """A result's response date is written at midnight only where each member's source
    holds it as dates (`dates`): one member with times of day makes the consortium's
    responses timed again; two members with dates keep it."""
    _, profile = institutions["b"]
    dated = json.loads(profile.read_text())
    dated["tables"]["learner_activity_result"]["dates"] = ["response_date"]
    other = tmp_path / "dated.json"
    other.write_text(json.dumps(dated))
    shutil.copy(profile.with_name("b.privacy.json"), tmp_path / "dated.privacy.json")
    for inputs, want in (((profile, other), None), ((other, other), ["response_date"])):
        merged = tmp_path / "consortium.json"
        assert main(["profile", "merge", *map(str, inputs), "--out", str(merged)]) == 0
        results = json.loads(merged.read_text())["tables"]["learner_activity_result"]
        assert results.get("dates") == want, inputs
