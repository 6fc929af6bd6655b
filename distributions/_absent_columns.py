"""Registry columns a converted source lacks, learned from the columns it has.

A source converted from another platform (a learning-analytics dataset renamed to UDP) often
has no `grading_status`: whether work was handed in shows only as a missing score. Keeping the
default's status shares there would make the generator leave ~7 % of the work unsubmitted
although the source scored nearly all of it, so the shares come from the source's null scores.
"""

from __future__ import annotations

from distributions._estimators import value_cells

RESULT = "learner_activity_result"
_UNSUBMITTED, _GRADED = "unsubmitted", "graded"


def absent_status_part(p, profile: dict) -> None:
    """grading_status from the source's null scores where the source has no grading_status
    (a result without a score is unsubmitted work, the rest graded), counted in people."""
    r = p.reader
    if RESULT not in r.tables or r.has(RESULT, "grading_status") \
            or not r.has(RESULT, "published_score"):
        return
    path = f"/tables/{RESULT}/columns/grading_status"
    score = r.col(RESULT, "published_score", "number", "t")
    pid = r.col(RESULT, "person_id", "text", "t") if r.has(RESULT, "person_id") else "NULL"
    base = (f"SELECT CASE WHEN {score} IS NULL THEN '{_UNSUBMITTED}' ELSE '{_GRADED}' END "
            f"AS v, {pid} AS pid FROM {r.rel(RESULT)} AS t")
    counts = value_cells(r, base).get((), {})
    spec = p.guard.categorical(path, counts, text=True, nodata=False)
    if spec is None:
        return
    profile["tables"][RESULT]["columns"]["grading_status"] = spec
    p.notes[:] = [n for n in p.notes if not n.startswith(f"{path}: kept the default")]
    shares = {i["value"]: i["p"] for i in spec["values"]}
    p.notes.append(f"{path}: the column is not in the source; its shares follow the source's "
                   f"null published_score (unsubmitted {shares.get(_UNSUBMITTED, 0.0):.4f}, "
                   f"graded {shares.get(_GRADED, 0.0):.4f})")
