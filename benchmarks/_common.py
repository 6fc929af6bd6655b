"""Helpers shared by the benchmark scripts: result files, machine facts, table printing."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - the /proc fallback
    psutil = None

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ROOT = HERE.parent
CLI = ROOT / ".venv" / "bin" / "campus-synth"
PAGE = os.sysconf("SC_PAGE_SIZE")


def machine() -> dict:
    """What the figures were measured on."""
    facts = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/meminfo") as handle:
            total_kb = int(handle.readline().split()[1])
        facts["memory_gb"] = round(total_kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    for module in ("apache_beam", "pyarrow", "numpy", "duckdb"):
        with contextlib.suppress(ImportError):
            facts[module] = __import__(module).__version__
    return facts


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def table(headers: list[str], rows: list[list], title: str | None = None) -> str:
    """A plain fixed-width text table (first column left-aligned, the rest right-aligned)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.ljust(widths[0]) if i == 0 else v.rjust(widths[i])
                         for i, v in enumerate(values))

    out = [title] if title else []
    out += [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def flush_print(*args) -> None:
    print(*args, flush=True)
    sys.stdout.flush()


# ---- process-tree memory ----------------------------------------------------------------------
def tree_rss(pid: int) -> tuple[int, int, int]:
    """(RSS of pid and all descendants, RSS of pid alone, number of processes), in bytes."""
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            return 0, 0, 0
        total = main = 0
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            total += rss
            if proc.pid == pid:
                main = rss
        return total, main, len(procs)
    return _proc_tree_rss(pid)


def _proc_tree_rss(pid: int) -> tuple[int, int, int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total = main = count = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                rss = int(handle.read().split()[1]) * PAGE
        except OSError:
            continue
        total += rss
        count += 1
        if current == pid:
            main = rss
        todo += children.get(current, [])
    return total, main, count


def measure(command: list[str], log: Path, interval: float = 0.2,
            accept: tuple[int, ...] = (0,)) -> tuple[float, float, int, str]:
    """(wall seconds, peak MB of the process tree, exit code, last output line) of one
    command, its RSS summed over the process and its descendants every `interval` s. Its
    output goes to `log` (a pipe left unread would fill up); an exit code outside `accept`
    ends the benchmark with the log's tail."""
    start = time.perf_counter()
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid)[0])
            time.sleep(interval)
    seconds = time.perf_counter() - start
    output = log.read_text().strip()
    if process.returncode not in accept:
        raise SystemExit(f"{' '.join(map(str, command[:3]))} … failed (exit "
                         f"{process.returncode}); see {log}:\n{output[-3000:]}")
    return seconds, peak / 2**20, process.returncode, output.splitlines()[-1] if output else ""
