"""Profile then run on hand-built sources (tests/handbuilt.py), each unlike the default in one
way; the generated institution keeps the source's structure.

For every source: `campus-synth profile` and `campus-synth run` at the profile's own FTE (the
source's size) succeed, and through SQL on both DuckDB files the rows per table are within
10 % and the children-per-parent distributions within KS 0.05 — where the source has enough
parents for a KS to mean anything (below MIN_PARENTS a single parent moves the CDF by more
than the tolerance; those FKs are compared by their mean instead)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from dependency_metrics import PLANTED, planted
from handbuilt import SHAPES, SPARSE_TABLES, build
from real_source_checks import KS_MAX, ROWS_TOLERANCE, TVD_MAX, _issue_11_misses, _source_connection
from structure_metrics import CHILDREN, histogram, ks, numbers, row_counts, shares, tvd

from pipeline.cli import main

MIN_PARENTS = 60
ASSOCIATION_MAX = 0.05  # |generated − source| Spearman or Cramér's V of a planted pair
# columns generation once took from the built-in catalog (and the course columns keyed by a
# course's position in its term): each is learned from the source now
CATALOG = {"course_offering": ("subject", "number", "title", "cip_family", "course_level",
                               "available_credits"),
           "course_section": ("section_number",), "campus": ("name", "code"),
           "learner_activity_group": ("name",)}
MARTS = "one_row"  # the one run that builds the marts too (dbt costs ~40 s)
# FKs whose children come from a draw per offering, not per parent: with a source of a few
# dozen offerings their per-parent KS measures which offerings got which counts
PER_OFFERING = {"results per enrollment", "students per section", "students per offering"}


@pytest.fixture(scope="module", params=sorted(SHAPES))
def pair(request, tmp_path_factory) -> tuple[str, Path, Path, dict]:
    """(name, source, generated warehouse, profile) — profiled and run once per source."""
    name = request.param
    folder = tmp_path_factory.mktemp(name)
    source = build(name, folder / "source", parquet=name == "one_row")
    profile_path = folder / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(profile_path)]) == 0
    profile = json.loads(profile_path.read_text())
    # the events source: its two weeks of events, so activity ↔ score compares like with like
    flags = ["--event-days", "14" if name == "events" else "1", "--no-evaluate"]
    flags += [] if name == MARTS else ["--no-marts"]
    flags += [] if name in (MARTS, "events") else ["--event-scale", "0"]  # no events: works
    out = folder / "run"
    assert main(["run", "--profile", str(profile_path), "--out", str(out), *flags]) == 0
    return name, source, out / "warehouse.duckdb", profile



def test_rows_per_table_within_10_percent(pair):
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want, got = row_counts(src), row_counts(gen)
    off = {t: (n, got.get(t, 0)) for t, n in want.items()
           if t != "expanded" and abs(got.get(t, 0) / n - 1) > ROWS_TOLERANCE}
    assert not off, f"{name}: rows (source, generated) off by more than 10 %: {off}"


def test_children_per_parent_match(pair):
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        for fk in CHILDREN:
            want, got = histogram(src, fk), histogram(gen, fk)
            parents = sum(want.values())
            if fk in PER_OFFERING or parents < MIN_PARENTS:
                assert _mean(got) == pytest.approx(_mean(want), rel=0.1), (name, fk)
            else:
                assert ks(want, got) <= KS_MAX, (name, fk, want, got)


# dates of the work, each as seconds since the epoch, with its term (by begin date)
WORK_DATES = {
    "due_date": "SELECT epoch(a.due_date) AS v, t.term_begin_date AS term "
                "FROM {t}learner_activity a JOIN {t}course_offering o USING "
                "(course_offering_id) JOIN {t}academic_term t USING (academic_term_id) "
                "WHERE a.due_date IS NOT NULL",
    **{column: f"SELECT epoch(r.{column}) AS v, t.term_begin_date AS term "
               "FROM {t}learner_activity_result r JOIN {t}learner_activity a "
               "USING (learner_activity_id) JOIN {t}course_offering o USING "
               f"(course_offering_id) JOIN {{t}}academic_term t USING (academic_term_id) "
               f"WHERE r.{column} IS NOT NULL"
       for column in ("response_date", "graded_date")}}
DATES_KS_MAX = 0.045  # issue 11's 0.05 with a margin


def test_each_terms_work_falls_due_as_in_the_source(pair):
    """The source's terms differ in how much work they hold and when it falls due (the
    profile lists each term's own: distributions/_term_work.py): every term's dated
    activities number the source's (within 10 %), and due, response and graded dates over
    all terms are within KS 0.045 of the source's (one distribution for every term left
    them at 0.07-0.10 on the one_term source)."""
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        found = {side: {c: con.execute(sql.replace("{t}", "context_store_entity."))
                        .fetchall() for c, sql in WORK_DATES.items()}
                 for side, con in (("source", src), ("generated", gen))}
    per_term = {side: [n for _, n in sorted(Counter(term for _, term in rows["due_date"])
                                            .items())] for side, rows in found.items()}
    assert len(per_term["generated"]) == len(per_term["source"]), (name, per_term)
    off = [(w, g) for w, g in zip(per_term["source"], per_term["generated"])
           if abs(g - w) > max(0.1 * w, 1)]
    assert not off, f"{name}: dated activities per term (source, generated) {off}"
    distances = {c: round(ks(Counter(v for v, _ in found["source"][c]),
                             Counter(v for v, _ in found["generated"][c])), 4)
                 for c in WORK_DATES}
    assert max(distances.values()) <= DATES_KS_MAX, (name, distances)


def test_planted_dependencies_match(pair):
    """Withdrawal tied to low scores, an outcome label tied to scores and to role_status,
    demographic bands tied to scores and to each other: each pair's association within
    0.05 of the source's (sources without planted pairs have nothing to check)."""
    name, source, generated, _ = pair
    if name not in PLANTED:
        pytest.skip(f"{name} plants no dependency")
    found = planted(str(source), str(generated), name)
    off = [(p, round(w, 3), round(g, 3)) for p, w, g in found
           if w is None or g is None or abs(g - w) > ASSOCIATION_MAX]
    assert not off, f"{name}: planted pairs off by more than {ASSOCIATION_MAX}: {off}"


