"""What a scenario costs: `campus-synth generate` with a scenario of five derived columns on
the largest context table (learner_activity_result: a family, three expressions, one of them
reading a parent row) against the same run without it.

    .venv/bin/python benchmarks/scenarios.py [--fte 2000] [--event-days 7] [--repeat 2]

Runs alternate (baseline, scenario, baseline, …) so that a busy machine slows both alike; the
best generate-stage time of each is compared (the CLI prints it: "generate N s"). Outputs go
to a temporary folder deleted afterwards; figures to stdout and
benchmarks/results/scenarios.json.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine, table, write_results  # noqa: E402

CLI = ROOT / ".venv" / "bin" / "campus-synth"
SCENARIO = """name: five_columns
columns:
  learner_activity_result:
    noise: {family: Normal, mean: 0, sd: 1}
    doubled: {expression: 2 * noise + 1}
    big_only: {expression: "where(learner_activity.points_possible > 10, doubled, 0)"}
    logged: {expression: log(1 + abs(doubled))}
    total: {expression: big_only + logged}
"""


def generate_seconds(out: Path, args: list[str]) -> float:
    """The generate stage's time of one `campus-synth generate` (from its report line)."""
    done = subprocess.run([str(CLI), "generate", "--out", str(out), *args], check=True,
                          capture_output=True, text=True)
    found = re.search(r"generate ([0-9.]+) s", " ".join(done.stdout.split()))
    if not found:
        raise SystemExit(f"no generate time in the output:\n{done.stdout[-2000:]}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=float, default=2000)
    parser.add_argument("--event-days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()
    common = ["--fte", str(options.fte), "--terms", "1", "--event-days",
              str(options.event_days)]
    times: dict[str, list[float]] = {"baseline": [], "five derived columns": []}
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "five_columns.yaml"
        scenario.write_text(SCENARIO)
        for i in range(options.repeat):
            times["baseline"].append(generate_seconds(Path(tmp) / f"b{i}", common))
            times["five derived columns"].append(generate_seconds(
                Path(tmp) / f"s{i}", [*common, "--scenario", str(scenario)]))
    best = {name: min(values) for name, values in times.items()}
    ratio = best["five derived columns"] / best["baseline"]
    print(table(["run", "best generate s", "all runs s"],
                [[name, f"{best[name]:.1f}", ", ".join(f"{t:.1f}" for t in values)]
                 for name, values in times.items()],
                title=f"generate at {options.fte:g} FTE, {options.event_days} event days"))
    print(f"scenario / baseline: {ratio:.3f} ({100 * (ratio - 1):+.1f} %)")
    write_results("scenarios", {"machine": machine(), "fte": options.fte,
                                "event_days": options.event_days, "times": times,
                                "best": best, "ratio": ratio})


if __name__ == "__main__":
    main()
