"""Which work a student leaves unsubmitted, and when the withdrawn leave.

Work is missing where the submission copula (pipeline/generate/_rules/gradebook.py) falls
below a threshold set so the result rows keep the profile's unsubmitted share: one threshold
for all, or — where `engagement.results_kept` gives the withdrawn and the others their own
unsubmitted shares — one per class (the withdrawn's at random). Work due after a withdrawn
student left (when in the term the source's withdrawn stopped: `engagement.withdrawal_at`)
is missing too, unless the source's withdrawn left less work unsubmitted than that (their
later rows were dropped, not kept empty: a converted dataset). Each row is drawn with its
term's withdrawal (a consortium's terms keep their institution's: withdrawal_terms.py).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from distributions._withdrawal_fractions import (
    mean_withdrawal_fraction,
    withdrawal_fractions,
)
from pipeline.generate._engine import Engine
from pipeline.generate._rules.calendar import term_dates
from pipeline.generate._rules.enrollment import KEY as ENROLLMENT
from pipeline.generate._rules.withdrawal_terms import (
    RESULT,
    Withdrawal,
    any_results_kept,
    by_set,
    per_row,
    subset,
)


def missing_work(engine: Engine, submit_z: np.ndarray, distinct: np.ndarray,
                 local: np.ndarray, rows: np.ndarray, after_leaving: np.ndarray,
                 terms: np.ndarray) -> np.ndarray:
    """Whether each result row is missing: before any withdrawal by the copula, and
    `after_leaving` (work due after its student withdrew) as far as the source's was; each
    row with its term's withdrawal (`terms`: each row's term row)."""
    def missing(w: Withdrawal, at: np.ndarray | None) -> np.ndarray:
        here, late = subset(rows, at), subset(after_leaving, at)
        return _missing(engine, w, subset(submit_z, at), distinct, subset(local, at), here,
                        late) | _missing_after_leaving(engine, w, late, here)
    return by_set(engine, terms, missing)


def is_withdrawn(engine: Engine, enrollments: np.ndarray) -> np.ndarray:
    """Whether each enrollment's role_status is one the profile counts as withdrawn."""
    statuses = engine.profile["engagement"]["withdrawn_role_statuses"]
    return engine.column(ENROLLMENT, "role_status", enrollments).isin(statuses)


def _missing(engine: Engine, w: Withdrawal, submit_z: np.ndarray, distinct: np.ndarray,
             local: np.ndarray, rows: np.ndarray, late: np.ndarray) -> np.ndarray:
    """Work missing before any withdrawal: the submission copula below one threshold for
    all (the term's unsubmitted share less the work after withdrawals) or, where
    `results_kept` gives the withdrawn and the others their own unsubmitted shares, per
    class — the others' on the copula, its threshold moved by their latent mean and spread
    (withdrawal selects on the latent); the withdrawn's at random, beside the work due
    after they left."""
    kept = w.engagement.get("results_kept", {})
    if not all("unsubmitted" in kept.get(c, {}) for c in ("withdrawn", "enrolled")):
        return submit_z < special.ndtri(_missing_after_withdrawals(w))
    withdrawn = is_withdrawn(engine, distinct)[local]
    rho_w = float(w.engagement.get("withdrawal_rho", 0.0))
    rho_s = float(w.engagement["submission_rho"])
    mean, var = _latent_moments(rho_w, w.withdrawn_share, False)
    spread = np.sqrt(rho_s * rho_s * var + 1.0 - rho_s * rho_s)
    enrolled, left = _class_unsubmitted(w, kept)
    missing = submit_z < rho_s * mean + spread * special.ndtri(np.clip(enrolled, 1e-9, 1 - 1e-9))
    after_leaving = _rows_after_leaving(w.engagement, kept["withdrawn"])
    after = max(left - after_leaving, 0.0) / max(1.0 - after_leaving, 1e-9)
    at_random = _spare_the_last(engine, rows, local, withdrawn & ~late, after)
    return np.where(withdrawn, at_random, missing)