def test_catalog_columns_are_learned(pair):
    """Course subject, number and title, section number, campus and group names: TVD ≤ 0.03
    against the source (they once came from the built-in catalog, TVD 1.0)."""
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        distances = {f"{t}.{c}": round(tvd(shares(src, t, c), shares(gen, t, c)), 4)
                     for t, columns in CATALOG.items() for c in columns}
    off = {column: d for column, d in distances.items() if d > TVD_MAX}
    assert not off, f"{name}: catalog columns over TVD {TVD_MAX}: {off}"


def test_course_titles_belong_to_their_subject(pair):
    """A course's title and number are drawn given its subject: every generated (subject,
    title) and (subject, number) pair is one the source has."""
    name, source, generated, _ = pair
    for column in ("title", "number"):
        sql = f"SELECT DISTINCT subject, {column} FROM context_store_entity.course_offering"
        with _source_connection(source) as src, duckdb.connect(str(generated),
                                                               read_only=True) as gen:
            want, got = set(src.execute(sql).fetchall()), set(gen.execute(sql).fetchall())
        assert got and got <= want, (name, column, sorted(got - want)[:5])


def test_gradebook_follows_the_source(pair):
    """Whether withdrawn students keep a score and whether the current score is the final one
    are learned: the share of grades without a score and the share whose current score
    differs from the final are the source's, within 0.01."""
    name, source, generated, _ = pair
    sql = ("SELECT AVG(CASE WHEN le_final_score IS NULL THEN 1.0 ELSE 0 END), "
           "AVG(CASE WHEN ABS(le_current_score - le_final_score) > 0.005 THEN 1.0 ELSE 0 END) "
           "FROM context_store_entity.course_grade")
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want, got = src.execute(sql).fetchone(), gen.execute(sql).fetchone()
    assert got == pytest.approx(want, abs=0.01), (name, want, got)


def _mean(hist: dict[int, int]) -> float:
    return sum(v * c for v, c in hist.items()) / max(sum(hist.values()), 1)


def test_grading_status_is_never_null(pair):
    name, _, generated, _ = pair
    with duckdb.connect(str(generated), read_only=True) as gen:
        statuses = dict(gen.execute(
            "SELECT grading_status, COUNT(*) FROM context_store_entity.learner_activity_result "
            "GROUP BY 1").fetchall())
    assert None not in statuses and statuses, (name, statuses)


def test_learned_structure_is_in_the_profile(pair):
    name, _, _, profile = pair
    terms = profile["structure"]["terms_per_student"]["values"]
    mean = sum(i["value"] * i["p"] for i in terms)
    if name == "one_term":
        assert mean == pytest.approx(1.1, abs=0.03)
        assert max(t["weeks"] for t in profile["calendar"]["term_types"].values()) >= 34
    rows = profile["tables"]["course_section_enrollment"]["rows"]
    assert "per_section" in rows and "per_offering" in rows
    if name == "extra_columns":  # 1–3 sections per offering: how students split over them
        assert rows["section_share"]["min"] < 1 < rows["section_share"]["max"]
    if name == "events":  # the source's event store has no Submitted/Graded events
        assert profile["events"]["gradebook_events"] == {"submitted": 0, "graded": 0}


