"""`campus-synth profile merge`: two institutions profile their own hand-built warehouses, the
consortium merges the two profiles (no rows move), and the merged profile drives `run`.

Tolerances against the union of the two sources (stated here, checked below):
- categorical shares (person.sex, student role_status, result grading_status): TVD ≤ 0.03;
- score ratios (published_score / points_possible): KS ≤ 0.05;
- student enrollments: within 15 % of the union's (sizing is the structure's, not the merge's);
- the merged manifest: both sources with their digests and actions, table counts added.
"""

from __future__ import annotations

import hashlib
import json

import duckdb
import numpy as np
import pytest
from handbuilt import institution, shape_of, write_duckdb

from pipeline.cli import main

ENTITY = "context_store_entity"


@pytest.fixture(scope="module")
def consortium(tmp_path_factory):
    folder = tmp_path_factory.mktemp("merge")
    sources, profiles = [], []
    for name, shape in (("a", shape_of("withdrawal", students=450, seed=21)),
                        ("b", shape_of("all_submitted", students=350, seed=22, terms=1,
                                       offerings_per_term=6))):
        source = write_duckdb(folder / f"{name}.duckdb", institution(shape))
        profile = folder / f"{name}.json"
        assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
        sources.append(source)
        profiles.append(profile)
    merged = folder / "consortium.json"
    assert main(["profile", "merge", *map(str, profiles), "--out", str(merged)]) == 0
    out = folder / "w"
    assert main(["run", "--profile", str(merged), "--out", str(out), "--no-marts",
                 "--event-days", "1", "--seed", "3", "--no-evaluate"]) == 0
    return sources, profiles, merged, out / "warehouse.duckdb"


def _union(sources, sql: str) -> list[tuple]:
    """Rows of `sql` over the union of the sources' tables ({t} names a table)."""
    rows: list[tuple] = []
    for source in sources:
        with duckdb.connect(str(source), read_only=True) as con:
            rows += con.sql(sql.replace("{t}", ENTITY + ".")).fetchall()
    return rows


def _shares(rows: list[tuple]) -> dict:
    total: dict = {}
    for value, n in rows:
        total[value] = total.get(value, 0) + n
    size = sum(total.values())
    return {v: n / size for v, n in total.items()}


def _tvd(a: dict, b: dict) -> float:
    return 0.5 * sum(abs(a.get(k, 0) - b.get(k, 0)) for k in set(a) | set(b))


SHARES = {
    "sex": "SELECT sex, COUNT(*) FROM {t}person p WHERE EXISTS (SELECT 1 FROM "
           "{t}course_section_enrollment e WHERE e.person_id = p.person_id AND role = 'Student')"
           " GROUP BY 1",
    "role_status": "SELECT role_status, COUNT(*) FROM {t}course_section_enrollment "
                   "WHERE role = 'Student' GROUP BY 1",
    "grading_status": "SELECT grading_status, COUNT(*) FROM {t}learner_activity_result "
                      "GROUP BY 1",
}
RATIOS = ("SELECT r.published_score / a.points_possible FROM {t}learner_activity_result r "
          "JOIN {t}learner_activity a USING (learner_activity_id) "
          "WHERE r.published_score IS NOT NULL AND a.points_possible > 0")


@pytest.mark.parametrize("name", sorted(SHARES))
def test_shares_match_the_union(consortium, name):
    sources, _, _, warehouse = consortium
    want = _shares(_union(sources, SHARES[name]))
    got = _shares(_union([warehouse], SHARES[name]))
    assert _tvd(got, want) <= 0.03, (name, got, want)


def test_scores_match_the_union(consortium):
    sources, _, _, warehouse = consortium
    want = np.sort([r[0] for r in _union(sources, RATIOS)])
    got = np.sort([r[0] for r in _union([warehouse], RATIOS)])
    grid = np.union1d(want, got)
    ks = np.abs(np.searchsorted(want, grid, "right") / len(want)
                - np.searchsorted(got, grid, "right") / len(got)).max()
    assert ks <= 0.05, ks


def test_size_is_the_sum(consortium):
    sources, _, _, warehouse = consortium
    sql = "SELECT COUNT(*) FROM {t}course_section_enrollment WHERE role = 'Student'"
    want = sum(r[0] for r in _union(sources, sql))
    got = _union([warehouse], sql)[0][0]
    assert abs(got / want - 1) <= 0.15, (got, want)


def test_manifest_keeps_each_source(consortium):
    _, profiles, merged, _ = consortium
    manifest = json.loads(merged.with_name("consortium.privacy.json").read_text())
    assert [s["sha256"] for s in manifest["sources"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in profiles]
    inputs = [json.loads(p.with_name(p.stem + ".privacy.json").read_text()) for p in profiles]
    assert [s["actions"] for s in manifest["sources"]] == [m["actions"] for m in inputs]
    table = "course_section_enrollment"
    assert manifest["tables"][table] == sum(m["tables"][table] for m in inputs)
    # FTE is per term: b had one term of a's two, so it adds half its FTE over two terms
    settings = [json.loads(p.read_text())["settings"] for p in profiles]
    merged_settings = json.loads(merged.read_text())["settings"]
    assert merged_settings["terms"] == 2
    assert merged_settings["fte"] == pytest.approx(
        sum(s["fte"] * s["terms"] for s in settings) / 2, abs=0.2)
