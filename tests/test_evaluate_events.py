"""`evaluate --real` of the event store against a source whose events run outside the term.

A converted VLE logs clicks from before the presentation starts; the generator keeps every
event inside its term (DESIGN: events follow the academic calendar), and the profile notes
the source's outside events as ignored. The evaluation compares the day-in-term and week
curves over the days inside the term on both sides and names the real source's outside
events in a note: the curves of a faithful run pass. Built by hand (tests/handbuilt.py's
`events` source, 15 % of its events moved 20 days earlier), profiled, run and evaluated
through the CLI.
"""

from __future__ import annotations

import json

from handbuilt import build, rewrite_column

from pipeline.cli import main


def test_curves_compare_the_days_inside_the_term(tmp_path):
    source = build("events", tmp_path, parquet=True)
    rewrite_column(source / "expanded.parquet", "event_time", "CASE WHEN hash(id) % 100 < 15 "
                   "THEN event_time - INTERVAL 20 DAY ELSE event_time END")
    profile, out, report = tmp_path / "p.json", tmp_path / "w", tmp_path / "e"
    assert main(["profile", "--source", str(source), "--out", str(profile)]) == 0
    assert main(["run", "--profile", str(profile), "--out", str(out), "--no-marts",
                 "--no-evaluate", "--event-days", "14", "--seed", "2"]) == 0
    assert main(["evaluate", "--real", str(source), "--synthetic", str(out), "--out",
                 str(report), "--no-detection"]) == 0
    figures = json.loads((report / "report.json").read_text())
    curves = [f for f in figures["figures"] if f["kind"] == "event"
              and f["metric"] in ("week_curve", "day_curve")]
    assert curves and all(f["passed"] for f in curves), curves
    notes = [n for n in figures["notes"] if "fall outside their term" in n]
    assert len(notes) == 1 and "(1" in notes[0], figures["notes"]
