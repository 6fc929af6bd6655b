"""Running `campus-synth run` on bad input in-process, and what every refusal leaves: the
error prefix, and no output folder nor staging folder. Used by tests/test_bad_input*.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

from distributions import default_profile_path
from pipeline.cli import main

PREFIX = "campus-synth: error:"


def _default() -> dict:
    return json.loads(default_profile_path().read_text())


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _run(tmp_path: Path, capsys, args: list[str]) -> tuple[int, str, str]:
    code = main(["run", "--fte", "300", "--event-days", "3", "--out", str(tmp_path / "w"), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_nothing_left(tmp_path: Path):
    assert not (tmp_path / "w").exists(), "an output folder was created"
    staged = [p.name for p in tmp_path.iterdir() if p.name.startswith(".w.")]
    assert staged == [], f"staging folders left behind: {staged}"