def test_marts_are_built_unless_skipped(pair):
    """The one run with marts has them filled; the --no-marts runs stop after the load."""
    name, _, generated, _ = pair
    with duckdb.connect(str(generated), read_only=True) as gen:
        schemas = {r[0] for r in gen.execute(
            "SELECT DISTINCT schema_name FROM duckdb_tables()").fetchall()}
        if name != MARTS:
            assert not any(s.startswith("mart_") for s in schemas), schemas
            return
        rows = gen.execute("SELECT COUNT(*) FROM mart_course_offering.status").fetchone()[0]
    assert rows > 0


# each term's assignments are due over the term as the source's are (per-term due fractions
# within this KS of the source's pooled ones) where a term has this many dated assignments
TERM_DUE_KS, MIN_TERM_WORK = 0.1, 10
_DUE_FRACTIONS = """
SELECT DENSE_RANK() OVER (ORDER BY t.term_begin_date) AS term,
       (epoch(a.due_date) - epoch(t.term_begin_date)) /
       (epoch(t.term_end_date) - epoch(t.term_begin_date)) AS f
FROM context_store_entity.learner_activity a
JOIN context_store_entity.course_offering o USING (course_offering_id)
JOIN context_store_entity.academic_term t USING (academic_term_id)
WHERE a.due_date IS NOT NULL"""


def test_every_term_spreads_its_work_like_the_source(pair):
    """Courses' assignments are dealt over the terms and their due fractions stratified and
    mapped onto the source's term by term: each generated term's due fractions within KS 0.1
    of the same source term's (random strata left them 0.12-0.22 from the source's, and one
    term of a real-like source 13 of 138 assignments too many: absolute due dates' KS 0.094;
    mapped onto the pooled fractions, each term of the one_term source sat 0.11-0.16 from
    its own)."""
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want, got = (_by_term(con.execute(_DUE_FRACTIONS).fetchall()) for con in (src, gen))
    distances = {term: round(ks(_histogram(want.get(term, [])), _histogram(f)), 3)
                 for term, f in got.items() if len(f) >= MIN_TERM_WORK}
    off = {term: d for term, d in distances.items() if d > TERM_DUE_KS}
    assert not off, f"{name}: terms whose due fractions are off the source's: {off}"


def _by_term(rows) -> dict[int, list[float]]:
    """{term: [values]} of (term, value) rows."""
    terms: dict[int, list[float]] = {}
    for term, f in rows:
        terms.setdefault(term, []).append(f)
    return terms


def _histogram(values) -> dict[float, int]:
    out: dict[float, int] = {}
    for v in values:
        out[round(v, 6)] = out.get(round(v, 6), 0) + 1
    return out


WEIGHT_KS, MIN_GROUPS = 0.1, 45


def test_group_weights_keep_their_distribution(pair):
    """Group weights add up to each course's total and keep the source's marginal
    (alternating projections): KS ≤ 0.1 where the source has 45 groups or more (one rescale
    of independent draws: 0.135 and 0.157 on the two such sources, 0.076 on 66 groups of
    the real-like one at 30,000 students)."""
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want = numbers(src, "learner_activity_group", "group_weight")
        got = numbers(gen, "learner_activity_group", "group_weight")
    if sum(want.values()) < MIN_GROUPS:
        pytest.skip(f"{name}: {sum(want.values())} groups, too few for a KS of {WEIGHT_KS}")
    assert ks(want, got) <= WEIGHT_KS, (name, round(ks(want, got), 3))


PER_GROUP_KS, MIN_GROUPS_SPREAD = 0.07, 30


def test_activities_per_group_keep_their_distribution(pair):
    """A course's activities are spread over its groups after alternating rounds (adjust to
    the course total, remap to the drawn per-group counts): activities per group within KS
    0.07 of the source's where it has 30 groups or more (a proportional spread of independent
    draws: 0.077-0.176 on those sources, groups of 4 from sources of 1-3)."""
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want = histogram(src, "activities per group")
        got = histogram(gen, "activities per group")
    if sum(want.values()) < MIN_GROUPS_SPREAD:
        pytest.skip(f"{name}: {sum(want.values())} groups")
    assert ks(want, got) <= PER_GROUP_KS, (name, round(ks(want, got), 3), want, got)


WITHDRAWN_UNSUBMITTED = """
SELECT AVG(CASE WHEN r.grading_status = 'unsubmitted' THEN 1.0 ELSE 0 END)
FROM context_store_entity.learner_activity_result r
JOIN context_store_entity.learner_activity a USING (learner_activity_id)
JOIN context_store_entity.course_section s ON s.course_offering_id = a.course_offering_id
JOIN context_store_entity.course_section_enrollment e
  ON e.course_section_id = s.course_section_id AND e.person_id = r.person_id
WHERE e.role_status = 'Withdrawn'"""


