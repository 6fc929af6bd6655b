"""A converted learning-analytics source: Open University-shaped data renamed to UDP tables.

Built with numpy/pandas alone (never with campus-synth, and apart from tests/handbuilt.py) so
that the profiler meets the quirks of a real public dataset converted to UDP names:

- four presentations of seven modules (24 offerings, one section each), starting in February
  and October and running 34–38 weeks; academic_term has no term_type;
- students only (no teachers); ~1.15 enrollments per student; withdrawal tied to ability;
- extras: demographics on person (sex, region, deprivation band with nulls, age band, prior
  attempts, credits, disability), `final_result` and registration/unregistration days on the
  enrollment (the unregistration day exists exactly for the withdrawn);
- assessments TMA/CMA/Exam, one group each: the exam weighs 100, the TMAs sum to 100, CMAs 0;
  most exams have no due date; titles name their type;
- results for nearly all work (the withdrawn lose most rows), ~0.1 % null scores, 1 % banked
  (submitted a year before); no grading_status column;
- course_grade with le_final_score alone (no final_grade, no le_current_score).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MODULES = ("AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG")
PRESENTATIONS = (("2013B", dt.datetime(2013, 2, 4), 240), ("2013J", dt.datetime(2013, 10, 7), 268),
                 ("2014B", dt.datetime(2014, 2, 3), 241), ("2014J", dt.datetime(2014, 10, 6), 269))
REGIONS = ("Scotland", "East Anglian Region", "London Region", "Wales", "North Region")
# registry columns the source leaves out, which the profile notes must name
ABSENT_COLUMNS = ("learner_activity_result.grading_status", "course_grade.le_current_score",
                  "course_grade.final_grade", "course_section.max_enrollment")


def build(out: Path, students: int = 8000, fmt: str = "csv", seed: int = 5) -> dict[str, int]:
    """Write the source's tables as `<table>.csv` (or `.parquet`) under `out`; row counts."""
    rng = np.random.default_rng(seed)
    terms, offerings, sections = _courses()
    enrollments, ability = _enrollments(rng, students, sections)
    people = _people(rng, enrollments["person_id"].unique())  # every student has a row
    groups, activities = _assessments(rng, terms, offerings)
    results = _results(rng, terms, offerings, sections, enrollments, ability, activities)
    tables = {"academic_term": terms, "course_offering": offerings, "course_section": sections,
              "person": people,
              "course_section_enrollment": enrollments, "learner_activity_group": groups,
              "learner_activity": activities, "learner_activity_result": results,
              "course_grade": _grades(results, activities, sections)}
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "csv":
            frame.to_csv(out / f"{name}.csv", index=False)
        else:
            frame.to_parquet(out / f"{name}.parquet", index=False)
    return {name: len(frame) for name, frame in tables.items()}


def _courses() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Terms, offerings (modules AAA and CCC only in October) and one section per offering."""
    terms = pd.DataFrame({"academic_term_id": [1, 2, 3, 4],
                          "name": [p[0] for p in PRESENTATIONS],
                          "term_begin_date": [p[1] for p in PRESENTATIONS],
                          "term_end_date": [p[1] + dt.timedelta(days=p[2]) for p in PRESENTATIONS]})
    pairs = [(m, t) for t in range(4) for m in MODULES if not (m in ("AAA", "CCC") and t % 2 == 0)]
    offerings = pd.DataFrame({"course_offering_id": np.arange(len(pairs)) + 100,
                              "academic_term_id": [t + 1 for _, t in pairs],
                              "subject": [m for m, _ in pairs],
                              "title": [f"Module {m}" for m, _ in pairs], "course_level": "100"})
    sections = pd.DataFrame({"course_section_id": offerings["course_offering_id"] + 1000,
                             "course_offering_id": offerings["course_offering_id"]})
    return terms, offerings, sections


def _enrollments(rng, students: int, sections: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Student enrollments (~1.15 per student, ids in the millions) and each one's ability;
    the less able withdraw, and the outcome label follows ability."""
    ids = rng.choice(np.arange(6000, 2_700_000), students, replace=False)
    per_student = 1 + (rng.random(students) < 0.15)
    rows = np.repeat(np.arange(students), per_student)
    chosen = rng.integers(0, len(sections), len(rows))
    enr = pd.DataFrame({"person_id": ids[rows],
                        "course_section_id": sections["course_section_id"].to_numpy()[chosen]})
    enr = enr.drop_duplicates(["person_id", "course_section_id"]).reset_index(drop=True)
    n = len(enr)
    ability = rng.normal(size=n)
    withdrawn = rng.random(n) < 1 / (1 + np.exp(1.0 + 1.2 * ability))
    enr["role"] = "Student"  # no teachers at all
    enr["role_status"] = np.where(withdrawn, "Withdrawn", "Enrolled")
    enr["final_result"] = np.where(withdrawn, "Withdrawn", np.where(
        ability > 1.0, "Distinction", np.where(ability > -0.6, "Pass", "Fail")))
    enr["date_registration"] = np.where(rng.random(n) < 0.01, np.nan,
                                        np.round(-70 + 20 * rng.normal(size=n)))
    enr["date_unregistration"] = np.where(withdrawn, np.round(rng.uniform(-30, 200, n)), np.nan)
    return enr, ability


