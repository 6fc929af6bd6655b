"""Submissions and course grades, like a real gradebook.

Each student enrollment has one result row per assignment of its course. Whether work is
submitted, how late, and how well it scores follow the profile's marginals through a Gaussian
copula on the enrollment's latent engagement, so activity and grades correlate while every
marginal stays as profiled. Course grades are then computed from those results and the
assignment-group weights (current score: graded work only; final score: missing work as zero).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import special

from pipeline.generate._column_values import Labels, numeric
from pipeline.generate._engine import Engine, latent, rule
from pipeline.generate._plan import count_rule
from pipeline.generate._rules.enrollment import KEY as ENROLLMENT
from pipeline.generate._rules.enrollment import engagement, is_student, person_engagement
from pipeline.generate._rules.missing_work import (
    is_withdrawn,
    kept_rows,
    missing_work,
    withdrawal_dates,
    work_before_leaving,
)
from pipeline.generate._rules.withdrawal_terms import (
    RESULT,
    UNSUBMITTED,
    any_results_kept,
    enrollment_terms,
    per_row,
    term_withdrawn_shares,
    withdrawal_sets,
)
from pipeline.generate._rules.work_dates import graded_dates, response_seconds
from pipeline.generate._scenario_effects import apply_effects
from pipeline.udp._schema import Table

GRADE, GRADED = "course_grade", "graded"


def _activity_span(engine: Engine, offerings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First activity row and number of activities of each offering."""
    groups = engine.layouts["learner_activity_group"].offsets
    activities = engine.layouts["learner_activity"].offsets
    first = activities[groups[offerings]]
    return first, activities[groups[offerings + 1]] - first


def enrollment_offerings(engine: Engine, enrollments: np.ndarray) -> np.ndarray:
    """Offering row of each enrollment row."""
    sections = engine.fk_rows(ENROLLMENT, "course_section_id", enrollments)
    return engine.parent_rows("course_section", sections)


@count_rule("activities_of_enrollment")
def plan_results(engine: Engine, table: Table, parents: np.ndarray) -> np.ndarray:
    """Results per enrollment: every assignment of the course, for students."""
    offerings = enrollment_offerings(engine, parents)
    counts = np.where(is_student(engine, parents), _activity_span(engine, offerings)[1], 0)
    if any_results_kept(engine):
        counts = _kept_results(engine, parents, counts)
    engine.clear()
    return counts


@count_rule("one_per_student")
def plan_grades(engine: Engine, table: Table, parents: np.ndarray) -> np.ndarray:
    """One course_grade row per student enrollment — except, where the profile's
    `results_kept` leaves an enrollment of a course with work no result row, none (the
    source's gradebook has no grade for a student who left before any work)."""
    student = is_student(engine, parents)
    if any_results_kept(engine):
        no_work = _activity_span(engine, enrollment_offerings(engine, parents))[1] == 0
        student &= no_work | (plan_results(engine, table, parents) > 0)
    engine.clear()
    return student.astype(np.int64)


def _kept_results(engine: Engine, parents: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The source's participation in results (`engagement.results_kept`, the term's): by
    whether the enrollment is withdrawn, a share has no result row and the rest rows for a
    share of their course's activities (stochastically rounded, at least one); the kept
    activities are the first of the course's list."""
    withdrawn = np.zeros(len(parents), dtype=bool)
    student = counts > 0
    withdrawn[student] = is_withdrawn(engine, parents[student])
    none_u = engine.uniform(RESULT, "no_results", parents)
    share_u = engine.uniform(RESULT, "results_kept", parents)
    out = counts.copy()
    sets, index = withdrawal_sets(engine)
    which = index[enrollment_terms(engine, parents)]
    for i, own in enumerate(sets):
        kept = own.engagement.get("results_kept")
        if kept:
            _keep(kept, (withdrawn, student & ~withdrawn), which == i, counts, out,
                  (none_u, share_u))
    return out


def _keep(kept: dict, classes: tuple, here: np.ndarray, counts: np.ndarray, out: np.ndarray,
          uniforms: tuple) -> None:
    """`_kept_results` for the rows `here` of one set (its `kept`), written into `out`."""
    none_u, share_u = uniforms
    for name, mask in zip(("withdrawn", "enrolled"), classes, strict=True):
        mask = mask & here
        if name not in kept or not mask.any():
            continue
        share = np.floor(kept[name]["share"] * counts[mask] + share_u[mask]).astype(np.int64)
        out[mask] = np.where(none_u[mask] < kept[name]["none"], 0,
                             np.clip(share, 1, counts[mask]))


