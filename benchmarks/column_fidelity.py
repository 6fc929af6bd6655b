"""Per-column fidelity of profile → run on the real-like source (benchmarks/_real_like.py).

Builds the hand-built real-like source at a chosen size, then runs `campus-synth profile`,
`run` (no events, no marts) and `evaluate --real` on it, and prints every compared column's
TVD (1 − the report's `1-tvd`; numbers binned at the source's deciles) and KS, the columns over
the issue-11 thresholds (categorical TVD 0.03, numeric KS 0.05), the means and the worst ten;
then, for a source with the extra columns, each planted pair and each person-level link
(person column × the person's mean score, and over their enrollments × the outcome label and
withdrawal: tests/dependency_metrics.py) on the source and the generated warehouse.

    .venv/bin/python benchmarks/column_fidelity.py [--students 3000] [--tmp DIR]
                                                   [--shape NAME (a tests/handbuilt.py source)]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import table, write_results  # noqa: E402
from _real_like import SHAPE  # noqa: E402
from dependency_metrics import PERSON_LINKS, PLANTED, planted  # noqa: E402
from handbuilt import SHAPES, institution, write_duckdb  # noqa: E402

from pipeline.cli import main  # noqa: E402

TVD_MAX, KS_MAX = 0.03, 0.05


def column_distances(report: dict) -> dict[tuple[str, str], dict[str, float]]:
    """{(table, column): {"tvd": .., "ks": ..}} from an evaluate report's column figures."""
    out: dict = {}
    for figure in report["figures"]:
        if figure["kind"] != "column" or figure.get("column") is None or \
                figure["value"] is None:
            continue
        slot = out.setdefault((figure["table"], figure["column"]), {})
        if figure["metric"] == "1-tvd":
            slot["tvd"] = round(1 - figure["value"], 4)
        elif figure["metric"] == "ks":
            slot["ks"] = round(figure["value"], 4)
    return out


def over_threshold(distances: dict) -> list[tuple[str, str, str, float]]:
    """(table, column, metric, value) of every column over its threshold, worst first:
    KS for numbers and dates, TVD for categories."""
    over = []
    for (t, c), d in distances.items():
        metric, limit = ("ks", KS_MAX) if "ks" in d else ("tvd", TVD_MAX)
        if d[metric] > limit:
            over.append((t, c, metric, d[metric]))
    return sorted(over, key=lambda item: -item[3])


def summary(distances: dict) -> dict:
    """Mean TVD over categorical columns, mean KS over numeric ones, and the worst ten."""
    tvds = [d["tvd"] for d in distances.values() if "ks" not in d]
    kss = [d["ks"] for d in distances.values() if "ks" in d]
    return {"columns": len(distances), "mean_tvd": round(sum(tvds) / max(len(tvds), 1), 4),
            "mean_ks": round(sum(kss) / max(len(kss), 1), 4),
            "over": [list(o) for o in over_threshold(distances)]}


def run(folder: Path, students: int, shape: str | None = None) -> tuple[dict, list]:
    """Source (the real-like one of `students`, or hand-built `shape` as the tests build it),
    profile, run and evaluate in `folder`; the per-column distances and the links (pair,
    source, generated) of a source with extra columns (else none)."""
    built = SHAPES[shape] if shape else replace(SHAPE, students=students)
    source = write_duckdb(folder / "source.duckdb", institution(built))
    profile, out, report = folder / "profile.json", folder / "w", folder / "eval"
    steps = [["profile", "--source", str(source), "--out", str(profile)],
             ["run", "--profile", str(profile), "--out", str(out), "--event-scale", "0",
              "--no-marts", "--no-evaluate"],
             ["evaluate", "--real", str(source), "--synthetic", str(out), "--out", str(report),
              "--no-detection"]]
    for step in steps:
        code = main(step)
        if code not in (0, 1):  # evaluate exits 1 when a figure fails: still a report
            raise SystemExit(f"campus-synth {step[0]} exited {code}")
    pairs = list(dict.fromkeys(PLANTED["extra_columns"] + PERSON_LINKS))  # each pair once
    links = planted(str(source), str(out / "warehouse.duckdb"), "extra_columns", pairs) \
        if built.extra_columns else []
    return column_distances(json.loads((report / "report.json").read_text())), links


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--tmp", type=Path, default=None)
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as scratch:
        distances, links = run(Path(scratch), args.students, args.shape)
    rows = [[f"{t}.{c}", d.get("tvd"), d.get("ks")] for (t, c), d in sorted(distances.items())]
    print(table(["column", "TVD", "KS"], rows, "per-column distance, source vs generated"))
    result = summary(distances)
    print(f"\nmean TVD {result['mean_tvd']}, mean KS {result['mean_ks']} over "
          f"{result['columns']} columns; over threshold (worst first):")
    for t, c, metric, value in result["over"][:10]:
        print(f"  {t}.{c}: {metric} {value}")
    if links:
        print(table(["pair", "source", "generated", "difference"],
                    [[p, _r(w), _r(g), _r(None if w is None or g is None else g - w)]
                     for p, w, g in links], "\nplanted pairs and person-level links"))
    write_results("column_fidelity", {"students": args.students, "shape": args.shape, **result,
                                      "distances": {f"{t}.{c}": d
                                                    for (t, c), d in distances.items()},
                                      "links": [list(link) for link in links]})


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


if __name__ == "__main__":
    main_cli()
