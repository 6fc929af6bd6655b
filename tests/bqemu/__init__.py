"""A BigQuery API on loopback for the tests: bqemulator, run from its own venv `.venv-bqemu`.

bqemulator needs a pyarrow above Apache Beam's cap, so it is installed apart from the project
(`.ci/run` creates `.venv-bqemu` from `tests/bqemu/requirements.txt`) and started as a
subprocess through `launcher.py`, which keeps it offline. Tests use the session fixture, which
tests/conftest.py imports (one emulator for the whole session; a test module that imported
the fixture itself would get an emulator of its own, kept running until the session ends):

    def test_something(bigquery_emulator):
        client = bigquery_emulator        # a real google.cloud.bigquery.Client

Without `.venv-bqemu` those tests are skipped with the command that creates it, except in CI
(CI=true), where they fail: a broken install must not hide behind a skip.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve().with_name("launcher.py")
VENV = ROOT / ".venv-bqemu"
PROJECT = "test-project"
START_TIMEOUT = 60.0          # seconds until the API must answer
STOP_TIMEOUT = 10.0
SETUP_HINT = "bash tests/bqemu/setup.sh"


def emulator_python() -> Path:
    return VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/bigquery/v2/projects/{PROJECT}/datasets"
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()                    # SIGTERM: bqemulator shuts down cleanly
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def running_emulator(log_dir: Path, attempts: int = 3) -> Iterator[int]:
    """Start the launcher on a free loopback port; yield the port once the REST API answers;
    stop the process afterwards. Raises RuntimeError (with the log's tail) when it cannot."""
    python = emulator_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BQEMU_", "OTEL_"))}
    env["PYTHONUNBUFFERED"] = "1"
    problem = ""
    for attempt in range(1, attempts + 1):
        port = free_port()
        log = Path(log_dir) / f"bqemulator-{attempt}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [str(python), str(LAUNCHER), "--port", str(port), "--project", PROJECT],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    break
                if _answers(port):
                    break
                time.sleep(0.1)
            if process.poll() is None and _answers(port):
                yield port
                return
            if process.poll() is None:
                problem = (f"bqemulator did not answer on 127.0.0.1:{port} within "
                           f"{START_TIMEOUT:.0f} s")
                break                              # hanging, not a port race: do not retry
            # exited early: possibly another process took the port in between; try again
            problem = f"bqemulator exited with code {process.returncode} on port {port}"
        finally:
            _stop(process)
    raise RuntimeError(f"{problem}; log {log}:\n{_tail(log)}")


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: failing instead of skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory):
    """A google.cloud.bigquery.Client talking to bqemulator on 127.0.0.1 (anonymous)."""
    if not emulator_python().exists():
        unavailable(f"the BigQuery emulator venv {VENV} does not exist; create it with: "
                    f"{SETUP_HINT}")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    log_dir = tmp_path_factory.mktemp("bqemulator")
    try:
        context = running_emulator(log_dir)
        port = context.__enter__()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        client = bigquery.Client(
            project=PROJECT, credentials=AnonymousCredentials(),
            client_options={"api_endpoint": f"http://127.0.0.1:{port}"})
        yield client
        client.close()
    finally:
        context.__exit__(None, None, None)
