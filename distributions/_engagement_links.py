"""The rest of the gradebook's inputs calibrated from the source: how much a student's
enrollments share their engagement (`student_share`, _tie_share.py), how submitting follows
it (`submission_rho`) and how the student's GPA does (`gpa_rho`, `gpa_enrollment_rho`).

- submission_rho: the generator misses work where ρs·latent + noise falls below the others'
  unsubmitted share (and takes lateness from the same copula), so two results of one
  enrollment are missed together more often the larger |ρs|. |ρs| is the value for which a
  simulation of that model (the source's results per enrollment and unsubmitted share) gives
  the source's intra-enrollment correlation of missed work over its student enrollments not
  withdrawn; its sign that of the Spearman between their mean score and unsubmitted share
  (negative: the less engaged miss more).
- GPA: the generator draws a grade row's GPA on gpa_rho·S + gpa_enrollment_rho·O + the rest
  as the person's own noise, S the student's part of engagement and O the enrollment's own
  (the default has no O: a GPA of the student alone). Two GPA rows of one student correlate
  1 − gpa_enrollment_rho² on that scale, so gpa_enrollment_rho comes from the source's
  correlation of GPA between a student's grade rows (rank correlation, converted to the normal
  scale); gpa_rho then reproduces the source's Spearman between a grade row's GPA and its
  enrollment's mean score ratio on the simulation. A source whose GPA follows the course's
  own score (a converted dataset) gets gpa_enrollment_rho near 1; one of cumulative GPAs near
  0. Without two GPA rows per student for 2k students, GPA is drawn on the enrollment's
  engagement as a whole (S and O in the shares of `student_share`).

All three are aggregates over at least 2k enrollments. Under --epsilon only student_share has
a noised form (_tie_share.py); the other two keep the default's values, noted.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from distributions._engagement import (
    Simulation,
    pearson,
    solve,
    student_enrollments,
    unsubmitted_sql,
)
from distributions._estimators import Missing, mean_rank
from distributions._tie_share import pair_correlation, person_sums_sql, student_share_part
from pipeline.errors import SourceError

_RHO_MAX = 0.95
_GPA = "gpa_cumulative_excluding_course_grade"


def links_part(p, profile: dict) -> None:
    """Learn student_share, submission_rho and GPA's ties where the source tells them (the
    notes say from what, or why the default's are kept)."""
    student_share_part(p, profile)  # before the ties: a person's label is drawn with it
    if p.guard.epsilon is not None:
        p.notes.append("/engagement: submission_rho, gpa_rho kept from the default profile "
                       "(no noised form under --epsilon yet: no budget spent on them)")
        return
    if getattr(p, "engagement_model", None) is None:
        p.notes.append("/engagement: submission_rho, gpa_rho kept from the default profile "
                       "(the source has no scores)")
        return
    for part in (submission_part, gpa_part):
        try:
            part(p, profile)
        except (Missing, SourceError) as error:
            p.notes.append(f"/engagement: {part.__name__} kept the default ({error})")


def _ratios_sql(p) -> str:
    """SELECT pid, off, x (score / points possible, NULL where not scored), u (1 where
    unsubmitted) per student result."""
    r, q = p.reader, p.reader.sql.ident
    score = r.col("learner_activity_result", "published_score", "number", "t")
    points = r.col("learner_activity", "points_possible", "number", "a")
    return (f"SELECT t.{q('person_id')} AS pid, a.{q('course_offering_id')} AS off, "
            f"CASE WHEN {points} > 0 THEN {score} / {points} END AS x, "
            f"CASE WHEN {unsubmitted_sql(p)} THEN 1.0 ELSE 0.0 END AS u "
            f"FROM {r.rel('learner_activity_result')} AS t JOIN {r.rel('learner_activity')} "
            f"AS a ON t.{q('learner_activity_id')} = a.{q('learner_activity_id')}")


_SPEARMAN = f"ranked AS (SELECT {mean_rank('a')} AS ra, {mean_rank('b')} AS rb FROM pairs)"


