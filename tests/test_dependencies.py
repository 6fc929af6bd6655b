"""Learned dependencies and the calibrated gradebook: a hand-built source whose withdrawal is
tied to low scores and, in addition, to the course level (level-100 courses lose a third more
students), with an outcome label and demographic bands tied to scores, goes through `profile`
then `run`; the generated institution keeps every tie (Spearman or Cramér's V within 0.05),
and teachers (never withdrawn in the source) are not withdrawn. A second source, most
students in one enrollment, keeps its demographic bands' ties to the student's score."""

from __future__ import annotations

import json

import dependency_metrics
import numpy as np
import pandas as pd
import pytest
from conftest import profile_and_run
from dependency_metrics import PERSON_COLUMNS
from handbuilt import institution, shape_of, write_duckdb
from scipy import stats

from pipeline.cli import main

TOLERANCE = 0.05
WITHDRAWN = ("Withdrawn", "Dropped")
ENTITY = "context_store_entity"
# every scored result's person, offering and score ratio, as a CTE named res
RESULT_RATIOS = f"""res AS (SELECT r.person_id AS pid, a.course_offering_id AS off,
                            r.published_score / a.points_possible AS x
                     FROM {ENTITY}.learner_activity_result r
                     JOIN {ENTITY}.learner_activity a USING (learner_activity_id)
                     WHERE r.published_score IS NOT NULL AND a.points_possible > 0)"""


def _planted_source(folder):
    """The `withdrawal` source with the extra (outcome, band) columns tied to scores, plus
    withdrawal tied to the course level."""
    tables = institution(shape_of("withdrawal", students=700, seed=3, extra_columns=True))
    enrollments = tables["course_section_enrollment"]
    levels = tables["course_section"].merge(tables["course_offering"], on="course_offering_id")
    level = enrollments["course_section_id"].map(
        levels.set_index("course_section_id")["course_level"])
    rng = np.random.default_rng(11)
    flip = (enrollments["role"] == "Student") & (level == "100") & \
        (enrollments["role_status"] == "Enrolled") & (rng.random(len(enrollments)) < 0.35)
    enrollments.loc[flip, "role_status"] = "Withdrawn"
    enrollments.loc[flip, "enrollment_status"] = "Inactive"
    return write_duckdb(folder / "planted.duckdb", tables)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dependencies")
    source = _planted_source(folder)
    return source, *profile_and_run(source, folder, "--fte", 900, "--event-days", 1,
                                    "--seed", 5)