def _copula(engine: Engine, latent: np.ndarray, rho: float, stream: str, rows) -> np.ndarray:
    """Standard-normal scores correlated `rho` with the latent (a Gaussian copula)."""
    noise = engine.normal(RESULT, stream, rows)
    return rho * latent + np.sqrt(1 - rho * rho) * noise


# what the profile's `engagement.ties` draw labels on: an enrollment's engagement, a person's
# mean engagement over their enrollments
latent(ENROLLMENT)(engagement)
latent("person")(person_engagement)


@rule("role_status")
def role_status(engine: Engine, table: Table, column: str, rows: np.ndarray) -> Labels:
    """The profile's (possibly nested) conditional of role_status, drawn for students on
    uniforms tied to their engagement: Φ(ρw·latent + √(1−ρw²)·ε) with the withdrawn statuses
    first, so the less engaged withdraw (ρw = `engagement.withdrawal_rho`, from the source).
    Each term draws with its own ρw and withdrawn share (a consortium's, its institution's:
    withdrawal_terms.py)."""
    u = engine.stratified(ENROLLMENT, column, rows, engine.n_rows(ENROLLMENT))
    student = is_student(engine, rows)
    if student.any():
        terms = enrollment_terms(engine, rows)[student]  # (the block's own: memoised)
        rho = per_row(engine, terms, lambda w: float(w.engagement.get("withdrawal_rho", 0.0)))
        tied = rho != 0
        if tied.any():
            at = np.flatnonzero(student)[tied]
            z = rho[tied] * engagement(engine, rows[at]) + np.sqrt(1 - rho[tied] ** 2) * \
                engine.normal(ENROLLMENT, "withdrawal_z", rows[at])
            u[at] = special.ndtr(z)
        u[student] = term_withdrawn_shares(engine, u[student], terms)
    withdrawn = engine.profile["engagement"]["withdrawn_role_statuses"]
    return engine.draw(_withdrawn_first(engine.distribution(ENROLLMENT, column), withdrawn),
                       ENROLLMENT, rows, u)


def _withdrawn_first(spec: dict, withdrawn: list[str]) -> dict:
    """The same distribution with the withdrawn statuses at the low end of (0, 1)."""
    if spec["kind"] == "conditional":
        return {**spec, "cells": [{**c, "distribution": _withdrawn_first(c["distribution"],
                                                                          withdrawn)}
                                  for c in spec["cells"]],
                "otherwise": _withdrawn_first(spec["otherwise"], withdrawn)}
    if spec["kind"] != "categorical":
        return spec
    values = sorted(spec["values"], key=lambda item: item["value"] not in withdrawn)
    return {**spec, "values": values}


def result_core(engine: Engine, rows: np.ndarray) -> dict:
    """Everything the result columns need, computed once per block."""
    return engine.memo(("result_core",), rows, lambda: _result_core(engine, rows))


def _result_core(engine: Engine, rows: np.ndarray) -> dict:
    """A block's results are runs of whole enrollments; each enrollment's run repeats its
    offering's assignments. Enrollment- and assignment-level values are computed once per
    distinct enrollment and per distinct offering's assignments, then spread to the rows."""
    enrollments = engine.parent_rows(RESULT, rows)
    first = int(enrollments[0]) if len(rows) else 0
    distinct = engine.rows(first, int(enrollments[-1]) + 1 if len(rows) else first)
    local = enrollments - first
    offerings = enrollment_offerings(engine, distinct)
    unique_offerings, which = np.unique(offerings, return_inverse=True)
    act_first, act_count = _activity_span(engine, unique_offerings)
    starts = np.concatenate([[0], np.cumsum(act_count)])
    compact = np.repeat(act_first - starts[:-1], act_count) + np.arange(starts[-1])
    latent = engagement(engine, distinct)[local]
    terms = engine.parent_rows("course_offering", offerings)
    withdrawal = withdrawal_dates(engine, distinct, terms)[local]
    due_by_course = _due_matrix(engine, compact, starts, act_count)
    row_terms = terms[local]
    picked, left = work_before_leaving(engine, enrollments, engine.ordinal(RESULT, rows),
                                       which[local], due_by_course, withdrawal, row_terms)
    position = starts[which[local]] + picked
    due = engine.column("learner_activity", "due_date", compact)[position]
    submit_z = _copula(engine, latent, engine.profile["engagement"]["submission_rho"],
                       "submitted", rows)
    due_seconds = due.astype("datetime64[s]").astype(np.int64).astype(float)
    due_seconds[np.isnat(due)] = -np.inf
    # work due after a withdrawal is missing, unless the term's source has no missing work
    # at all (or, thinned, as far as the source's withdrawn left work unsubmitted)
    dated = due_seconds > withdrawal
    after = (dated if left is None else np.where(kept_rows(engine, row_terms), left, dated)) \
        & (per_row(engine, row_terms, lambda w: w.unsubmitted) > 0)
    missing = missing_work(engine, submit_z, distinct, local, rows, after, row_terms)
    return {"enrollments": enrollments, "distinct": distinct, "local": local,
            "activities": compact[position], "latent": latent,
            "status": _grading_status(engine.sample(RESULT, "grading_status", rows), missing),
            "missing": missing, "due": due, "terms": terms[local], "compact": compact,
            "position": position, "withdrawal": withdrawal}