def submission_part(p, profile: dict) -> None:
    """submission_rho from how the source's missed work gathers in enrollments (its size)
    and runs against their scores (its sign)."""
    engagement = profile["engagement"]
    sql = f"""WITH res AS ({_ratios_sql(p)}),
enr AS ({student_enrollments(p, engagement["withdrawn_role_statuses"])}),
per AS (SELECT pid, off, AVG(x) AS mx, AVG(u) AS mu, COUNT(*) AS k, SUM(u) AS su
  FROM res GROUP BY 1, 2),
kept AS (SELECT per.* FROM per JOIN enr ON enr.pid = per.pid AND enr.off = per.off
  WHERE enr.w = 0 AND per.k > 1),
pairs AS (SELECT mx AS a, mu AS b FROM kept WHERE mx IS NOT NULL), {_SPEARMAN}
SELECT COUNT(*) AS n, SUM(su) / SUM(k) AS share, AVG(k) AS results,
  SUM(su - su * su / k) / SUM(k - 1) AS within,
  (SELECT CORR(ra, rb) FROM ranked) AS spearman FROM kept"""
    row = p.reader.rows(sql)[0]
    n, share = int(row["n"] or 0), float(row["share"] or 0.0)
    if n < 2 * p.guard.k or not 0 < share < 1:
        p.notes.append("/engagement/submission_rho: kept the default (fewer than 2k "
                       "enrollments not withdrawn, or no unsubmitted work to tie to "
                       "engagement)")
        return
    icc = 1.0 - float(row["within"]) / (share * (1 - share))
    spearman = row["spearman"]
    sign = 1.0 if spearman is None or math.isnan(spearman) or spearman <= 0 else -1.0
    rho = sign * submission_rho(icc, share, float(row["results"]))
    engagement["submission_rho"] = round(rho, 4)
    p.notes.append(f"/engagement/submission_rho: {rho:.4f} (source intra-enrollment "
                   f"correlation of missed work {icc:.4f}, its Spearman with the mean score "
                   f"{_r(spearman)}; {n} enrollments not withdrawn, {share:.1%} of their "
                   "work unsubmitted)")


def _r(value) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def submission_rho(icc: float, share: float, results: float) -> float:
    """The |ρs| whose simulated intra-enrollment correlation of missed work is `icc`: how
    the generator's copula gathers a share of missing work in the less engaged (its
    Spearman with scores also depends on how scores follow engagement; calibrated on it,
    ρs came out 0.80 against the one_term source's 0.71 and final scores' low tail
    doubled: KS 0.052 against 0.035)."""
    sim = Simulation(results, lambda z: z)
    noise = np.random.default_rng(20_261_203).standard_normal((len(sim.latent), sim.m))
    cut = special.ndtri(share)

    def correlation(rho: float) -> float:
        missing = rho * sim.latent[:, None] + math.sqrt(1 - rho * rho) * noise < cut
        rate = missing.mean()
        counts = missing.sum(axis=1)
        within = float((counts - counts * counts / sim.m).sum()) / (len(counts) * (sim.m - 1))
        return 1.0 - within / max(rate * (1 - rate), 1e-12)
    return solve(correlation, icc, 0.0, _RHO_MAX, xtol=1e-4)


def gpa_part(p, profile: dict) -> None:
    """gpa_enrollment_rho from GPA's correlation within students, gpa_rho from its Spearman
    with the enrollment's mean score ratio."""
    stats_ = _gpa_statistics(p)
    if stats_["n"] < 2 * p.guard.k or stats_["spearman"] is None:
        p.notes.append("/engagement/gpa_rho: kept the default (fewer than 2k scored grade "
                       "rows with a GPA)")
        return
    engagement = profile["engagement"]
    share = float(engagement["student_share"])
    within = stats_["within"] if stats_["people"] >= 2 * p.guard.k else None
    _, transform, score_rho = p.engagement_model
    gpa = GpaSimulation(stats_["results"], transform, share)
    if within is None:  # on the enrollment's engagement as a whole
        c = gpa.rho(stats_["spearman"], score_rho, math.sqrt(share), math.sqrt(1 - share))
        student, own = c * math.sqrt(share), c * math.sqrt(1 - share)
        how = "too few students with two GPA rows: drawn on the enrollment's engagement"
    else:
        # two rows' ranks correlate `within`; on the normal scale 2·sin(π·within/6)
        normal = 2 * math.sin(math.pi * within / 6)
        own = math.sqrt(1 - min(max(normal, 0.0), 1.0))
        bound = math.sqrt(max(1 - own * own, 0.0)) * 0.999
        student = gpa.rho(stats_["spearman"], score_rho, 1.0, 0.0, own, bound) \
            if bound > 0.01 else 0.0
        how = f"GPA rank correlation between a student's grade rows {within:.4f}"
    engagement["gpa_rho"], engagement["gpa_enrollment_rho"] = round(student, 4), round(own, 4)
    p.notes.append(f"/engagement/gpa_rho: {student:.4f}, gpa_enrollment_rho {own:.4f} "
                   f"(source Spearman of GPA and the enrollment's mean score "
                   f"{stats_['spearman']:.4f} over {stats_['n']} grade rows; {how})")


