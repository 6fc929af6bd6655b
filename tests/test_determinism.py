"""Same seed ⇒ the same tables, whatever the runner mode or block size; another seed ⇒ other
tables. Runs `campus-synth generate` (Parquet only) at 600 FTE."""

from __future__ import annotations

import duckdb
import pytest
from conftest import (
    MARTS_ARGS,
    TINY_ARGS,
    event_files,
    generate,
    manifest,
    part_files,
    read_table,
    run_subprocess,
)

from pipeline import REGISTRY

FTE = 600
EVENTS = ("--event-days", 10)  # events too, but not a whole term of them
TABLES = list(REGISTRY)
_ids = {"ids": lambda t: t.qualified_name}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """In-process FnApiRunner, default block size, seed 7."""
    return generate(tmp_path_factory.mktemp("det_ref"), *EVENTS, "--fte", FTE, "--seed", 7)


@pytest.fixture(scope="module")
def multi_process(tmp_path_factory):
    """The same settings on two worker processes."""
    return generate(tmp_path_factory.mktemp("det_mp"), *EVENTS, "--fte", FTE, "--seed", 7,
                    "--direct_running_mode=multi_processing", "--direct_num_workers=2")


@pytest.fixture(scope="module")
def small_blocks(tmp_path_factory):
    """The same settings cut into 1,000-row blocks."""
    return generate(tmp_path_factory.mktemp("det_blocks"), *EVENTS, "--fte", FTE, "--seed", 7,
                    "--block-rows", 1000)


@pytest.fixture(scope="module")
def other_seed(tmp_path_factory):
    """Seed 8; one day of events (its tests compare context-store columns only, and the event
    days do not reach the context store)."""
    return generate(tmp_path_factory.mktemp("det_seed"), "--event-days", 1, "--fte", FTE,
                    "--seed", 8)


def _assert_same(left, right, table):
    a, b = read_table(left, table), read_table(right, table)
    assert a is not None and b is not None, f"{table.qualified_name} has no Parquet files"
    assert a.schema.names == b.schema.names
    assert a.num_rows == b.num_rows, table.qualified_name
    assert a.equals(b), f"{table.qualified_name} differs"


@pytest.mark.parametrize("table", TABLES, **_ids)
def test_multi_process_runner_gives_identical_tables(reference, multi_process, table):
    _assert_same(reference, multi_process, table)


@pytest.mark.parametrize("table", TABLES, **_ids)
def test_block_size_gives_identical_tables(reference, small_blocks, table):
    _assert_same(reference, small_blocks, table)


def _events(out):
    with duckdb.connect() as connection:
        return connection.sql(
            f"SELECT * FROM read_parquet('{out}/event_store/expanded/*/*.parquet', "
            "hive_partitioning = false) ORDER BY id").to_arrow_table()


def test_events_are_identical_whatever_the_runner_or_block_size(reference, multi_process,
                                                                small_blocks):
    expected = _events(reference)
    assert expected.num_rows > 50_000
    assert _events(multi_process).equals(expected)
    assert _events(small_blocks).equals(expected)
    # the same files, too, where the blocks are the same
    names = [p.relative_to(reference) for p in event_files(reference)]
    assert names == [p.relative_to(multi_process) for p in event_files(multi_process)]
    assert len(event_files(small_blocks)) > len(names)


def test_runs_record_their_options(reference, multi_process, small_blocks):
    assert manifest(multi_process)["settings"] == manifest(reference)["settings"]
    assert manifest(small_blocks)["settings"]["block_rows"] == 1000
    assert manifest(small_blocks)["sources"]["block_rows"] == "flag"
    assert manifest(multi_process)["tables"] == manifest(reference)["tables"]
    # a smaller block really did cut the big tables into more files
    results = REGISTRY["learner_activity_result"]
    assert len(part_files(small_blocks, results)) > len(part_files(reference, results))
    assert not (reference / "warehouse.duckdb").exists()  # generate is Parquet only


@pytest.mark.parametrize("key, column", [
    ("person", "name"),
    ("person", "first_name"),
    ("course_section_enrollment", "course_section_id"),
    ("learner_activity_result", "published_score"),
])
def test_other_seed_gives_other_values(reference, other_seed, key, column):
    table = REGISTRY[key]
    a = read_table(reference, table).column(column).to_pylist()
    b = read_table(other_seed, table).column(column).to_pylist()
    n = min(len(a), len(b))
    assert n > 0
    same = sum(x == y for x, y in zip(a[:n], b[:n]))
    assert same / n < 0.5, f"{key}.{column}: {same} of {n} values equal across seeds"


def test_same_seed_twice_in_process(tiny_parquet, tmp_path):
    """A second in-process run in the same interpreter (whatever module state the session's
    earlier jobs left behind) gives the same values as the first: the session's small
    Parquet generation, made again with its arguments."""
    again = generate(tmp_path, *TINY_ARGS)
    for key in ("person", "course_section_enrollment", "course_grade"):
        _assert_same(tiny_parquet, again, REGISTRY[key])


# ---- golden determinism: the same bytes, the same marts, in another process ---------------
def _mart_digests(out):
    """Row count and an order-free hash of every table of a warehouse, marts included."""
    with duckdb.connect(str(out / "warehouse.duckdb"), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2").fetchall()
        return {f"{s}.{t}": connection.execute(
            f'SELECT count(*), sum(hash(x)) FROM (SELECT * FROM "{s}"."{t}") AS x').fetchall()[0]
            for s, t in tables}


def test_same_seed_gives_the_same_bytes_and_marts(marts_warehouse, tmp_path):
    """Two runs with the same seed, profile and size — the session's, made in this process,
    and one in a fresh interpreter (other string-hash seeds, other thread timing) — write
    byte-identical Parquet (dictionary pages included) and warehouses whose every table,
    marts included, holds the same rows with the same floating-point values."""
    first = marts_warehouse
    other = run_subprocess("run", *MARTS_ARGS, "--out", "b", cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    second = tmp_path / "b"
    files = sorted(p.relative_to(first) for p in first.rglob("*.parquet"))
    assert len(files) > 40 and any("term_week=" in str(f) for f in files)
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.parquet"))
    differing = [str(f) for f in files if (first / f).read_bytes() != (second / f).read_bytes()]
    assert differing == [], f"{len(differing)} Parquet files differ in bytes: {differing[:5]}"
    digests = _mart_digests(first)
    assert any(name.startswith("mart_taskforce.") for name in digests)
    other_digests = _mart_digests(second)
    assert [n for n in digests if digests[n] != other_digests.get(n)] == []