def _people(rng, ids: np.ndarray) -> pd.DataFrame:
    """One row per enrolled student with the dataset's demographic columns."""
    n = len(ids)
    return pd.DataFrame({
        "person_id": ids, "sex": rng.choice(["M", "F"], n), "region": rng.choice(REGIONS, n),
        "highest_education": rng.choice(["A Level or Equivalent", "Lower Than A Level",
                                         "HE Qualification"], n, p=[.45, .4, .15]),
        "imd_band": np.where(rng.random(n) < 0.034, None,
                             rng.choice(["0-10%", "10-20", "20-30%", "90-100%"], n)),
        "age_band": rng.choice(["0-35", "35-55", "55<="], n, p=[.7, .29, .01]),
        "num_of_prev_attempts": rng.poisson(0.16, n),
        "studied_credits": rng.choice([30, 60, 90, 120, 240], n, p=[.3, .4, .1, .15, .05]),
        "disability": rng.choice(["N", "Y"], n, p=[.9, .1])})


def _assessments(rng, terms: pd.DataFrame, offerings: pd.DataFrame):
    """Per offering 3-5 TMAs (weights summing to 100), 4 CMAs (weight 0) in two modules and an
    exam (weight 100, most without a due date); one group per assessment."""
    begins = terms.set_index("academic_term_id")["term_begin_date"]
    groups, activities = [], []
    for offering in offerings.itertuples():
        kinds = ["TMA"] * int(rng.integers(3, 6)) + (["CMA"] * 4 if offering.subject in
                                                     ("CCC", "DDD") else [])
        weights = iter(np.round(rng.dirichlet(np.ones(kinds.count("TMA"))) * 100))
        for j, kind in enumerate(kinds + ["Exam"]):
            gid = len(groups) + 5000
            weight = 100.0 if kind == "Exam" else 0.0 if kind == "CMA" else float(next(weights))
            groups.append({"learner_activity_group_id": gid,
                           "course_offering_id": offering.course_offering_id,
                           "name": kind, "group_weight": weight})
            undated = kind == "Exam" and rng.random() < 0.6
            due = None if undated else begins[offering.academic_term_id] + dt.timedelta(
                days=20 + 35 * j)
            activities.append({"learner_activity_id": gid + 10000,
                               "course_offering_id": offering.course_offering_id,
                               "learner_activity_group_id": gid, "title": f"{kind} {j}",
                               "due_date": due, "points_possible": 100.0,
                               "assessment_type": kind})
    return pd.DataFrame(groups), pd.DataFrame(activities)


def _results(rng, terms, offerings, sections, enrollments, ability, activities) -> pd.DataFrame:
    """A result per enrollment and assessment (the withdrawn lose 70 % of theirs): scores
    follow ability, ~0.1 % null; submitted before the due date (an undated exam: before the
    term's end); 1 % banked from an earlier presentation (submitted 400 days before)."""
    e = enrollments.merge(sections, on="course_section_id").reset_index(names="enr")
    r = e.merge(activities, on="course_offering_id")
    keep = ~((r["role_status"] == "Withdrawn") & (rng.random(len(r)) < 0.7)).to_numpy()
    r = r[keep].reset_index(drop=True)
    level = ability[r["enr"].to_numpy()]
    score = np.clip(np.round(70 + 15 * level + rng.normal(0, 10, len(r))), 0, 100)
    score = np.where(rng.random(len(r)) < 0.001, np.nan, score)
    term_of = offerings.set_index("course_offering_id")["academic_term_id"]
    end = r["course_offering_id"].map(term_of).map(
        terms.set_index("academic_term_id")["term_end_date"])
    due = pd.to_datetime(r["due_date"]).fillna(pd.to_datetime(end) - pd.Timedelta(days=5))
    submitted = due - pd.to_timedelta(rng.integers(0, 10, len(r)), unit="D")
    banked = rng.random(len(r)) < 0.01
    submitted = submitted.where(~banked, submitted - pd.Timedelta(days=400))
    return pd.DataFrame({"learner_activity_result_id": np.arange(len(r)) + 10_000_000,
                         "learner_activity_id": r["learner_activity_id"],
                         "person_id": r["person_id"], "published_score": score,
                         "response_date": submitted, "is_banked": banked.astype(int)})


