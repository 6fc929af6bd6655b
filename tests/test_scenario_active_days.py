"""The issue's in-domain effect recovered from the marts at 5,000 FTE: "each additional
active day per week adds 2 points" (distributions/scenarios/active_days.yaml).

One command writes the scenario and an untreated twin (a scenario holding only its name)
with one seed; dbt builds the marts on the scenario's warehouse only. OLS of the twins'
difference in course_grade.le_current_score on the mart's active days per week (avg
num_view_days over the weeks the events cover) gives back 2. One week of events
(--event-days 7) keeps the run small: the effect is per active day, whatever the weeks.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from conftest import connect

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
ACTIVE_DAYS = ROOT / "distributions" / "scenarios" / "active_days.yaml"
EVENT_DAYS, WEEKS = 7, 1
FLOAT_NOISE = 1e-9  # the effect is exact: the residuals are float rounding, not sampling


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("active_days")
    baseline = tmp / "baseline.yaml"
    baseline.write_text("name: baseline\n")
    out = tmp / "out"
    assert main(["run", "--out", str(out), "--scenario", str(ACTIVE_DAYS), "--scenario",
                 str(baseline), "--fte", "5000", "--terms", "1", "--event-days",
                 str(EVENT_DAYS), "--no-marts", "--no-evaluate"]) == 0
    # every mart: dbt build runs the tests of what it selects, and those reference the
    # other marts, so a selection of level 1 and its parents fails on them
    assert main(["build", "--out", str(out / "active_days")]) == 0
    yield out
    shutil.rmtree(tmp, ignore_errors=True)


def _scores_and_active_days(out: Path) -> dict[str, np.ndarray]:
    """Per student and course: the mart's active days per week, and both twins' current
    scores (students with graded work)."""
    with connect(out / "active_days") as con:
        con.sql(f"attach '{out / 'baseline' / 'warehouse.duckdb'}' as baseline (read_only)")
        return con.sql(f"""
            with active as (
                select udp_person_id as person_id, udp_course_offering_id as offering,
                       sum(num_view_days) / {WEEKS} as days
                from mart_taskforce.level1_aggregated
                where week_in_term <= {WEEKS}
                group by 1, 2),
            grades as (
                select g.person_id, s.course_offering_id as offering,
                       g.le_current_score as treated, b.le_current_score as untreated
                from context_store_entity.course_grade g
                join baseline.context_store_entity.course_grade b
                  using (course_section_id, person_id)
                join context_store_entity.course_section s using (course_section_id))
            select days, treated, untreated from active join grades using (person_id, offering)
            where treated is not null and untreated is not null""").fetchnumpy()


def test_two_points_per_active_day_recovered_from_the_marts(twins):
    d = _scores_and_active_days(twins)
    assert len(d["days"]) > 10_000 and d["days"].std() > 0.5
    effect = d["treated"] - d["untreated"]
    fit = sm.OLS(effect, sm.add_constant(d["days"])).fit()
    assert abs(fit.params[1] - 2) <= 2 * fit.bse[1] + FLOAT_NOISE, (fit.params, fit.bse)
    # the generator's active days are the mart's, student by student
    assert np.abs(effect - 2 * d["days"]).max() < 1e-6
    # within one warehouse the slope is not the effect: engagement drives both activity
    # and scores, so the untreated twin's scores already rise with active days
    naive = sm.OLS(d["untreated"], sm.add_constant(d["days"])).fit()
    assert naive.params[1] > 2 * naive.bse[1], (naive.params, naive.bse)
