"""What a scenario costs: `campus-synth generate` with a scenario of five derived columns on
the largest context table (learner_activity_result: a family, three expressions, one of them
reading a parent row) against the same run without it.

    .venv/bin/python benchmarks/scenarios.py [--fte 2000] [--event-days 7] [--repeat 3]

Runs are interleaved in pairs whose order alternates (baseline then scenario, scenario then
baseline, …), so that a busy machine's drift slows both alike. Two figures of each run: the
generate stage's wall time (the CLI prints it: "generate N s") and the CPU seconds of the
whole command (which another job's load inflates much less); the medians are compared, and
each pair.
Outputs go to a temporary folder deleted afterwards; figures to stdout and
benchmarks/results/scenarios.json.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, machine, table, write_results  # noqa: E402

from distributions import default_profile_path  # noqa: E402
from distributions._scenario import load_scenario  # noqa: E402
from distributions._scenario_reach import catalog  # noqa: E402
from pipeline.cli._scenario_out import with_scenario  # noqa: E402
from pipeline.cli._settings import resolve  # noqa: E402
from pipeline.generate._beam import JobConfig, engine_for, parquet_options  # noqa: E402
from pipeline.generate._plan import blocks  # noqa: E402
from pipeline.udp._registry import REGISTRY  # noqa: E402

CLI = ROOT / ".venv" / "bin" / "campus-synth"
TABLE = "learner_activity_result"
SCENARIO = """name: five_columns
columns:
  learner_activity_result:
    noise: {family: Normal, mean: 0, sd: 1}
    doubled: {expression: 2 * noise + 1}
    big_only: {expression: "where(learner_activity.points_possible > 10, doubled, 0)"}
    logged: {expression: log(1 + abs(doubled))}
    total: {expression: big_only + logged}
"""


def generate_seconds(out: Path, args: list[str]) -> tuple[float, float]:
    """The generate stage's wall time of one `campus-synth generate` (from its report line)
    and the CPU seconds (user + system) of the whole command: on a machine shared with other
    jobs, the wall time follows their load; the CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([str(CLI), "generate", "--out", str(out), *args], check=True,
                          capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out, ignore_errors=True)  # 20,000 FTE runs are GBs each
    found = re.search(r"generate ([0-9.]+) s", " ".join(done.stdout.split()))
    if not found:
        raise SystemExit(f"no generate time in the output:\n{done.stdout[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(found.group(1)), cpu


def block_cpu(fte: float, event_days: int, scenario: Path, sample: int) -> dict:
    """In-process CPU seconds of `sample` learner_activity_result blocks (with their
    companion blocks, written as the job writes them, into memory), without and with the
    scenario, alternating: the five columns' own cost, which other jobs' load hides in the
    wall times. Scaled to the table's blocks, it is the scenario's extra CPU per run."""
    profile = json.loads(default_profile_path().read_text())
    settings = resolve(profile, {"fte": fte, "terms": 1, "event_days": event_days}, [],
                       command="generate").settings
    engines = {}
    for name, overlaid in (("baseline", profile), ("five derived columns", with_scenario(
            profile, load_scenario(scenario, catalog(REGISTRY))))):
        engines[name] = engine_for(JobConfig(overlaid, settings))  # one per config
    cut = blocks(engines["baseline"], TABLE, settings.block_rows)
    picked = cut[::max(1, len(cut) // sample)][:sample]
    used = {name: 0.0 for name in engines}
    for i, block in enumerate(picked):
        for name in (list(engines) if i % 2 == 0 else list(engines)[::-1]):
            used[name] += _block_seconds(engines[name], block)
    extra = (used["five derived columns"] - used["baseline"]) / len(picked)
    return {"blocks": len(cut), "sampled": len(picked), "cpu_s": used,
            "extra_per_block_s": extra, "extra_per_run_s": extra * len(cut)}


def _block_seconds(engine, block) -> float:
    start = time.process_time()
    for batch in engine.block(block.table, block.start, block.stop,
                              block.companions).values():
        pq.write_table(pa.Table.from_batches([batch]), io.BytesIO(), **parquet_options(batch))
    return time.process_time() - start


def _ratios(times: dict[str, list[float]]) -> tuple[float, list[float]]:
    """scenario / baseline of the medians, and of each pair."""
    base, scen = times["baseline"], times["five derived columns"]
    pairs = [s / b for b, s in zip(base, scen, strict=True)]
    return statistics.median(scen) / statistics.median(base), pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fte", type=float, default=2000)
    parser.add_argument("--event-days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=12,
                        help="result blocks timed in process (default 12)")
    options = parser.parse_args()
    common = ["--fte", str(options.fte), "--terms", "1", "--event-days",
              str(options.event_days)]
    names = ("baseline", "five derived columns")
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "five_columns.yaml"
        scenario.write_text(SCENARIO)
        runs = {names[0]: common, names[1]: [*common, "--scenario", str(scenario)]}
        for i in range(options.repeat):
            for name in (names if i % 2 == 0 else names[::-1]):
                seconds, used = generate_seconds(Path(tmp) / f"{i}-{name[0]}", runs[name])
                wall[name].append(seconds)
                cpu[name].append(used)
        in_process = block_cpu(options.fte, options.event_days, scenario, options.sample)
    results = {"machine": machine(), "fte": options.fte, "event_days": options.event_days,
               "wall": wall, "cpu": cpu, "in_process": in_process}
    for label, times in (("generate-stage wall s", wall), ("command CPU s", cpu)):
        results[label] = _report_runs(label, times, options)
    _report_in_process(in_process, statistics.median(cpu["baseline"]))
    write_results("scenarios", results)


def _report_runs(label: str, times: dict[str, list[float]], options) -> dict:
    ratio, pairs = _ratios(times)
    print(table(["run", f"median {label}", "all runs (in order)"],
                [[n, f"{statistics.median(v):.1f}", ", ".join(f"{t:.1f}" for t in v)]
                 for n, v in times.items()],
                title=f"{label} at {options.fte:g} FTE, 1 term, {options.event_days} "
                      f"event days"))
    print(f"scenario / baseline: {ratio:.3f} ({100 * (ratio - 1):+.1f} %) of the medians; "
          f"pairs {', '.join(f'{r:.3f}' for r in pairs)}\n")
    return {"ratio": ratio, "pair_ratios": pairs}


def _report_in_process(found: dict, baseline_cpu: float) -> None:
    print(f"in-process, {found['sampled']} of {found['blocks']} {TABLE} blocks: "
          f"{found['cpu_s']['baseline']:.2f} s CPU without, "
          f"{found['cpu_s']['five derived columns']:.2f} s with the scenario; extra "
          f"{found['extra_per_block_s']:.3f} s per block, {found['extra_per_run_s']:.1f} s per "
          f"run = {100 * found['extra_per_run_s'] / baseline_cpu:.1f} % of the baseline "
          f"command's median CPU ({baseline_cpu:.0f} s)")


if __name__ == "__main__":
    main()
