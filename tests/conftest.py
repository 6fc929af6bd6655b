"""Shared helpers and session-wide generated warehouses for the campus-synth suite.

Every generation goes through the public CLI (`pipeline.cli.main`); a warehouse is generated once
per session and shared by the tests that read it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bqemu import bigquery_emulator  # noqa: F401 (the session fixture, one for all)

from distributions import load_profile
from pipeline import REGISTRY
from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "campus-synth.json"
SMALL_FTE = 800          # the shared DuckDB warehouse of the integrity tests
BIG_FTE = 20_000         # the full-size generation of the proportion tests
# the full-size generations keep the first weeks of events: enough for activity statistics,
# a fraction of a full term's tens of millions of rows
BIG_EVENTS = ("--event-days", 21, "--event-scale", 0.5)
# the small Parquet generation shared by the golden digest, the Dask comparison and the load's
# progress test (each made its own before; the golden digest pins these arguments)
TINY_ARGS = ("--fte", "300", "--terms", "1", "--seed", "11", "--event-days", "3")
# the small warehouse with the marts, shared by the dbt tests and the golden determinism test
# (which runs the same arguments again in another process): a dbt build is most of a small
# run's time, so the suite makes this one once
MARTS_ARGS = ("--fte", "300", "--seed", "0", "--event-scale", "0.2", "--no-evaluate")


# ---- helpers ------------------------------------------------------------------------------
def generate(tmp: Path, *args: str, command: str = "generate", name: str = "w") -> Path:
    """Run `campus-synth <command> --out tmp/name *args` in-process; return the output folder."""
    out = Path(tmp) / name
    code = main([command, "--out", str(out), *map(str, args)])
    assert code == 0, f"campus-synth {command} {' '.join(map(str, args))} exited {code}"
    return out


def profile_and_run(source: Path, folder: Path, *run_args) -> tuple[dict, Path]:
    """`campus-synth profile --source SOURCE --seed 1` into folder/profile.json, then `run`
    from it into folder/w with `run_args` (no marts, no evaluation); the profile and the
    warehouse file."""
    profile = Path(folder) / "profile.json"
    assert main(["profile", "--source", str(source), "--out", str(profile), "--seed", "1"]) == 0
    generate(folder, "--profile", profile, "--no-marts", "--no-evaluate", *run_args,
             command="run")
    return json.loads(profile.read_text()), Path(folder) / "w" / "warehouse.duckdb"


def connect(out: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the DuckDB warehouse of a `run`."""
    return duckdb.connect(str(Path(out) / "warehouse.duckdb"), read_only=True)


def parquet_connection(out: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per generated table (`schema.table`) over the
    Parquet files of a `generate`, so Parquet-only output can be queried like a warehouse."""
    connection = duckdb.connect()
    for schema in sorted({t.schema for t in REGISTRY}):
        connection.execute(f"CREATE SCHEMA {schema}")
    for table in REGISTRY:
        files = part_files(out, table)
        if files:
            listing = "[" + ", ".join(f"'{f}'" for f in files) + "]"
            connection.execute(f"CREATE VIEW {table.qualified_name} AS "
                               f"SELECT * FROM read_parquet({listing})")
    if event_files(out):
        connection.execute("CREATE SCHEMA event_store")
        connection.execute(f"CREATE VIEW event_store.expanded AS SELECT * FROM read_parquet("
                           f"'{out}/event_store/expanded/*/*.parquet', hive_partitioning = false)")
    return connection


def event_files(out: Path) -> list[Path]:
    """The Parquet files of event_store.expanded, in (week of term, block) order."""
    return sorted((Path(out) / "event_store" / "expanded").glob("term_week=*/part-*.parquet"))


def part_files(out: Path, table) -> list[Path]:
    """The Parquet files of a table, in file-name order."""
    return sorted((Path(out) / table.schema / table.name).glob("part-*.parquet"))


def read_table(out: Path, table) -> pa.Table | None:
    """All part files of a table concatenated in file-name order (None when it has none)."""
    files = part_files(out, table)
    if not files:
        return None
    return pa.concat_tables([pq.read_table(f) for f in files])


def manifest(out: Path) -> dict:
    return json.loads((Path(out) / MANIFEST).read_text())


def cli_executable() -> str:
    """The installed `campus-synth` console script of this venv."""
    sibling = Path(sys.executable).with_name("campus-synth")
    if sibling.exists():
        return str(sibling)
    found = shutil.which("campus-synth")
    assert found, "the campus-synth console script is not installed"
    return found


def run_subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run([cli_executable(), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def run_checked(*args, cwd: Path, env: dict | None = None, timeout: int = 600):
    """Run a command (not necessarily ours); a non-zero exit fails with its stderr's end."""
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stderr[-3000:]}"
    return result