def _due_matrix(engine: Engine, compact: np.ndarray, starts: np.ndarray,
                counts: np.ndarray) -> np.ndarray | None:
    """Due seconds of each course's activities, a course × activity matrix (+inf where
    undated or past the course's list); None where no withdrawn rows are spread by it."""
    if not any_results_kept(engine):
        return None
    due = engine.column("learner_activity", "due_date", compact)
    seconds = due.astype("datetime64[s]").astype(np.int64).astype(float)
    seconds[np.isnat(due)] = np.inf
    matrix = np.full((len(counts), int(counts.max(initial=0))), np.inf)
    column = np.arange(len(compact)) - np.repeat(starts[:-1], counts)
    matrix[np.repeat(np.arange(len(counts)), counts), column] = seconds
    return matrix


def activity_values(engine: Engine, core: dict, column: str):
    """A learner_activity column at each result row of `core` (computed per assignment)."""
    values = engine.column("learner_activity", column, core["compact"])
    if isinstance(values, Labels):
        return Labels(values.codes[core["position"]], values.categories)
    return numeric(values)[core["position"]]


@rule("result")
def result(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Columns of learner_activity_result."""
    core = result_core(engine, rows)
    if column == "learner_activity_id":
        return core["activities"]
    if column == "person_id":
        return engine.fk_rows(ENROLLMENT, "person_id", core["distinct"])[core["local"]]
    if column == "grading_status":
        return core["status"]
    if column == "published_score":
        return scores(engine, rows)
    if column == "published_grade":
        return grade_text(scores(engine, rows))
    return _dates(engine, column, rows, core)


_CENTS_TABLE = 200_000  # scores up to 2,000 points are formatted by lookup


@lru_cache(maxsize=1)
def _cents_text() -> pa.Array:
    return pc.cast(pa.array(np.arange(_CENTS_TABLE) / 100), pa.string())


def grade_text(score: np.ndarray) -> pa.Array:
    """Canvas's grade string of a points score ('13.88', '20'); null where not graded. Scores
    are whole cents, so their text is looked up instead of formatted row by row."""
    missing = np.isnan(score)
    cents = np.round(np.where(missing, 0, score) * 100).astype(np.int64)
    if cents.min(initial=0) < 0 or cents.max(initial=0) >= _CENTS_TABLE:
        return pc.cast(pa.array(score, mask=missing), pa.string())
    return _cents_text().take(pa.array(cents, mask=missing))


def _grading_status(drawn: Labels, missing: np.ndarray) -> Labels:
    """The drawn status, except that the copula decides who is missing: drawn
    "unsubmitted" among the rest becomes graded. A profile without either status (a source
    where every result was submitted) still gets them, so no status is ever null."""
    categories = drawn.categories + tuple(s for s in (UNSUBMITTED, GRADED)
                                          if s not in drawn.categories)
    codes = drawn.codes.copy()
    unsubmitted, graded = categories.index(UNSUBMITTED), categories.index(GRADED)
    codes[(codes == unsubmitted) & ~missing] = graded
    codes[missing] = unsubmitted
    return Labels(codes, categories)


def scores(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Published score in points (NaN where nothing is graded)."""
    return engine.memo(("scores",), rows, lambda: _scores(engine, rows))


def _scores(engine: Engine, rows: np.ndarray) -> np.ndarray:
    core = result_core(engine, rows)
    rho = engine.profile["engagement"]["score_rho"]
    ratio_z = _copula(engine, core["latent"], rho, "score", rows)
    graded = core["status"].codes == core["status"].code_of(GRADED)
    # the profile's scores are those of graded work; the less engaged miss more work and
    # withdraw, so graded rows would skew high: they take normal scores from their place
    # among graded work (monotone: the tie to engagement is kept)
    ratio_z[graded] = _normal_scores(engine, ratio_z[graded])
    spec = engine.distribution(RESULT, "published_score")
    ratio = engine.draw_normal(spec, RESULT, rows, ratio_z)
    ratio = apply_effects(engine, "score", rows, ratio)  # a scenario's effect, if any
    points = numeric(activity_values(engine, core, "points_possible"))
    return np.where(graded, _on_step(engine, ratio * points, points), np.nan)


def _on_step(engine: Engine, score: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Scores to the cent, or to the source's step (whole points, halves: the profile's
    `score_step`, distributions/_day_resolution.py), rounded down where rounding up would
    pass the points possible."""
    step = engine.profile["tables"][RESULT].get("score_step")
    if not step:
        return np.round(score, 2)
    stepped = np.round(score / step) * step
    return np.round(np.where(stepped > points, np.floor(score / step) * step, stepped), 2)


_SAMPLE_CHUNKS, _CHUNK = 8, 5_000  # results sampled for the graded scores' distribution


def _normal_scores(engine: Engine, z: np.ndarray) -> np.ndarray:
    """Standard-normal scores of graded copula scores `z`, through their distribution among
    graded work (sampled once, the same whatever the block size or worker)."""
    graded = _graded_sample(engine)
    if len(graded) < 2:
        return z
    probs = (np.arange(len(graded)) + 0.5) / len(graded)
    return special.ndtri(np.interp(z, graded, probs))


def _graded_sample(engine: Engine) -> np.ndarray:
    """Sorted copula scores of graded results in fixed chunks spread over the table."""
    if "gradebook.graded_z" not in engine.facts:
        n = engine.n_rows(RESULT)
        starts = np.unique(np.linspace(0, max(n - _CHUNK, 0), _SAMPLE_CHUNKS).astype(np.int64))
        found = []
        for start in starts:
            with engine.scratch():
                rows = engine.rows(int(start), int(min(start + _CHUNK, n)))
                core = result_core(engine, rows)
                z = _copula(engine, core["latent"], engine.profile["engagement"]["score_rho"],
                            "score", rows)
                found.append(z[core["status"].codes == core["status"].code_of(GRADED)])
        engine.facts["gradebook.graded_z"] = np.sort(np.concatenate(found)) if found else \
            np.zeros(0)
    return engine.facts["gradebook.graded_z"]


def _dates(engine: Engine, column: str, rows: np.ndarray, core: dict) -> np.ndarray:
    if column == "response_date":
        return submitted_dates(engine, rows)
    return engine.memo(("graded_dates",), rows, lambda: _graded_dates(engine, rows, core))


def submitted_dates(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """When each result was submitted (NaT where it was not), inside its term. Apart from
    the scores, so that inputs read before the scores (a scenario's active days) can see it."""
    core = result_core(engine, rows)
    response = _response_seconds(engine, rows, core)
    nat = np.iinfo(np.int64).min  # datetime64's NaT
    return np.where(core["missing"], nat, response).view("datetime64[s]")


def _response_seconds(engine: Engine, rows: np.ndarray, core: dict) -> np.ndarray:
    return engine.memo(("response",), rows, lambda: _response(engine, rows, core))


def _response(engine: Engine, rows: np.ndarray, core: dict) -> np.ndarray:
    late_z = _copula(engine, -core["latent"], engine.profile["engagement"]["submission_rho"],
                     "lateness", rows)
    return response_seconds(engine, rows, core, late_z)


def _graded_dates(engine: Engine, rows: np.ndarray, core: dict) -> np.ndarray:
    return graded_dates(engine, rows, core, _response_seconds(engine, rows, core),
                        ~np.isnan(scores(engine, rows)))
