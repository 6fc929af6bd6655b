"""`profile merge` combines the conditional cells and blocks learned last by weight: the due
and response dates given the kind of work, the responses of undated work, a numeric extra
given the column its null-ness follows, the labels tied to scores.

Two hand-built institutions (tests/handbuilt.py, with kinds of work and an unregistration day
for the withdrawn) differ where a merge that kept the largest institution's block, or weighed
a cell by its whole table, would show it: A sits its undated exams at ~0.92 of the term, B at
~0.6; B withdraws 20 % of enrollments (A 6 %) and unregisters them around day 70 (A: 30).
Tolerances against the union of the two sources (the issue's): numeric KS ≤ 0.05 — for the
generated institution where generation draws the part as profiled, for the merged profile's
own piecewise-linear CDF elsewhere (undated responses: the generator's lateness copula and
its withdrawals move them, with one source as with two).
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from handbuilt import institution, shape_of, write_duckdb
from test_privacy_cells import kinds_of_work, unregistration

from pipeline.cli import main

E = "context_store_entity."
FRAME = ("(SELECT a.*, g.name AS kind, t.term_begin_date AS b, t.term_end_date AS e FROM "
         "{t}learner_activity a JOIN {t}learner_activity_group g USING "
         "(learner_activity_group_id) JOIN {t}course_offering o ON a.course_offering_id = "
         "o.course_offering_id JOIN {t}academic_term t ON o.academic_term_id = "
         "t.academic_term_id)")
RESULTS = (f"{{t}}learner_activity_result r JOIN {FRAME} w USING (learner_activity_id) "
           "WHERE r.response_date IS NOT NULL")
UNDATED = ("SELECT (epoch(r.response_date) - epoch(w.b)) / (epoch(w.e) - epoch(w.b)) FROM "
           f"{RESULTS} AND w.due_date IS NULL")
OFFSET = f"SELECT (epoch(r.response_date) - epoch(w.due_date)) / 3600 FROM {RESULTS}"
DUE = f"SELECT (epoch(w.due_date) - epoch(w.b)) / (epoch(w.e) - epoch(w.b)) FROM {FRAME} w"
UNREGISTERED = ("SELECT unregistration_day FROM {t}course_section_enrollment "
                "WHERE role_status = 'Withdrawn' AND unregistration_day IS NOT NULL")
INSTITUTIONS = (("a", 360, 41, 0.06, 0.92, 30), ("b", 260, 42, 0.2, 0.6, 70))


@pytest.fixture(scope="module")
def consortium(tmp_path_factory):
    """(sources, merged profile, warehouse generated from it)."""
    folder = tmp_path_factory.mktemp("merge_cells")
    sources, profiles = [], []
    for name, students, seed, withdrawn, exam_at, unregistered in INSTITUTIONS:
        tables = institution(shape_of("extra_columns", students=students, seed=seed,
                                      withdrawn=withdrawn))
        rng = np.random.default_rng(seed)
        kinds_of_work(tables, rng, exam_at)
        unregistration(tables, rng, unregistered)
        sources.append(write_duckdb(folder / f"{name}.duckdb", tables))
        profiles.append(folder / f"{name}.json")
        assert main(["profile", "--source", str(sources[-1]), "--out", str(profiles[-1])]) == 0
    merged = folder / "consortium.json"
    assert main(["profile", "merge", *map(str, profiles), "--out", str(merged)]) == 0
    assert main(["run", "--profile", str(merged), "--out", str(folder / "w"), "--no-marts",
                 "--event-days", "1", "--seed", "3", "--no-evaluate"]) == 0
    return sources, json.loads(merged.read_text()), folder / "w" / "warehouse.duckdb"


def _values(paths, sql: str) -> np.ndarray:
    out: list = []
    for path in paths:
        with duckdb.connect(str(path), read_only=True) as con:
            out += [r[0] for r in con.sql(sql.replace("{t}", E)).fetchall()]
    return np.sort(np.asarray(out, dtype=float))


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    grid = np.union1d(a, b)
    return float(np.abs(np.searchsorted(a, grid, "right") / len(a)
                        - np.searchsorted(b, grid, "right") / len(b)).max())


def _ks_spec(sample: np.ndarray, spec: dict) -> float:
    """KS between a sample and a profile's continuous distribution (its piecewise-linear CDF
    through min, the stored quantiles and max)."""
    points = sorted((float(q), float(v)) for q, v in spec["quantiles"].items())
    xs = np.maximum.accumulate([spec["min"], *(v for _, v in points), spec["max"]])
    ps = np.array([0.0, *(q for q, _ in points), 1.0])
    model = np.interp(sample, xs, ps)
    empirical = np.arange(1, len(sample) + 1) / len(sample)
    return float(max(np.abs(model - empirical).max(),
                     np.abs(model - (empirical - 1 / len(sample))).max()))


def _cell(spec: dict, value: str) -> dict:
    return next(c["distribution"] for c in spec["cells"]
                if list(c["when"].values()) == [value])


def test_undated_responses_are_pooled_by_weight(consortium):
    sources, profile, _ = consortium
    spec = profile["tables"]["learner_activity_result"]["undated"]["response_date"]
    union = _values(sources, UNDATED)
    assert min(_ks_spec(_values([s], UNDATED), spec) for s in sources) > 0.2  # not one's
    assert _ks_spec(union, spec) <= 0.05


@pytest.mark.parametrize("kind", ["Quizzes", "Projects", "Assignments"])
def test_date_cells_of_each_kind_of_work_match_the_union(consortium, kind):
    sources, profile, _ = consortium
    tables = profile["tables"]
    due = _cell(tables["learner_activity"]["columns"]["due_date"], kind)
    dates = _values(sources, f"{DUE} WHERE kind = '{kind}'")
    # a few dozen assignments: the sample's own steps (1/n each) on top of the tolerance
    assert _ks_spec(dates, due) <= 0.05 + 1 / len(dates)
    offset = _cell(tables["learner_activity_result"]["columns"]["response_date"], kind)
    assert _ks_spec(_values(sources, f"{OFFSET} AND kind = '{kind}'"), offset) <= 0.05
    # an undated kind keeps its all-null cell
    exams = _cell(tables["learner_activity"]["columns"]["due_date"], "Exams")
    assert exams["null_fraction"] == 1.0


def test_extra_given_its_column_is_weighed_by_the_cells_rows(consortium):
    sources, profile, warehouse = consortium
    spec = profile["tables"]["course_section_enrollment"]["columns"]["unregistration_day"]
    assert spec["given"] == ["role_status"]
    union = _values(sources, UNREGISTERED)
    assert _ks_spec(union, _cell(spec, "Withdrawn")) <= 0.05
    assert _ks(union, _values([warehouse], UNREGISTERED)) <= 0.05
    others = _values([warehouse], UNREGISTERED.replace("= 'Withdrawn' AND unregistration_day "
                                                      "IS NOT NULL", "<> 'Withdrawn' AND "
                                                      "unregistration_day IS NOT NULL"))
    assert len(others) == 0  # only the withdrawn are unregistered, as at both sources


def test_ties_are_one_institutions_structure(consortium):
    _, profile, _ = consortium
    ties = profile["engagement"]["ties"]
    within = {name.split(".")[-1]: tie["within"]["given"] for name, tie in ties.items()
              if "within" in tie}
    for label, given in within.items():  # drawn within a label not drawn within it
        assert within.get(given) != label, within