# ---- shared fixtures ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel as a release builds it (`python -m build`: sdist, then the wheel from it)."""
    dist = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend (setuptools) of this venv, no download
    run_checked(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT,
                cwd=ROOT)
    (found,) = dist.glob("campus_synth-*.whl")
    return found


@pytest.fixture(scope="session")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel (non-editable) and the locked dependencies, as the
    images in infra/ install it; its bin folder."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    if shutil.which("uv"):  # from uv's cache: seconds
        run_checked("uv", "venv", "--quiet", "--python", sys.executable, venv, cwd=venv.parent)
        run_checked("uv", "pip", "install", "--quiet", "--python", venv / "bin" / "python",
                    "-r", ROOT / "requirements.lock", wheel, cwd=venv.parent)
    else:
        run_checked(sys.executable, "-m", "venv", venv, cwd=venv.parent)
        run_checked(venv / "bin" / "python", "-m", "pip", "install", "--quiet",
                    "-r", ROOT / "requirements.lock", wheel, cwd=venv.parent, timeout=1800)
    return venv / "bin"


@pytest.fixture(scope="session")
def outside(tmp_path_factory) -> tuple[Path, dict]:
    """A working folder outside the source tree, and an environment that cannot reach it.

    The environment lets Python write bytecode: the images' `pip install` compiles the
    installed venv (uv writes no .pyc), and without .pyc each of the ~8 processes the wheel
    and Dataflow tests start there compiled the stack it imports again (~7 CPU s each for
    Beam and dbt, ~3 with the first process's .pyc; PYTHONDONTWRITEBYTECODE is set on the
    machines that run the suite)."""
    folder = tmp_path_factory.mktemp("user")
    assert ROOT not in folder.parents
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CAMPUS_SYNTH_DBT_PROJECT", "VIRTUAL_ENV",
                        "COLUMNS", "LINES", "PYTHONDONTWRITEBYTECODE")}
    return folder, env


@pytest.fixture(scope="session")
def profile() -> dict:
    return load_profile()


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory) -> Path:
    """`campus-synth run --fte 800 --terms 2 --seed 0 --no-marts --no-evaluate`: Parquet +
    DuckDB + manifest, two full terms of events. Its readers (test_integrity, test_events) read
    neither the marts nor the evaluation report, which took two thirds of its time; the marts
    and their dbt tests on whole terms are built in tests/test_dbt.py, run's evaluation is
    tested where it is the subject (test_wheel.py, test_profile_roundtrip.py)."""
    root = tmp_path_factory.mktemp("small")
    return generate(root, "--fte", SMALL_FTE, "--terms", 2, "--seed", 0, "--no-marts",
                    "--no-evaluate", command="run")


@pytest.fixture(scope="session")
def marts_warehouse(tmp_path_factory) -> Path:
    """`campus-synth run` with MARTS_ARGS: generation, load and the marts on two whole terms
    of events (a fifth of the profile's rates), not the evaluation that ends a run. Only read:
    a test that rebuilds or writes into it works on a copy. Made with an empty dbt parse
    cache, as on a new machine: the parse its build reads back is the run's own
    (tests/test_dbt.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CAMPUS_SYNTH_DBT_CACHE", str(tmp_path_factory.mktemp("dbt-cache")))
        return generate(tmp_path_factory.mktemp("marts"), *MARTS_ARGS, command="run")


@pytest.fixture(scope="session")
def tiny_parquet(tmp_path_factory) -> Path:
    """`campus-synth generate` with TINY_ARGS (Parquet only), generated once and only read: a
    test that writes beside it works on a copy."""
    return generate(tmp_path_factory.mktemp("tiny"), *TINY_ARGS)


@pytest.fixture(scope="session")
def big_parquet(tmp_path_factory) -> Path:
    """`campus-synth run --fte 20000 --no-marts --no-evaluate` (three weeks of events at half
    rate), generated once for the slow tests: its Parquet, and its DuckDB file for the round
    trip. No test reads an evaluation report of it."""
    root = tmp_path_factory.mktemp("big")
    return generate(root, "--fte", BIG_FTE, "--seed", 0, "--no-marts", "--no-evaluate",
                    *BIG_EVENTS, command="run")


@pytest.fixture(scope="session")
def big(big_parquet):
    connection = parquet_connection(big_parquet)
    yield connection
    connection.close()
