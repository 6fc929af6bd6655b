"""Withdrawal by term: each of a consortium's terms keeps its own institution's withdrawn.

A merged profile pools its institutions' withdrawal into one set of scalars: how far
withdrawal follows engagement (`withdrawal_rho`), when the withdrawn leave (`withdrawal_at`),
which of their result rows exist (`results_kept`), and — through the pooled role_status and
grading_status — how many withdraw and how much work goes unsubmitted. Two institutions
whose withdrawn differ were then drawn alike: one whose withdrawn scored 15.7 on average
(tied to low scores, most of their work missing) and one whose withdrawn scored 74.1 (every
piece of work submitted) came out at 34-39 in every term, and the withdrawn's final score
stood at KS 0.34 against the union of the two. So each term a merge lists carries its
institution's own set (`calendar.terms[i].withdrawal`, distributions/_merge_terms.py), and
every draw that depends on withdrawal reads its term's: role_status (the term's withdrawn
share and ρ), the result rows kept, the work missing and the date a student leaves.

Terms without a set of their own (every term of one institution's profile; terms beyond a
merge's list) draw with the profile's engagement, withdrawn and unsubmitted shares, exactly
as before. Plain numpy over the rows; the loop is over the distinct sets (institutions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.generate._engine import Engine
from pipeline.generate._rules.enrollment import KEY as ENROLLMENT

RESULT = "learner_activity_result"
UNSUBMITTED = "unsubmitted"
# what a term's own set replaces in the profile's engagement (absent in the set: absent)
ENGAGEMENT_KEYS = ("withdrawal_rho", "withdrawal_at", "results_kept")


@dataclass(frozen=True, eq=False)
class Withdrawal:
    """The withdrawal a set of terms is drawn with."""

    engagement: dict        # the profile's engagement, the set's ENGAGEMENT_KEYS in place
    withdrawn_share: float  # the withdrawn share of student enrollments
    unsubmitted: float      # the share of result rows with nothing submitted


def unsubmitted_target(engine: Engine) -> float:
    """The profile's share of results with nothing submitted."""
    shares = {i["value"]: i["p"] for i in engine.distribution(RESULT, "grading_status")["values"]}
    return shares.get(UNSUBMITTED, 0.0) / sum(shares.values())


def student_withdrawn_share(engine: Engine) -> float:
    """The withdrawn share of the students' role_status (their cell's own shares)."""
    statuses = engine.distribution(ENROLLMENT, "role_status")
    student = next((c["distribution"] for c in statuses.get("cells", [])
                    if c["when"].get("role") == "Student"), statuses.get("otherwise", statuses))
    while student["kind"] == "conditional":  # a learned dependency nested in the cell
        student = student["otherwise"]
    withdrawn = set(engine.profile["engagement"]["withdrawn_role_statuses"])
    total = sum(i["p"] for i in student.get("values", [])) or 1.0
    return sum(i["p"] for i in student.get("values", []) if i["value"] in withdrawn) / total


def withdrawal_sets(engine: Engine) -> tuple[list[Withdrawal], np.ndarray]:
    """The distinct sets (the profile's first) and the index of each run term's set."""
    if "withdrawal.sets" not in engine.facts:
        engine.facts["withdrawal.sets"] = _sets(engine)
    return engine.facts["withdrawal.sets"]


def _sets(engine: Engine) -> tuple[list[Withdrawal], np.ndarray]:
    engagement = engine.profile["engagement"]
    sets = [Withdrawal(engagement, student_withdrawn_share(engine), unsubmitted_target(engine))]
    # a scenario's engagement values hold in every term (they override the profile's)
    scenario = engine.profile.get("scenario", {}).get("document", {}).get("engagement", {})
    seen: dict[str | None, int] = {None: 0}
    index = []
    for term in engine.facts["calendar"]:
        own = term.get("withdrawal")
        key = None if own is None else json.dumps(own, sort_keys=True)
        if key not in seen:
            seen[key] = len(sets)
            kept = {k: v for k, v in engagement.items() if k not in ENGAGEMENT_KEYS}
            kept.update({k: own[k] for k in ENGAGEMENT_KEYS if k in own})
            kept.update({k: v for k, v in scenario.items() if k in ENGAGEMENT_KEYS})
            sets.append(Withdrawal(kept, float(own["withdrawn_share"]),
                                   float(own["unsubmitted"])))
        index.append(seen[key])
    return sets, np.array(index, dtype=np.int64)


def any_results_kept(engine: Engine) -> bool:
    """Whether any term's set drops result rows (`results_kept`)."""
    return any(s.engagement.get("results_kept") for s in withdrawal_sets(engine)[0])


def enrollment_terms(engine: Engine, enrollments: np.ndarray) -> np.ndarray:
    """The term row of each enrollment row."""
    sections = engine.fk_rows(ENROLLMENT, "course_section_id", enrollments)
    return engine.parent_rows("course_offering", engine.parent_rows("course_section", sections))


def per_row(engine: Engine, terms: np.ndarray, value: Callable[[Withdrawal], float]) -> np.ndarray:
    """`value` of each row's set (`terms`: each row's term row)."""
    sets, index = withdrawal_sets(engine)
    return np.array([value(s) for s in sets], dtype=float)[index[terms]]


def by_set(engine: Engine, terms: np.ndarray,
           compute: Callable[[Withdrawal, np.ndarray | None], np.ndarray]) -> np.ndarray:
    """compute(set, rows) over the rows of each set their terms use (`rows`: their
    indices; None when one set holds them all, so the arrays are used whole), together."""
    sets, index = withdrawal_sets(engine)
    if len(sets) == 1:  # one institution's profile: no per-row work
        return compute(sets[0], None)
    which = index[terms]
    used = np.flatnonzero(np.bincount(which, minlength=len(sets)))
    if len(used) <= 1:
        return compute(sets[int(used[0]) if len(used) else 0], None)
    parts = [(np.flatnonzero(which == i), sets[int(i)]) for i in used]
    values = [compute(s, rows) for rows, s in parts]
    out = np.empty(len(terms), dtype=np.result_type(*values))
    for (rows, _), part in zip(parts, values, strict=True):
        out[rows] = part
    return out


def subset(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """`values` at `rows` (None: all of them, the array itself)."""
    return values if rows is None else values[rows]


def term_withdrawn_shares(engine: Engine, u: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """Student uniforms (the withdrawn statuses at the low end) moved so that each term's
    students withdraw at its own set's share: (0, own) onto (0, pooled) and (own, 1) onto
    (pooled, 1), linearly, so the order (engagement) and the shares of the other statuses
    are kept. The profile's own set: unchanged."""
    sets, index = withdrawal_sets(engine)
    pooled = sets[0].withdrawn_share
    if len(sets) == 1 or not 0 < pooled < 1:
        return u
    out = u.copy()
    which = index[terms]
    for i, own in enumerate(sets[1:], 1):
        rows = which == i
        share = min(max(own.withdrawn_share, 1e-9), 1 - 1e-9)
        if rows.any() and share != pooled:
            out[rows] = np.interp(u[rows], [0.0, share, 1.0], [0.0, pooled, 1.0])
    return out