def test_withdrawn_leave_their_share_unsubmitted(pair):
    """The withdrawn leave the source's share of their work unsubmitted (within 0.1), even
    where they keep a row for every activity: the profile's results_kept holds each class's
    share whenever they differ (without it they got the others' share plus the work due
    after they left: 0.46-0.53 against the sources' 0.62-0.69). Where their later rows are
    dropped (`withdrawal`), the share is of the rows kept, few of them due after leaving."""
    name, source, generated, _ = pair
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want = src.execute(WITHDRAWN_UNSUBMITTED).fetchone()[0]
        got = gen.execute(WITHDRAWN_UNSUBMITTED).fetchone()[0]
    if want is None:
        pytest.skip(f"{name}: no withdrawn results")
    assert got == pytest.approx(want, abs=0.1), (name, want, got)


WITHDRAWN_FINAL = """
SELECT g.le_final_score FROM context_store_entity.course_grade g
JOIN context_store_entity.course_section_enrollment e USING (person_id, course_section_id)
WHERE e.role_status = 'Withdrawn' AND g.le_final_score IS NOT NULL"""


def test_withdrawn_final_scores_where_their_rows_are_dropped(pair):
    """The withdrawn's final scores (missing work as zero) follow the source's within KS 0.1
    where their later rows were dropped: their random missing share once took the work due
    after leaving as 1 − mean withdrawal_at of their rows, but their kept rows sit before
    they left, so they left 63 % unsubmitted against 73 % and scored KS 0.21 off."""
    name, source, generated, _ = pair
    if name != "withdrawal":
        pytest.skip("only `withdrawal` drops the withdrawn's rows")
    with _source_connection(source) as src, duckdb.connect(str(generated),
                                                           read_only=True) as gen:
        want = Counter(r[0] for r in src.execute(WITHDRAWN_FINAL).fetchall())
        got = Counter(r[0] for r in gen.execute(WITHDRAWN_FINAL).fetchall())
    assert ks(want, got) <= 0.1, (ks(want, got), sum(want.values()), sum(got.values()))


# figures measured over the limit and left open, each named (value, limit when measured):
# none may grow into a new miss unnoticed, and a listed one that passes is fine
# (withdrawal's final_grade was one, TVD 0.063 vs 0.0617 at 9c330d6: too few F; since the
# withdrawn's missing share counts only their kept rows due after leaving, 0.0553)
KNOWN_MISSES: dict[str, set[tuple[str, str]]] = {}


def test_evaluate_meets_issue_11_limits(pair, tmp_path):
    """`campus-synth evaluate --real SOURCE --synthetic WAREHOUSE` through the CLI: rows within
    10 % per table, and every column (extras included) and FK within issue 11's limits (see
    `_issue_11_misses`: where the source is too small to resolve a limit the figure is held
    to twice its noise floor, not waved through), except the figures KNOWN_MISSES names."""
    name, source, generated, _ = pair
    out = tmp_path / "evaluation"
    assert main(["evaluate", "--real", str(source), "--synthetic", str(generated),
                 "--out", str(out), "--no-detection"]) in (0, 1)  # 1: a figure failed
    report = json.loads((out / "report.json").read_text())
    real, synthetic = report["tables"]["real"], report["tables"]["synthetic"]
    rows = {t: (n, synthetic.get(t, 0)) for t, n in real.items()
            if t != "expanded" and abs(synthetic.get(t, 0) / n - 1) > ROWS_TOLERANCE}
    assert not rows, f"{name}: rows (source, generated) off by more than 10 %: {rows}"
    misses = [m for m in _issue_11_misses(report) if m[:2] not in KNOWN_MISSES.get(name, ())]
    assert not misses, f"{name}: figures over issue 11's limits: {misses}"


def test_missing_optional_tables_and_columns_are_notes(tmp_path, capsys):
    """Without assignment groups, grades, student-terms, course levels, capacities, term types
    and role statuses, profile notes each default and the profile generates and loads."""
    source = build("sparse", tmp_path, parquet=True)
    profile = tmp_path / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
    captured = capsys.readouterr()
    notes = captured.out + captured.err
    for table in SPARSE_TABLES:
        assert f"optional table {table} is not in the source" in notes
    assert "kept the default" in notes
    assert main(["run", "--profile", str(profile), "--out", str(tmp_path / "w"),
                 "--event-days", "1", "--event-scale", "0", "--no-marts", "--no-evaluate"]) == 0
