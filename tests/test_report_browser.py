"""report.html in a real headless Chromium (Debian's `chromium`, installed by tests/setup.sh),
driven over the DevTools protocol: the page loads from a file with no network, logs no
console error and throws no exception, shows the summary table and draws its plots. A
screenshot is kept in test-artifacts/ (ignored by git)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
from test_evaluate import draw, plant
from websockets.sync.client import connect

from distributions._evaluate import evaluate
from distributions._evaluate._write import write_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1400,1800"]
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    real, run = root / "real", root / "run"
    real.mkdir()
    run.mkdir()
    for name, frame in draw(1).items():
        frame.to_parquet(real / f"{name}.parquet", index=False)
    with duckdb.connect(str(run / "warehouse.duckdb")) as con:
        for name, frame in plant(draw(2), 3).items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    report = evaluate(str(run), real=str(real))
    return write_report(report, root / "report")[1]


class DevTools:
    """A page of a headless Chromium, over the DevTools protocol (flattened sessions)."""

    def __init__(self, profile: Path):
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} is missing: run tests/setup.sh (apt-get install chromium)")
        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                                         "about:blank"], stderr=subprocess.PIPE, text=True)
        self.socket = connect(self._endpoint(), max_size=None, open_timeout=TIMEOUT)
        self.next_id, self.events = 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _endpoint(self) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            if found:
                return found.group(1)
        raise TimeoutError("Chromium did not open its DevTools endpoint")

    def call(self, method: str, session: bool = False, **params) -> dict:
        """Send a command and wait for its answer (events that arrive meanwhile are kept)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            answer = json.loads(self.socket.recv(timeout=TIMEOUT))
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, method: str) -> dict:
        """The first event `method` (already received or still to come)."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(json.loads(self.socket.recv(timeout=TIMEOUT)))
        raise TimeoutError(method)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True)
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(params["entry"].get("text", ""))
        return found

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=TIMEOUT)


def test_report_renders_in_chromium(report_html, tmp_path):
    browser = DevTools(tmp_path / "profile")
    try:
        browser.call("Page.navigate", session=True, url=report_html.as_uri())
        browser.wait_for("Page.loadEventFired")
        drawn = 0
        for _ in range(100):  # plotly draws after the load event
            drawn = browser.evaluate("document.querySelectorAll('.js-plotly-plot .main-svg')"
                                     ".length")
            if drawn:
                break
            time.sleep(0.1)
        summary_rows = browser.evaluate("document.querySelectorAll('#summary tr').length")
        verdict = browser.evaluate("document.querySelector('.verdict').textContent")
        failures = browser.evaluate("Array.from(document.querySelectorAll('#summary td'))"
                                    ".filter(td => td.textContent === 'FAIL').length")
        plots = browser.evaluate("document.querySelectorAll('.js-plotly-plot').length")
        shot = browser.call("Page.captureScreenshot", session=True, format="png")
        errors = browser.errors()
    finally:
        browser.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.png").write_bytes(base64.b64decode(shot["data"]))
    assert errors == []
    assert verdict == "FAILED" and failures >= 4
    assert summary_rows > 20
    assert plots >= 10 and drawn >= plots  # every plot drew its SVG
    page = report_html.read_text()
    assert page.count("<script type='text/javascript'>") == 1  # one inlined plotly.js
    assert not re.search(r"<script[^>]*\bsrc=", page)  # nothing fetched
