"""Course grades from results and assignment-group weights, as Canvas computes them.

Current score: each group's graded points, weighted by group weight over the groups that have
graded work. Final score: the same over all groups, with missing work counted as zero. Only
published assignments count. Letter grades follow the profile's grading scheme; withdrawn
students get no final grade. A profile learned from a source may say otherwise (`gradebook`:
withdrawn students scored, the current score the final one). Results are recomputed (not
joined) from their seeded functions.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from pipeline.generate._column_values import Labels, numeric
from pipeline.generate._engine import Engine, rule
from pipeline.generate._rules.enrollment import KEY as ENROLLMENT
from pipeline.generate._rules.enrollment import own_engagement, student_latent
from pipeline.generate._rules.gradebook import (
    RESULT,
    activity_values,
    is_withdrawn,
    result_core,
    scores,
)
from pipeline.udp._schema import Table

GRADE = "course_grade"
_MAX_PASS = 400_000  # results per gradebook pass, so memory follows the block size
_GPA_SAMPLE = 200_000  # grade rows whose GPA scores rank each row's


@rule("grade")
def course_grade_column(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Columns of course_grade."""
    enrollments = engine.parent_rows(GRADE, rows)
    if column in ("course_section_id", "person_id"):
        return engine.fk_rows(ENROLLMENT, column, enrollments)
    if column == "gpa_cumulative_excluding_course_grade":
        return _cumulative_gpa(engine, enrollments)
    current, final = engine.memo(("gradebook",), rows, lambda: _gradebook(engine, enrollments))
    if column == "le_current_score":
        return current
    if column == "le_final_score":
        return final
    return _letters(engine, final)