def _spare_the_last(engine: Engine, rows: np.ndarray, local: np.ndarray, before: np.ndarray,
                    share: float) -> np.ndarray:
    """Which withdrawn rows due before leaving (`before`) are missed at random, `share` of
    them on average, with the last one missed only when all are. `withdrawal_at` is when
    the source's withdrawn handed in their last work, so missing that piece alone moved
    their stop earlier (KS of the last submission's place in the term 0.37 against the
    source, see test_dependencies). An enrollment with m such rows submits none of them with
    chance shareᵐ (as if each were missed apart) and else keeps the last and misses each
    other at a rate that keeps its expected m·share missed."""
    ordinal = engine.ordinal(RESULT, rows)
    u = engine.uniform(RESULT, "withdrawn_missing", rows)
    last = np.full(int(local.max(initial=-1)) + 1, -1)
    np.maximum.at(last, local[before], ordinal[before])
    m = np.bincount(local[before], minlength=len(last)).astype(float)
    is_last = before & (ordinal == last[local])
    p0 = share ** m  # each enrollment's chance to submit none of its rows before leaving
    nothing = np.zeros(len(last), dtype=bool)
    nothing[local[is_last]] = u[is_last] < p0[local[is_last]]
    others = (m * share - m * p0) / np.maximum((1 - p0) * (m - 1), 1e-12)
    rate = np.clip(others, 0.0, 1.0)[local]
    return np.where(before, nothing[local] | (~is_last & (u < rate)), u < share)


def _missing_after_leaving(engine: Engine, w: Withdrawal, late: np.ndarray,
                           rows: np.ndarray) -> np.ndarray:
    """Work due after a withdrawal is missing — unless the source's withdrawn left less
    work unsubmitted than that (their later rows were dropped, not kept empty: a converted
    dataset), then only the share of it that keeps their unsubmitted share."""
    kept = w.engagement.get("results_kept", {})
    if not all("unsubmitted" in kept.get(c, {}) for c in ("withdrawn", "enrolled")):
        return late
    share = _class_unsubmitted(w, kept)[1] / \
        max(_rows_after_leaving(w.engagement, kept["withdrawn"]), 1e-9)
    if share >= 1.0:
        return late
    return late & (engine.uniform(RESULT, "missing_after_leaving", rows) < share)


def _class_unsubmitted(w: Withdrawal, kept: dict) -> tuple[float, float]:
    """The others' and the withdrawn's unsubmitted shares, scaled together so that the
    result rows overall keep the set's unsubmitted share (a merged profile's pooled share
    may differ from the one institution's classes it holds)."""
    target = w.unsubmitted
    share = w.withdrawn_share
    rows_w = share * _kept_share(kept["withdrawn"])
    rows_e = (1 - share) * _kept_share(kept["enrolled"])
    u_w, u_e = kept["withdrawn"]["unsubmitted"], kept["enrolled"]["unsubmitted"]
    implied = (rows_w * u_w + rows_e * u_e) / max(rows_w + rows_e, 1e-9)
    scale = target / implied if implied > 0 else 1.0
    return min(u_e * scale, 1.0), min(u_w * scale, 1.0)


def _latent_moments(rho: float, share: float, withdrawn: bool) -> tuple[float, float]:
    """Mean and variance of a standard-normal latent L among the withdrawn (or the others)
    when withdrawal is ρL + √(1−ρ²)ε below Φ⁻¹(share) (truncated-normal moments)."""
    c = special.ndtri(np.clip(share, 1e-9, 1 - 1e-9))
    density = np.exp(-c * c / 2) / np.sqrt(2 * np.pi)
    sign = -1.0 if withdrawn else 1.0
    ratio = density / (special.ndtr(c) if withdrawn else 1 - special.ndtr(c))
    mean_x, var_x = sign * ratio, 1 - sign * c * ratio - ratio * ratio
    return float(rho * mean_x), float(1 - rho * rho * (1 - var_x))


def _missing_after_withdrawals(w: Withdrawal) -> float:
    """The copula's missing share, so that missing work overall (withdrawals included)
    keeps the set's `unsubmitted` share."""
    target = w.unsubmitted
    share = w.withdrawn_share
    # withdrawal falls where the source's withdrawn stopped (`withdrawal_at`; without it
    # uniformly in 10–70 % of the term, ~60 % of the work after it); the withdrawn hold
    # `results_kept` of their course's rows, the others theirs
    kept = w.engagement.get("results_kept", {})
    rows_withdrawn = share * _kept_share(kept.get("withdrawn"))
    rows = rows_withdrawn + (1 - share) * _kept_share(kept.get("enrolled"))
    after = rows_withdrawn / max(rows, 1e-9) * _after_withdrawal(w.engagement)
    return max(target - after, 0.0) / max(1.0 - after, 1e-9)


def _kept_share(kept: dict | None) -> float:
    """The share of its course's activities an enrollment has rows for, on average."""
    return 1.0 if kept is None else (1.0 - kept["none"]) * kept["share"]


