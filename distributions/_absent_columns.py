"""Registry columns a converted source lacks, learned from the columns it has.

A source converted from another platform (a learning-analytics dataset renamed to UDP) often
has no `grading_status`: whether work was handed in shows only as a missing score. Keeping the
default's status shares there would make the generator leave ~7 % of the work unsubmitted
although the source scored nearly all of it, so the shares come from the source's null scores.
"""

from __future__ import annotations

import copy

from distributions._estimators import value_cells

ENROLLMENT, RESULT = "course_section_enrollment", "learner_activity_result"
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
    pid = r.col_or_null(RESULT, "person_id", "key", "t")
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


def staff_roles_part(p, profile: dict) -> None:
    """Roles when no non-student role has k people: a source of students alone (a converted
    dataset: no teachers at all) keeps that, and the generator staffs no section; a source
    whose staff the privacy rules dropped (a tiny one) keeps the default role shares."""
    columns = profile["tables"][ENROLLMENT]["columns"]
    if any(v["value"] != "Student" for v in columns["role"]["values"]):
        return
    path = f"/tables/{ENROLLMENT}/columns/role"
    if _staff_rows(p) == 0:
        p.notes.append(f"{path}: the source has no non-student enrollment (no teachers): "
                       "none generated")
        return
    columns["role"] = copy.deepcopy(p.default["tables"][ENROLLMENT]["columns"]["role"])
    p.notes.append(f"{path}: kept the default (no non-student role has k rows)")


def _staff_rows(p) -> int | None:
    """Enrollment rows of a role other than Student (None: the source has no role)."""
    r = p.reader
    if not r.has(ENROLLMENT, "role"):
        return None
    role = r.col(ENROLLMENT, "role", "text", "t")
    return int(r.scalar(f"SELECT COUNT(*) FROM {r.rel(ENROLLMENT)} AS t "
                        f"WHERE {role} IS NOT NULL AND {role} <> 'Student'"))


def absent_activity_status_part(p, profile: dict) -> None:
    """A source without learner_activity.status (a converted dataset) lists only assessments
    that count: all are published (the default's unpublished and deleted shares would drop
    a withdrawn student's few results from the gradebook and leave their final score null)."""
    table = "learner_activity"
    if table not in p.reader.tables or p.reader.has(table, "status"):
        return
    path = f"/tables/{table}/columns/status"
    profile["tables"][table]["columns"]["status"] = {
        "kind": "categorical", "values": [{"value": "published", "p": 1.0}]}
    p.notes[:] = [n for n in p.notes if not n.startswith(f"{path}: kept the default")]
    p.notes.append(f"{path}: the column is not in the source; every assessment it lists is "
                   "published")