def _enrollment_scores(path) -> tuple[np.ndarray, np.ndarray]:
    """(mean score ratio, withdrawn) per student enrollment with graded work."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.sql(f"""
            WITH {RESULT_RATIOS},
                 enr AS (SELECT e.person_id AS pid, s.course_offering_id AS off,
                                MAX(CASE WHEN role_status IN {WITHDRAWN} THEN 1 ELSE 0 END) AS w
                         FROM {ENTITY}.course_section_enrollment e
                         JOIN {ENTITY}.course_section s USING (course_section_id)
                         WHERE role = 'Student' GROUP BY 1, 2)
            SELECT AVG(x) AS mx, ANY_VALUE(w) AS w FROM enr JOIN res USING (pid, off)
            GROUP BY pid, off""").fetchnumpy()
    return rows["mx"], rows["w"]


def _level_status(path) -> np.ndarray:
    """Student enrollments: course level × withdrawn, as a contingency table."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.sql(f"""
            SELECT o.course_level AS level,
                   CASE WHEN e.role_status IN {WITHDRAWN} THEN 1 ELSE 0 END AS w, COUNT(*) AS n
            FROM {ENTITY}.course_section_enrollment e
            JOIN {ENTITY}.course_section s USING (course_section_id)
            JOIN {ENTITY}.course_offering o USING (course_offering_id)
            WHERE e.role = 'Student' GROUP BY 1, 2""").fetchall()
    levels = sorted({r[0] for r in rows})
    table = np.zeros((len(levels), 2))
    for level, w, n in rows:
        table[levels.index(level), w] = n
    return table


def _cramers_v(table: np.ndarray) -> float:
    table = table[table.sum(axis=1) > 0]
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


def test_score_withdrawal_spearman_matches_the_source(planted):
    source, _, warehouse = planted
    want = stats.spearmanr(*_enrollment_scores(source)).statistic
    got = stats.spearmanr(*_enrollment_scores(warehouse)).statistic
    assert want < -0.2
    assert abs(got - want) <= TOLERANCE, (got, want)


def test_withdrawal_follows_the_course_level(planted):
    source, profile, warehouse = planted
    spec = profile["tables"]["course_section_enrollment"]["columns"]["role_status"]
    student = next(c["distribution"] for c in spec["cells"] if c["when"]["role"] == "Student")
    assert student["given"] == ["course_section_id.course_offering_id.course_level"]
    want, got = _cramers_v(_level_status(source)), _cramers_v(_level_status(warehouse))
    assert want > 0.1
    assert abs(got - want) <= TOLERANCE, (got, want)


def _withdrawn_last_work(path) -> np.ndarray:
    """Per withdrawn student enrollment with submitted work: the fraction of its term at
    which its last response came in."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.sql(f"""
            SELECT (epoch(MAX(r.response_date)) - epoch(ANY_VALUE(t.term_begin_date)))
                   / (epoch(ANY_VALUE(t.term_end_date)) - epoch(ANY_VALUE(t.term_begin_date)))
            FROM {ENTITY}.learner_activity_result r
            JOIN {ENTITY}.learner_activity a USING (learner_activity_id)
            JOIN {ENTITY}.course_offering o USING (course_offering_id)
            JOIN {ENTITY}.academic_term t USING (academic_term_id)
            JOIN {ENTITY}.course_section s USING (course_offering_id)
            JOIN {ENTITY}.course_section_enrollment e
              ON e.course_section_id = s.course_section_id AND e.person_id = r.person_id
            WHERE e.role = 'Student' AND e.role_status IN {WITHDRAWN}
              AND r.response_date IS NOT NULL
            GROUP BY r.person_id, o.course_offering_id""").fetchall()
    return np.array([row[0] for row in rows], dtype=float)


def test_withdrawn_stop_when_the_source_s_do(planted):
    """The withdrawn's last submitted work falls in the term where the source's does (the
    profile's `withdrawal_at`, the withdrawn's kept rows spread over the work due before
    they left): drawn uniformly in 10-70 % of the term and keeping the first of their
    course's list, the withdrawn stopped early (median 0.36 of the term vs the source's
    0.84, KS 0.77). Missing the withdrawn's work at random could miss the last piece before
    leaving and move the stop earlier (KS 0.368, run seeds 5-8: 0.35-0.42); that piece is
    kept now whenever they hand in anything (median 0.73, KS 0.269; seeds 5-8: 0.25-0.34).
    What is left: the leaving is drawn apart from the course's schedule, so a course whose
    last work is due at 0.85 of the term stops there when the draw is 0.95 (this source's
    courses hold 2-10 pieces)."""
    source, profile, warehouse = planted
    assert "withdrawal_at" in profile["engagement"]
    want, got = _withdrawn_last_work(source), _withdrawn_last_work(warehouse)
    assert len(want) > 20 and len(got) > 20
    assert stats.ks_2samp(want, got).statistic <= 0.35, (np.median(want), np.median(got))


def test_teachers_are_not_withdrawn(planted):
    import duckdb

    _, _, warehouse = planted
    with duckdb.connect(str(warehouse), read_only=True) as con:
        teachers, withdrawn = con.sql(f"""
            SELECT COUNT(*), COUNT(*) FILTER (WHERE role_status IN {WITHDRAWN})
            FROM {ENTITY}.course_section_enrollment WHERE role = 'Teacher'""").fetchall()[0]
    assert teachers > 0 and withdrawn == 0


def test_calibrated_engagement_is_in_the_profile(planted):
    _, profile, _ = planted
    engagement = profile["engagement"]
    assert 0.2 < engagement["withdrawal_rho"] < 0.95
    assert engagement["score_rho"] != 0.6  # estimated, not the default's


def _label_scores(path, table: str, column: str) -> list[tuple]:
    """(mean score ratio, label) per student enrollment (or per person, for person labels)."""
    import duckdb

    unit = "pid, off" if table != "person" else "pid"
    if table == "person":
        labels = f"SELECT person_id AS pid, {column} AS v FROM {ENTITY}.person"
    else:
        labels = (f"SELECT e.person_id AS pid, s.course_offering_id AS off, {column} AS v "
                  f"FROM {ENTITY}.course_section_enrollment e JOIN {ENTITY}.course_section s "
                  f"USING (course_section_id) WHERE role = 'Student'")
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(f"""
            WITH {RESULT_RATIOS},
                 per AS (SELECT {unit}, AVG(x) AS mx FROM res GROUP BY ALL)
            SELECT mx, v FROM ({labels}) JOIN per USING ({unit}) WHERE v IS NOT NULL
            """).fetchall()


@pytest.mark.parametrize("table,column", [
    pytest.param("course_section_enrollment", "final_result", marks=pytest.mark.xfail(
        reason="courses offered once (profile recurring: false) draw course columns per "
               "offering; the tie calibration's gradebook simulation does not model the "
               "between-offering score variance this adds: Spearman 0.770-0.779 over run "
               "seeds 5-8 vs the source's 0.815 (tolerance 0.05: passes, by 0.005-0.009, "
               "too close to call reliable); passes with recurring courses", strict=False)),
                                          ("person", "imd_band"), ("person", "disability")])
def test_labels_follow_scores(planted, table, column):
    source, profile, warehouse = planted
    order = profile["engagement"]["ties"][f"{table}.{column}"]["order"]
    spearman = []
    for path in (source, warehouse):
        rows = _label_scores(path, table, column)
        spearman.append(stats.spearmanr([r[0] for r in rows],
                                        [order.index(r[1]) for r in rows]).statistic)
    want, got = spearman
    assert want > 0.2
    assert abs(got - want) <= TOLERANCE, (column, got, want)


@pytest.fixture(scope="module")
def one_enrollment(tmp_path_factory):
    """A source shaped like the real-like one (benchmarks/_real_like.py): most students in one
    course of one term, demographic bands tied to the student's mean score, five offerings a
    term (so ten teachers, k of them); profiled, run at its own size without events."""
    folder = tmp_path_factory.mktemp("one_enrollment")
    source = write_duckdb(folder / "source.duckdb", institution(
        shape_of("one_term", students=2000, offerings_per_term=5, extra_columns=True)))
    profile = folder / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
    out = folder / "w"
    assert main(["run", "--profile", str(profile), "--out", str(out), "--event-scale", "0",
                 "--no-marts", "--no-evaluate"]) == 0
    return str(source), str(out / "warehouse.duckdb")


@pytest.mark.parametrize("band", PERSON_COLUMNS)
def test_person_bands_follow_one_enrollment_scores(one_enrollment, band):
    """A band tied to the mean score of a student of one enrollment keeps its Cramér's V with
    that score (quintiles) within 0.05: drawn on the student's own part of engagement alone
    (√0.5 of an enrollment's), disability came out 0.15 short of the source, age_band 0.07."""
    pair = ("person", "cramers_v", "score", band)
    [(_, want, got)] = dependency_metrics.planted(*one_enrollment, "extra_columns", [pair])
    assert want > 0.25
    assert abs(got - want) <= TOLERANCE, (band, got, want)


def _outcome_by_registration(path, edges=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(final_result × registration_day decile table, nulls as a row and a column of their
    own, as `evaluate` bins them; the deciles; {role: (rows, outcomes, registration days)})."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        frame = con.sql(f"SELECT role, final_result, registration_day "
                        f"FROM {ENTITY}.course_section_enrollment").df()
    if edges is None:
        edges = np.unique(np.nanquantile(frame["registration_day"], np.arange(1, 10) / 10))
    day = frame["registration_day"].to_numpy(dtype=float)
    bins = np.where(np.isnan(day), -1, np.searchsorted(edges, day, side="right"))
    table = pd.crosstab(frame["final_result"].fillna("(null)"), bins).to_numpy()
    roles = {role: (len(part), int(part["final_result"].notna().sum()),
                    int(part["registration_day"].notna().sum()))
             for role, part in frame.groupby("role")}
    return table, edges, roles


def test_teachers_have_no_outcome_and_no_registration_day(one_enrollment):
    """The source's outcome label and registration day exist for students only. Drawn given
    role_status (a teacher's is "Enrolled"), the teachers took outcome labels and the
    registration days' few nulls fell on students: final_result × registration_day Cramér's
    V 0.44 against the source's 0.64 on the real-like source, all of it those rows."""
    source, warehouse = one_enrollment
    want, edges, source_roles = _outcome_by_registration(source)
    got, _, roles = _outcome_by_registration(warehouse, edges)
    assert source_roles["Teacher"][1:] == (0, 0) and source_roles["Teacher"][0] >= 10
    rows, outcomes, days = roles["Teacher"]
    assert rows > 0 and (outcomes, days) == (0, 0), roles
    assert roles["Student"][1] == roles["Student"][2] == roles["Student"][0], roles
    assert abs(_cramers_v(got) - _cramers_v(want)) <= TOLERANCE, (_cramers_v(got),
                                                                  _cramers_v(want))


def _pair_icc(path) -> float:
    """Pairwise correlation of the mean score ratios of two enrollments of one student."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        a, b = con.sql(f"""
            WITH {RESULT_RATIOS},
                 per AS (SELECT pid, off, AVG(x) AS mx FROM res GROUP BY ALL)
            SELECT p.mx, q.mx FROM per p JOIN per q ON p.pid = q.pid AND p.off < q.off
            """).fetchnumpy().values()
    both = np.concatenate([a, b])
    return float(np.mean((a - both.mean()) * (b - both.mean())) / both.var())


def test_students_share_as_little_as_the_source_s(planted):
    """The source's students share less of their engagement between enrollments (pairwise
    correlation of their courses' mean scores 0.18) than the default's student_share 0.5
    gives: learned, the generated correlation follows the source's."""
    source, profile, warehouse = planted
    want, got = _pair_icc(source), _pair_icc(warehouse)
    assert want < 0.3
    assert abs(got - want) <= TOLERANCE, (got, want)
    assert profile["engagement"]["student_share"] < 0.4


def _gpa_scores(path) -> tuple[np.ndarray, np.ndarray]:
    """(GPA, the enrollment's mean score ratio) per grade row with both."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.sql(f"""
            WITH {RESULT_RATIOS},
                 per AS (SELECT pid, off, AVG(x) AS mx FROM res GROUP BY ALL)
            SELECT g.gpa_cumulative_excluding_course_grade AS gpa, per.mx
            FROM {ENTITY}.course_grade g JOIN {ENTITY}.course_section s USING (course_section_id)
            JOIN per ON per.pid = g.person_id AND per.off = s.course_offering_id
            WHERE g.gpa_cumulative_excluding_course_grade IS NOT NULL""").fetchnumpy()
    return rows["gpa"], rows["mx"]


def test_gpa_follows_the_course_score_as_the_source_s(planted):
    """The source's GPA is its course's final score / 25: it follows the enrollment's own
    score (Spearman 0.90), not the student's other courses. Drawn on the student's part of
    engagement (the default's gpa_rho 0.7) it could not; learned, it keeps the source's
    Spearman within 0.05."""
    source, profile, warehouse = planted
    want = stats.spearmanr(*_gpa_scores(source)).statistic
    got = stats.spearmanr(*_gpa_scores(warehouse)).statistic
    assert want > 0.8
    assert abs(got - want) <= TOLERANCE, (got, want)
    assert profile["engagement"]["gpa_enrollment_rho"] > 0.5


def test_one_enrollment_per_student_keeps_the_default_share(tmp_path):
    """A source whose students each hold one enrollment tells nothing of what a student's
    enrollments share: student_share stays the default's, with a note saying why, and GPA
    is drawn on the enrollment's engagement as a whole."""
    source = write_duckdb(tmp_path / "one.duckdb", institution(
        shape_of("one_term", students=400, terms_per_student=(1.0,))))
    out = tmp_path / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(out)]) == 0
    engagement = json.loads(out.read_text())["engagement"]
    notes = json.loads(out.with_suffix(".privacy.json").read_text())["notes"]
    assert engagement["student_share"] == 0.5
    assert any(n.startswith("/engagement/student_share: kept the default") for n in notes)
    assert any("drawn on the enrollment's engagement" in n for n in notes)
