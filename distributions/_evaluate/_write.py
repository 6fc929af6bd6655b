"""Write a report: DIR/report.json and DIR/report.html, each staged in DIR under a hidden
temporary name and renamed into place, so a reader never sees half a report."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from distributions._evaluate._html import render
from distributions._evaluate._run import Report
from pipeline.errors import EvaluateError

JSON_NAME, HTML_NAME = "report.json", "report.html"


def write_report(report: Report, out: str | Path) -> tuple[Path, Path]:
    """Write report.json and report.html into the folder `out` (created if missing)."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise EvaluateError(f"{out}: not a folder (the report goes into a folder)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EvaluateError(f"{out}: cannot create the report folder: {error}") from None
    start = time.perf_counter()
    page = render(report.to_json(), report.plots)
    report.timings["html"] = time.perf_counter() - start
    texts = {JSON_NAME: _timed_json(report), HTML_NAME: page}
    staged = {name: _stage(folder, name, text) for name, text in texts.items()}
    try:
        for name, temp in staged.items():
            os.replace(temp, folder / name)
    finally:
        for temp in staged.values():
            Path(temp).unlink(missing_ok=True)
    return folder / JSON_NAME, folder / HTML_NAME


def _timed_json(report: Report) -> str:
    """report.json's text, holding the time its own making took (timed on a first dump:
    the second, with that figure in it, costs the same few milliseconds)."""
    start = time.perf_counter()
    json.dumps(report.to_json(), indent=1, ensure_ascii=False)
    report.timings["json"] = time.perf_counter() - start
    return json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n"


def _stage(folder: Path, name: str, text: str) -> str:
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)  # mkstemp makes it private; a report is for reading
    return temp
