"""The long quiet stages report progress: the DuckDB load counts tables, the dbt build counts
nodes, each call with what is done out of how many, as the work goes."""

from __future__ import annotations

import shutil

import pytest

from pipeline import REGISTRY
from pipeline.outputs._dbt import build
from pipeline.outputs._duckdb import load_warehouse


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, tiny_parquet):
    """A generated run's Parquet (a copy of the session's shared one) loaded into DuckDB; the
    load's progress calls."""
    out = tmp_path_factory.mktemp("progress") / "w"
    shutil.copytree(tiny_parquet, out)
    calls = []
    load_warehouse(out, list(REGISTRY), lambda done, total: calls.append((done, total)))
    return out, calls


def test_the_load_reports_each_table_and_the_event_store(loaded):
    _, calls = loaded
    tables = len(list(REGISTRY))
    assert {total for _, total in calls} == {tables + 1}  # the registry's tables + the events
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == tables + 1
    assert done == list(range(1, tables + 2))  # the event store is a view: one step


def test_the_dbt_build_reports_each_node_as_it_finishes(loaded):
    out, _ = loaded
    calls = []
    report = build(out, command="run", select=["path:models/staging"], quiet=True,
                   progress=lambda done, total: calls.append((done, total)))
    nodes = sum(report.statuses.values())
    assert nodes > 20  # every staging view
    assert [d for d, _ in calls] == list(range(1, nodes + 1))
    assert {total for _, total in calls} == {nodes}
