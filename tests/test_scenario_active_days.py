"""The issue's in-domain effect recovered from the marts at 5,000 FTE: "each additional
active day per week adds 2 points" (distributions/scenarios/active_days.yaml).

The scenario declares its world (`engagement: {score_rho: 0}`: scores owe nothing to the
engagement that drives activity), so within its one warehouse an OLS of
course_grade.le_current_score on the mart's active days per week (avg num_view_days over the
weeks the events cover) gives back 2. One command also writes an untreated twin of the same
world (the same engagement values, no effect) with one seed: the twins' difference is 2 ×
the mart's active days, student by student. dbt builds level 1 (and what it reads) on the
scenario's warehouse only. One week of events (--event-days 7) keeps the run small: the effect
is per active day, whatever the weeks.
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
# a course score is rounded to hundredths: where the untreated one lies on a half-hundredth
# (the mean of two scores in hundredths), the float sum with the effect may round the other way
HUNDREDTH = 0.01 + FLOAT_NOISE
# the untreated twin: the scenario's world without its effect
UNTREATED = "name: untreated\nengagement: {score_rho: 0}\n"


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("active_days")
    untreated = tmp / "untreated.yaml"
    untreated.write_text(UNTREATED)
    out = tmp / "out"
    assert main(["run", "--out", str(out), "--scenario", str(ACTIVE_DAYS), "--scenario",
                 str(untreated), "--fte", "5000", "--terms", "1", "--event-days",
                 str(EVENT_DAYS), "--no-marts", "--no-evaluate"]) == 0
    # level 1 and its parents, the one mart read here, with their tests: dbt's default
    # (eager) selection would also run the tests that reference marts left unbuilt, and fail
    # on them; cautious selection runs the tests whose every parent is built (107 nodes, 8 s;
    # every mart and its tests took 24 s)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_INDIRECT_SELECTION", "cautious")
        assert main(["build", "--out", str(out / "active_days"),
                     "--select", "+mart_taskforce__level1_aggregated"]) == 0
    yield out
    shutil.rmtree(tmp, ignore_errors=True)


def _scores_and_active_days(out: Path) -> dict[str, np.ndarray]:
    """Per student and course: the mart's active days per week, and both twins' current
    scores (students with graded work)."""
    with connect(out / "active_days") as con:
        con.sql(f"attach '{out / 'untreated' / 'warehouse.duckdb'}' as twin (read_only)")
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
                join twin.context_store_entity.course_grade b
                  using (course_section_id, person_id)
                join context_store_entity.course_section s using (course_section_id))
            select days, treated, untreated from active join grades using (person_id, offering)
            where treated is not null and untreated is not null""").fetchnumpy()


def test_two_points_per_active_day_recovered_within_one_warehouse(twins):
    """The issue's test: OLS on level1_aggregated ⋈ course_grade of one warehouse."""
    d = _scores_and_active_days(twins)
    assert len(d["days"]) > 10_000 and d["days"].std() > 0.5
    fit = sm.OLS(d["treated"], sm.add_constant(d["days"])).fit()
    assert abs(fit.params[1] - 2) <= 2 * fit.bse[1], (fit.params, fit.bse)
    assert fit.bse[1] < 0.1, fit.bse  # precise enough to tell 2 from the baseline's ~6.8


def test_twins_differ_by_two_points_per_active_day(twins):
    d = _scores_and_active_days(twins)
    effect = d["treated"] - d["untreated"]
    fit = sm.OLS(effect, sm.add_constant(d["days"])).fit()
    assert abs(fit.params[1] - 2) <= 2 * fit.bse[1] + FLOAT_NOISE, (fit.params, fit.bse)
    # the generator's active days are the mart's, student by student
    off = np.abs(effect - 2 * d["days"])
    assert off.max() <= HUNDREDTH and (off < 1e-6).mean() > 0.99, (off.max(),
                                                                  (off >= 1e-6).sum())