def _rows_after_leaving(engagement: dict, kept: dict) -> float:
    """The share of a withdrawn student's result rows due after they left. Their rows are
    spread over the work due before leaving (work_before_leaving), so only rows beyond it
    are late: a `kept.share` s of the course's work against the x of it due before leaving
    (work due evenly), E[max(s − x, 0)] / s. Every row kept (s = 1): the work after leaving,
    1 − E[x]; the source's fractions are of the rows it has, so the rows dropped count not."""
    s = max(float(kept["share"]), 1e-9)
    if s >= 1.0:
        return _after_withdrawal(engagement)
    x = withdrawal_fractions(engagement, (np.arange(1000) + 0.5) / 1000)
    return float(np.mean(np.maximum(s - x, 0.0))) / s


def _after_withdrawal(engagement: dict) -> float:
    """The share of a withdrawn student's work due after they left (work due evenly over
    the term): 0.6 for the default window, else 1 − the learned mean fraction."""
    return 1.0 - mean_withdrawal_fraction(engagement) if "withdrawal_at" in engagement \
        else 0.6


def withdrawal_dates(engine: Engine, enrollments: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """Seconds since the epoch after which a withdrawn student submits nothing (inf if never):
    at the fraction of the term the source's withdrawn stopped at (`withdrawal_at`, the
    term's)."""
    begin = term_dates(engine, "begin", terms).astype("datetime64[s]").astype(float)
    end = term_dates(engine, "end", terms).astype("datetime64[s]").astype(float)
    u = engine.uniform(ENROLLMENT, "withdrawal", enrollments)
    fraction = by_set(engine, terms, lambda w, at: withdrawal_fractions(w.engagement,
                                                                        subset(u, at)))
    return np.where(is_withdrawn(engine, enrollments), begin + fraction * (end - begin), np.inf)


def work_before_leaving(engine: Engine, enrollments: np.ndarray, ordinal: np.ndarray,
                        course: np.ndarray, due: np.ndarray | None, withdrawal: np.ndarray,
                        terms: np.ndarray):
    """Which of its course's activities (index in the course's list) each result row holds.

    As planned, an enrollment's rows are the first of its course's list. Where the source
    dropped the withdrawn's later rows (`results_kept`), a withdrawn enrollment's rows are
    instead spread evenly over the work due before it left, up to the last of it, in due
    order (with more rows than that work, it and the work due next): the source's withdrawn
    stop at `withdrawal_at`, not after the first few of the list. `course` is each row's
    course (index into `due`, a course × activity matrix of due seconds, +inf past the
    course's list or undated); `withdrawal` each row's leaving; `terms` its term (only a
    term whose withdrawal drops rows spreads them). Also whether each row counts as due
    after its student left (None: as its due date says, as it does too on the rows of a
    term that keeps every row, where `kept_rows` is false)."""
    if not any_results_kept(engine):
        return ordinal, None
    offsets = engine.layouts[RESULT].offsets
    kept = offsets[enrollments + 1] - offsets[enrollments]  # the enrollment's rows
    before = _due_by_leaving(np.sort(due, axis=1)[course], withdrawal)
    withdrawn = np.isfinite(withdrawal) & (kept > 0) & kept_rows(engine, terms)
    # more rows than work due before leaving: that work and the next due (missing after it)
    pick = np.where(kept <= before, (ordinal + 1) * before // np.maximum(kept, 1) - 1, ordinal)
    by_due = np.argsort(due, axis=1, kind="stable")
    out = ordinal.copy()
    out[withdrawn] = by_due[course[withdrawn], pick[withdrawn]]
    return out, withdrawn & (pick >= before)


def kept_rows(engine: Engine, terms: np.ndarray) -> np.ndarray:
    """Whether each row's term drops rows of the withdrawn (its set's `results_kept`)."""
    return per_row(engine, terms, lambda w: float(bool(w.engagement.get("results_kept")))) > 0


def _due_by_leaving(due: np.ndarray, leaving: np.ndarray) -> np.ndarray:
    """How many of each row's activities (`due`, sorted) count as due by its leaving: those
    due before it, and the next one too when that is nearer (`withdrawal_at` is when the
    last result came in; the last work due before it would come in earlier, on average)."""
    before = (due <= leaving[:, None]).sum(axis=1)
    at = np.arange(len(due))
    previous = np.where(before > 0, due[at, np.maximum(before - 1, 0)], -np.inf)
    following = np.where(before < due.shape[1],
                         due[at, np.minimum(before, due.shape[1] - 1)], np.inf)
    with np.errstate(invalid="ignore"):  # never withdrawn: inf - inf, masked by isfinite
        nearer = following - leaving < leaving - previous
    return before + (nearer & np.isfinite(following))

