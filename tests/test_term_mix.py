"""The course mix by term: a hand-built source whose first two terms offer courses of two CIP
families and whose last two offer two others (a programme replaced by another) goes through
`profile` then `run`; each generated term offers the families its source term did, in the
same shares, and a course's subject still belongs to its family. Drawn from the pooled shares,
every generated term offered all four families (total variation 0.5 per term)."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from handbuilt import institution, shape_of, write_duckdb

from pipeline.cli import main

ENTITY = "context_store_entity"
EARLY, LATE = ("27", "52"), ("26", "45")  # the families of the first two terms, then the rest


def _source(folder):
    """The `one_term` source (4 terms × 4 offerings, ~160 students each) with the families
    planted by term: each term two offerings of each of its two families."""
    tables = institution(shape_of("one_term", students=600))
    offerings = tables["course_offering"]
    terms = offerings["academic_term_id"].rank(method="dense").astype(int).to_numpy() - 1
    slot = offerings.groupby("academic_term_id").cumcount().to_numpy() // 2
    family = np.where(terms < 2, np.array(EARLY)[slot], np.array(LATE)[slot])
    offerings["cip_family"], offerings["subject"] = family, [f"S{f}" for f in family]
    return write_duckdb(folder / "source.duckdb", tables)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("term_mix")
    source = _source(folder)
    profile = folder / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
    out = folder / "w"
    assert main(["run", "--profile", str(profile), "--out", str(out), "--event-scale", "0",
                 "--no-marts", "--no-evaluate"]) == 0
    return source, out / "warehouse.duckdb", json.loads(profile.read_text())


def _mix(path) -> dict[str, dict[str, float]]:
    """{term name: {family: share of the term's offerings}}, and each subject's family."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.sql(f"""
            SELECT t.name, o.cip_family, o.subject, COUNT(*) AS n
            FROM {ENTITY}.course_offering o JOIN {ENTITY}.academic_term t
              USING (academic_term_id) GROUP BY ALL""").fetchall()
    mix: dict[str, dict[str, float]] = {}
    for term, family, subject, n in rows:
        assert subject == f"S{family}", (subject, family)  # the subject follows its family
        mix.setdefault(term, {})[family] = mix.get(term, {}).get(family, 0) + n
    return {t: {f: n / sum(m.values()) for f, n in m.items()} for t, m in mix.items()}


def test_each_term_offers_its_source_mix(mixed):
    source, warehouse, _ = mixed
    want, got = _mix(source), _mix(warehouse)
    assert set(got) == set(want)
    for term, shares in want.items():
        tvd = 0.5 * sum(abs(shares.get(f, 0) - got[term].get(f, 0)) for f in EARLY + LATE)
        assert tvd <= 0.01, (term, shares, got[term])


def test_the_mix_is_learned_given_the_term(mixed):
    _, _, profile = mixed
    family = profile["tables"]["course_offering"]["columns"]["cip_family"]
    assert family["kind"] == "conditional"
    assert family["given"] == ["academic_term_id.name"]
    assert len(family["cells"]) == 4