def _grades(results, activities, sections) -> pd.DataFrame:
    """course_grade: the mean result score per student and section as le_final_score."""
    return (results.merge(activities[["learner_activity_id", "course_offering_id"]],
                          on="learner_activity_id")
            .merge(sections, on="course_offering_id")
            .groupby(["person_id", "course_section_id"], as_index=False)["published_score"]
            .mean().rename(columns={"published_score": "le_final_score"}))


VLE_KINDS = ("oucontent", "forumng", "resource", "subpage", "homepage", "quiz")


def click_stream(out: Path, seed: int = 1, per_day: float = 2.0, extras: bool = False) -> int:
    """Write `expanded.parquet` beside a Parquet build: a VLE's click stream as a conversion
    writes it (the VLE's own object types, ed_app.id only, no membership). Each student
    enrollment clicks Poisson(`per_day`) times a day from its presentation's start to its
    end, a withdrawn one only up to its unregistration day; the number of events.

    With `extras`, the table has columns of its own as well (EVENT_EXTRAS): the clicks a row
    counts, the platform, and three that must never leave the source: the client's IP
    address, a near-unique browser fingerprint and a nested referrer record."""
    rng = np.random.default_rng(seed)
    e = (pd.read_parquet(out / "course_section_enrollment.parquet")
         .merge(pd.read_parquet(out / "course_section.parquet"), on="course_section_id")
         .merge(pd.read_parquet(out / "course_offering.parquet")[
             ["course_offering_id", "academic_term_id"]], on="course_offering_id")
         .merge(pd.read_parquet(out / "academic_term.parquet"), on="academic_term_id"))
    begin = pd.to_datetime(e["term_begin_date"])
    days = ((pd.to_datetime(e["term_end_date"]) - begin).dt.days + 1).to_numpy()
    left = np.nan_to_num(e["date_unregistration"].to_numpy(dtype=float), nan=0.0)
    active = np.where(e["role_status"] == "Withdrawn", np.clip(left, 0, days), days)
    clicks = [rng.poisson(per_day, int(n)) for n in active]
    row = np.repeat(np.arange(len(e)), [int(c.sum()) for c in clicks])
    day = np.concatenate([np.repeat(np.arange(len(c)), c) for c in clicks])
    seconds = day * 86400 + rng.integers(8 * 3600, 22 * 3600, len(day))
    time = begin.to_numpy()[row] + seconds.astype("timedelta64[s]")

    def column(values, kind=None):  # a large string array comes back chunked
        array = pa.array(values, kind)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    n = len(day)
    pq.write_table(pa.table({
        "type": column(["NavigationEvent"] * n, pa.string()),
        "action": column(["NavigatedTo"] * n, pa.string()),
        "event_time": pa.array(time.astype("datetime64[us]")).cast(pa.timestamp("us", "UTC")),
        "object": pa.StructArray.from_arrays([
            column([f"site:{i}" for i in rng.integers(0, 300, n)], pa.string()),
            column(np.array(VLE_KINDS)[rng.integers(0, len(VLE_KINDS), n)], pa.string())],
            ["id", "type"]),
        "ed_app": pa.StructArray.from_arrays(
            [column(["https://vle.example.ac.uk/"] * n, pa.string())], ["id"]),
        "person": pa.StructArray.from_arrays(
            [pa.array(e["person_id"].to_numpy()[row])], ["udp_id"]),
        "course_offering": pa.StructArray.from_arrays(
            [pa.array(e["course_offering_id"].to_numpy()[row])], ["udp_id"]),
        **(_event_extras(rng, n) if extras else {})}),
        out / "expanded.parquet")
    return n


# the event extras: (profiled or not, why not)
EVENT_EXTRAS = {"sum_click": None, "platform": None, "client_ip": "its name says identifier",
                "fingerprint": "near-unique values", "referrer": "unsupported type"}


def _event_extras(rng, n: int) -> dict[str, pa.Array]:
    """Columns a VLE's export adds to its click stream (EVENT_EXTRAS)."""
    ips = np.char.add("10.0.", rng.integers(0, 65536, n).astype(str))
    return {"sum_click": pa.array(rng.geometric(0.3, n)),
            "platform": pa.array(rng.choice(["web", "app", "mobile-web"], n, p=[.7, .25, .05])),
            "client_ip": pa.array(ips),
            "fingerprint": pa.array(np.char.add("fp", rng.integers(0, 10**12, n).astype(str))),
            "referrer": pa.StructArray.from_arrays([pa.array(ips)], ["url"])}