def _gradebook(engine: Engine, enrollments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Current and final scores of each enrollment. Generated beside its results block, the
    results are the block's own (memoised); alone, they are recomputed in bounded passes."""
    current, final = np.full(len(enrollments), np.nan), np.full(len(enrollments), np.nan)
    offsets = engine.layouts[RESULT].offsets
    start = 0
    while start < len(enrollments):
        stop = _pass_end(offsets, enrollments, start)
        part = slice(start, stop)
        if start == 0 and stop == len(enrollments):
            current[part], final[part] = _scores_of(engine, enrollments[part])
        else:
            with engine.scratch():
                current[part], final[part] = _scores_of(engine, enrollments[part])
        start = stop
    rules = engine.profile.get("gradebook", {})  # learned from a source; Canvas's otherwise
    if rules.get("current_is_final", False):
        current = final.copy()
    if not rules.get("withdrawn_scored", False):
        withdrawn = is_withdrawn(engine, enrollments)
        current[withdrawn] = np.nan
        final[withdrawn] = np.nan
    return current, final


def _pass_end(offsets: np.ndarray, enrollments: np.ndarray, start: int) -> int:
    limit = offsets[enrollments[start]] + _MAX_PASS
    stop = int(np.searchsorted(offsets[enrollments + 1], limit, side="right"))
    return max(stop, start + 1)


def _scores_of(engine: Engine, enrollments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    offsets = engine.layouts[RESULT].offsets
    lo, hi = int(offsets[enrollments[0]]), int(offsets[enrollments[-1] + 1])
    results = engine.rows(lo, hi)
    if not len(results):
        return np.full(len(enrollments), np.nan), np.full(len(enrollments), np.nan)
    core = result_core(engine, results)
    published = activity_values(engine, core, "status").isin(["published"])
    points = numeric(activity_values(engine, core, "points_possible"))
    score = scores(engine, results)
    compact_groups = engine.parent_rows("learner_activity", core["compact"])
    groups = compact_groups[core["position"]]
    weights = numeric(engine.column("learner_activity_group", "group_weight",
                                    compact_groups))[core["position"]]
    owner = core["enrollments"] - enrollments[0]
    graded = published & ~np.isnan(score)
    # the final score counts missing work as zero; work awaiting grading does not count
    missing = published & core["missing"]
    n = int(enrollments[-1] - enrollments[0] + 1)
    current = _weighted(owner, groups, weights, np.where(graded, score, 0),
                        np.where(graded, points, 0), n)
    final = _weighted(owner, groups, weights, np.where(graded, score, 0),
                      np.where(graded | missing, points, 0), n)
    local = enrollments - enrollments[0]
    return current[local], final[local]


def _weighted(owner, groups, weights, earned, possible, n) -> np.ndarray:
    """Per owner: Σ_g w_g · earned_g / possible_g over groups with possible > 0, / Σ w_g.
    An owner whose counted work lies only in zero-weight groups (a withdrawn student left
    with quizzes weighted 0) is scored on plain points, as an unweighted course is, not
    left without a score."""
    # results of one enrollment are ordered by activity, hence by group: segments are runs
    change = np.flatnonzero((np.diff(owner) != 0) | (np.diff(groups) != 0)) + 1
    starts = np.concatenate([[0], change])
    earned_g = np.add.reduceat(earned, starts)
    possible_g = np.add.reduceat(possible, starts)
    owner_g = owner[starts]
    counts = possible_g > 0
    ratio = np.divide(earned_g, possible_g, out=np.zeros_like(earned_g), where=counts)
    weight_used = np.where(counts, np.maximum(weights[starts], 0), 0)
    total = np.bincount(owner_g, weights=weight_used * ratio, minlength=n)
    norm = np.bincount(owner_g, weights=weight_used, minlength=n)
    points = np.bincount(owner_g, weights=np.where(counts, earned_g, 0), minlength=n)
    possible_total = np.bincount(owner_g, weights=np.where(counts, possible_g, 0), minlength=n)
    weighted = norm > 0
    total = np.where(weighted, total, points)
    norm = np.where(weighted, norm, possible_total)
    return np.where(norm > 0, np.round(100 * total / np.where(norm > 0, norm, 1), 2), np.nan)


def _letters(engine: Engine, final: np.ndarray) -> Labels:
    scheme = sorted(engine.profile["grading_scheme"], key=lambda g: -g["min_score"])
    cutoffs = np.array([g["min_score"] for g in scheme])[::-1]
    letters = tuple(g["grade"] for g in scheme)[::-1]
    index = np.searchsorted(cutoffs, np.nan_to_num(final, nan=-1), side="right") - 1
    codes = np.where(np.isnan(final) | (index < 0), -1, index).astype(np.int32)
    return Labels(codes, letters)


def _cumulative_gpa(engine: Engine, enrollments: np.ndarray) -> np.ndarray:
    """A student-level GPA that follows the student's part of the engagement latent, drawn at
    its copula score's place among every grade row's: the less engaged withdraw and leave
    fewer grade rows, so Φ(score) over the rows that exist would skew high (KS 0.06 against
    a source whose withdrawn score zero)."""
    scores = _gpa_scores(engine, enrollments)
    gpa = engine.draw(engine.distribution(GRADE, "gpa_cumulative_excluding_course_grade"),
                      GRADE, enrollments, _rank_among_grades(engine, scores))
    return np.round(gpa, 2)


def _gpa_scores(engine: Engine, enrollments: np.ndarray) -> np.ndarray:
    """GPA's copula score: `gpa_rho` on the student's part of engagement and, where a
    source's GPA follows the course's own score (`gpa_enrollment_rho`, learned from how
    little a student's GPA rows agree), on the enrollment's own part; the rest the
    person's own noise."""
    people = engine.fk_rows(ENROLLMENT, "person_id", enrollments)
    rho = float(engine.profile["engagement"]["gpa_rho"])
    own = float(engine.profile["engagement"].get("gpa_enrollment_rho", 0.0))
    noise = engine.normal(GRADE, "gpa", people)
    if not own:  # the default: a GPA of the student alone
        return rho * student_latent(engine, people) + np.sqrt(1 - rho * rho) * noise
    rest = np.sqrt(max(1 - rho * rho - own * own, 0.0))
    return rho * student_latent(engine, people) + own * own_engagement(engine, enrollments) \
        + rest * noise


def _rank_among_grades(engine: Engine, scores: np.ndarray) -> np.ndarray:
    """Uniforms: each score's rank among the GPA scores of the grade rows (all of them, or
    _GPA_SAMPLE spread evenly over a larger table; computed once, whatever the blocks)."""
    if "grades.gpa_scores" not in engine.facts:
        n = engine.n_rows(GRADE)
        rows = np.unique(np.linspace(0, n - 1, min(n, _GPA_SAMPLE)).astype(np.int64))
        with engine.scratch():
            found = _gpa_scores(engine, engine.parent_rows(GRADE, rows)) if n else np.zeros(0)
        engine.facts["grades.gpa_scores"] = np.sort(found)
    ranked = engine.facts["grades.gpa_scores"]
    if len(ranked) < 2:
        return special.ndtr(scores)
    return (np.minimum(np.searchsorted(ranked, scores), len(ranked) - 1) + 0.5) / len(ranked)
