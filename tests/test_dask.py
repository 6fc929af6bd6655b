"""The same job on a cluster: `campus-synth generate --runner DaskRunner` on a dask.distributed
LocalCluster of two worker processes (two threads each) writes the same bytes as FnApiRunner.

DaskRunner routes no tagged outputs and reports no metrics, so the job uses neither: each
table's branch filters its own blocks and writes its files in the step that generates them,
and on a runner without metrics the row counts come from the Parquet footers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import TINY_ARGS, generate, manifest

distributed = pytest.importorskip("distributed")

SMALL_RUN = TINY_ARGS  # FnApiRunner's output for these is the session's `tiny_parquet`


def _digests(out: Path) -> dict[str, str]:
    """{path under out: sha256} of every Parquet file of a run."""
    return {path.relative_to(out).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(out.rglob("*.parquet"))}


def _workers_that_ran_tasks(client) -> list[str]:
    executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return sorted(address for address, count in executed.items() if count)


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of two threads each: blocks are drawn in parallel threads of one
    process too (each thread has its own engine), as on a Dataflow SDK harness."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                  dashboard_address=":0") as local:
        yield local


def test_dask_runner_writes_the_bytes_fnapirunner_writes(tmp_path, cluster, tiny_parquet):
    reference = tiny_parquet
    on_dask = generate(tmp_path, *SMALL_RUN, "--runner", "DaskRunner",
                       "--dask_client_address", cluster.scheduler_address, name="dask")
    expected = _digests(reference)
    assert any(name.startswith("event_store/") for name in expected)
    assert _digests(on_dask) == expected
    # row counts from the footers (Dask has no metrics) agree with FnApiRunner's metrics
    assert manifest(on_dask)["tables"] == manifest(reference)["tables"]
    assert manifest(on_dask)["runner"].endswith(".DaskRunner")
    with distributed.Client(cluster.scheduler_address) as client:
        assert len(_workers_that_ran_tasks(client)) == 2


def test_run_on_dask_writes_the_same_bytes_from_its_child(tmp_path, cluster, tiny_parquet):
    """`run`, building the marts, draws in a child process (pipeline/cli/_job_child.py),
    which checks the Dask options and connects to the cluster itself; the Parquet is
    FnApiRunner's."""
    on_dask = generate(tmp_path, *SMALL_RUN, "--runner", "DaskRunner",
                       "--no-evaluate", "--dask_client_address", cluster.scheduler_address,
                       command="run", name="dask-run")
    assert _digests(on_dask) == _digests(tiny_parquet)
    assert manifest(on_dask)["runner"].endswith(".DaskRunner")
    assert (on_dask / "warehouse.duckdb").is_file()