def _gpa_statistics(p) -> dict:
    """Grade rows with a GPA and a scored enrollment: their count, the Spearman of GPA and
    mean score ratio, results per enrollment; GPA ranks' pairwise correlation between a
    student's rows (`within`) and the students holding two rows or more."""
    r, q = p.reader, p.reader.sql.ident
    gpa = r.col("course_grade", _GPA, "number", "g")
    grades = (f"SELECT g.{q('person_id')} AS pid, s.{q('course_offering_id')} AS off, "
              f"{gpa} AS v FROM {r.rel('course_grade')} AS g JOIN {r.rel('course_section')} "
              f"AS s ON g.{q('course_section_id')} = s.{q('course_section_id')} "
              f"WHERE {gpa} IS NOT NULL")
    sql = f"""WITH res AS ({_ratios_sql(p)}),
per AS (SELECT pid, off, AVG(x) AS mx, COUNT(x) AS k FROM res GROUP BY 1, 2),
g AS ({grades}),
pairs AS (SELECT per.mx AS a, g.v AS b, per.k FROM g JOIN per
  ON g.pid = per.pid AND g.off = per.off WHERE per.mx IS NOT NULL), {_SPEARMAN}
SELECT (SELECT COUNT(*) FROM pairs) AS n, (SELECT AVG(k) FROM pairs) AS results,
  (SELECT CORR(ra, rb) FROM ranked) AS spearman"""
    row = p.reader.rows(sql)[0]
    spearman = row["spearman"]
    ranks = (f"SELECT pid, off, ({mean_rank('v')} - 0.5) / COUNT(*) OVER () AS x "
             f"FROM ({grades}) AS g0")
    sums = p.reader.rows(person_sums_sql(ranks, None))[0]
    exact = {name: float(sums[name] or 0.0) for name in ("n", "x", "xx", "pairs",
                                                          "cross_sum", "pair_x", "m")}
    return {"n": int(row["n"] or 0), "results": float(row["results"] or 2.0),
            "spearman": None if spearman is None or math.isnan(spearman) else float(spearman),
            "within": pair_correlation(exact), "people": int(exact["m"])}


class GpaSimulation:
    """Enrollments of the gradebook simulation with their student's part S and own part O
    apart (E = √s·S + √(1−s)·O drives the scores), and a person's GPA noise."""

    def __init__(self, results: float, transform, share: float):
        self.sim = Simulation(results, transform)
        rng = np.random.default_rng(20_261_204)
        w = rng.standard_normal(len(self.sim.latent))
        e, s = self.sim.latent, share
        self.student = math.sqrt(s) * e + math.sqrt(1 - s) * w
        self.own = math.sqrt(1 - s) * e - math.sqrt(s) * w
        self.noise = rng.standard_normal(len(e))

    def rho(self, target: float, score_rho: float, on_student: float, on_own: float,
            fixed_own: float = 0.0, bound: float = 0.999) -> float:
        """c in [−bound, bound] for which GPA z = c·(on_student·S + on_own·O) + fixed_own·O
        + noise has the simulated Spearman `target` with the enrollment's mean ratio."""
        ranked = stats.rankdata(self.sim.ratios(score_rho).mean(axis=1))

        def spearman(c: float) -> float:
            a, b = c * on_student, c * on_own + fixed_own
            z = a * self.student + b * self.own + math.sqrt(max(1 - a * a - b * b, 0.0)) * \
                self.noise
            return pearson(ranked, stats.rankdata(z))
        return solve(spearman, target, -bound, bound, xtol=1e-4)
