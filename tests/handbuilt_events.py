"""The `events` source's event store (see handbuilt.py): Caliper rows for the first days of
each term, busier students the better they score."""

from __future__ import annotations

import numpy as np
import pandas as pd
from handbuilt_institution import KEY_BASE, Shape

# ---- events ---------------------------------------------------------------------------------
_CANVAS = "https://canvas.handbuilt.example.edu/"
_EVENT_KINDS = (("NavigationEvent", "NavigatedTo", "AssignableDigitalResource", _CANVAS),
                ("NavigationEvent", "NavigatedTo", "Page", _CANVAS),
                ("ViewEvent", "Viewed", "Document", _CANVAS),
                ("MediaEvent", "Started", "VideoObject", "https://kaltura.handbuilt.example/"))


def _events(t: dict, shape: Shape, days: int = 14, rate: float = 0.6) -> pd.DataFrame:
    """Caliper rows for the first `days` days of each term: Poisson counts per student
    enrollment and day, more for engaged students."""
    rng = np.random.default_rng(shape.seed + 1)
    enr = t["course_section_enrollment"]
    students = enr[enr["role"] == "Student"].merge(
        t["course_section"][["course_section_id", "course_offering_id"]], on="course_section_id")
    students = students.merge(t["course_offering"][["course_offering_id", "academic_term_id"]],
                              on="course_offering_id")
    begin = students["academic_term_id"].map(
        t["academic_term"].set_index("academic_term_id")["term_begin_date"])
    engaged = np.exp(0.8 * _score_z(t, students, rng) - 0.32)  # lognormal, mean ~1
    counts = rng.poisson(rate * engaged[:, None], (len(students), days))
    e_row, e_day = np.nonzero(counts)
    reps = counts[e_row, e_day]
    e_row, e_day = np.repeat(e_row, reps), np.repeat(e_day, reps)
    n = len(e_row)
    kind = rng.integers(0, len(_EVENT_KINDS), n)
    kinds = np.array(_EVENT_KINDS, dtype=object)[kind]
    seconds = rng.integers(8 * 3600, 23 * 3600, n)
    time = begin.to_numpy()[e_row] + pd.to_timedelta(e_day, unit="D").to_numpy() + \
        pd.to_timedelta(seconds, unit="s").to_numpy()
    return pd.DataFrame({
        "id": [f"urn:uuid:hb-{i:08d}" for i in range(n)], "type": kinds[:, 0],
        "action": kinds[:, 1], "event_time": pd.to_datetime(time).tz_localize("UTC"),
        "object_id": [f"urn:object:{i % 97}" for i in range(n)], "object_type": kinds[:, 2],
        "object_udp_id": KEY_BASE + 40_000 + kind, "app_id": kinds[:, 3],
        "person": students["person_id"].to_numpy()[e_row],
        "offering": students["course_offering_id"].to_numpy()[e_row]})


def _score_z(t: dict, students: pd.DataFrame, rng) -> np.ndarray:
    """Per student enrollment: its standardized mean score ratio, blended with noise
    (0.6 : 0.8), so activity follows scores in part; 0 where it has no score."""
    acts = t["learner_activity"][["learner_activity_id", "course_offering_id",
                                  "points_possible"]]
    res = t["learner_activity_result"].merge(acts, on="learner_activity_id")
    res["x"] = res["published_score"] / res["points_possible"]
    mean = res.groupby(["person_id", "course_offering_id"], as_index=False)["x"].mean()
    x = students[["person_id", "course_offering_id"]].merge(
        mean, how="left", on=["person_id", "course_offering_id"])["x"].to_numpy(dtype=float)
    z = np.nan_to_num((x - np.nanmean(x)) / np.nanstd(x))
    return 0.6 * z + 0.8 * rng.normal(size=len(z))
