"""One evaluation from inputs to a Report: open the sides, compute every family of figures,
and judge the whole."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from distributions._evaluate._cardinality import cardinality_figures
from distributions._evaluate._columns import column_figures
from distributions._evaluate._context import Context
from distributions._evaluate._cross import cross_table_figures
from distributions._evaluate._crosscheck import crosscheck_figures
from distributions._evaluate._detection import detection_figures
from distributions._evaluate._events import event_figures
from distributions._evaluate._figures import KINDS, Figure
from distributions._evaluate._gates import gate_figures
from distributions._evaluate._keys import Keys
from distributions._evaluate._pairs import pair_figures
from distributions._evaluate._privacy import manifest_figures, privacy_figures
from distributions._evaluate._profile_ref import profile_column_figures
from distributions._evaluate._sql import Side, open_side
from distributions._profile import load_profile
from pipeline.errors import DistributionsError, EvaluateError


@dataclass
class Report:
    """Every figure of one evaluation, the verdict, notes and the plots' data."""

    figures: list[Figure]
    plots: list[dict]
    notes: list[str]
    meta: dict
    seconds: dict[str, float] = field(default_factory=dict)
    # where the rest of the time went: opening the sides, the shared work inside the
    # families (row counts, digests, samples), the report's writing (`_write.py` adds it)
    timings: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no figure failed (not-applicable figures do not fail)."""
        return all(f.passed is not False for f in self.figures)

    def failed(self) -> list[Figure]:
        """The figures that failed."""
        return [f for f in self.figures if f.passed is False]

    def summary(self) -> dict:
        """Counts of passed, failed and not-applicable figures by kind."""
        out = {}
        for kind in KINDS:
            mine = [f for f in self.figures if f.kind == kind]
            out[kind] = {"passed": sum(f.passed is True for f in mine),
                         "failed": sum(f.passed is False for f in mine),
                         "not_applicable": sum(f.passed is None for f in mine)}
        return out

    def to_json(self) -> dict:
        """report.json's document."""
        return {"passed": self.passed, "summary": self.summary(), **self.meta,
                "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
                "timings": _rounded(self.timings),
                "notes": self.notes, "figures": [f.to_json() for f in self.figures]}


def evaluate(synthetic, real=None, profile: str | None = None,
             keys: Keys | None = None, privacy_manifest: str | None = None,
             detection: bool = True, api_endpoint: str | None = None) -> Report:
    """Compare a synthetic warehouse (a run's folder, its .duckdb file, or
    `bigquery://project.dataset`) with a real source (a .duckdb file, a Parquet/CSV folder,
    or `bigquery://project.dataset`) or, without one, with a profile. Either may also be an
    open profiling source (`distributions._sources.Source`). `keys` are the tables' keys
    (inferred from UDP's naming rule where absent); `api_endpoint` is another BigQuery API
    (an emulator) for bigquery:// sides."""
    if (real is None) == (profile is None):
        raise EvaluateError("evaluate needs either a real source or a profile (not both)")
    sides: list[Side] = []
    start = time.perf_counter()
    try:
        sides.append(open_side("synthetic", synthetic, api_endpoint))
        if real is not None:
            sides.append(open_side("real", real, api_endpoint))
        syn, real_side = sides[0], (sides[1] if real is not None else None)
        document = load_profile(profile) if profile else None
        tables = dict(syn.columns) | (real_side.columns if real_side else {})
        ctx = Context(syn, real_side, (keys or Keys()).restricted(tables), document)
        opened = time.perf_counter() - start
        report = _compute(ctx, syn.label, real_side.label if real_side else None, profile,
                          privacy_manifest, detection)
        report.timings = {"open": opened, **report.timings,
                          "shared": {side.name: dict(side.spent) for side in sides},
                          "evaluate": time.perf_counter() - start}
        return report
    finally:
        for side in sides:
            side.close()


def _compute(ctx: Context, synthetic: str, real: str | None, profile: str | None,
             manifest: str | None, detection: bool) -> Report:
    seconds: dict[str, float] = {}
    families = [("gates", gate_figures), ("cardinality", cardinality_figures),
                ("events", event_figures)]
    if ctx.real is not None:
        families[1:1] = [("columns", column_figures), ("pairs", pair_figures),
                         ("cross_table", cross_table_figures)]
        families.append(("privacy", privacy_figures))
        families.append(("sdmetrics", crosscheck_figures))
        if detection:
            families.append(("detection", detection_figures))
    else:
        families.insert(1, ("columns", profile_column_figures))
    start = time.perf_counter()  # the manifest first: a broken one is said before any figure
    manifest_path = _manifest_path(profile, manifest)
    from_manifest = manifest_figures(manifest_path) if manifest_path is not None else []
    seconds_manifest = time.perf_counter() - start
    figures: list[Figure] = []
    cpu: dict[str, float] = {}  # the process's CPU seconds (DuckDB's threads too): on a
    for name, family in families:  # shared machine, wall time follows the others' load
        start, used = time.perf_counter(), time.process_time()
        figures += _family(ctx, name, family)
        seconds[name] = time.perf_counter() - start
        cpu[name] = time.process_time() - used
    figures += from_manifest
    timings = {"families": sum(seconds.values()), "families_cpu": cpu,
               "manifest": seconds_manifest}
    meta = {"synthetic": synthetic, "reference": "real" if real else "profile",
            "real": real, "profile": profile,
            "privacy_manifest": str(manifest_path) if manifest_path else None,
            "tables": {"synthetic": ctx.synthetic.rows_in,
                       "real": ctx.real.rows_in if ctx.real else None}}
    return Report(figures, ctx.plots, ctx.notes, meta, seconds, timings)


_FAMILY_KIND = {"gates": "gate", "columns": "column", "pairs": "pair", "cardinality":
                "cardinality", "cross_table": "cross_table", "events": "event",
                "privacy": "privacy", "detection": "detection", "sdmetrics": "column"}


def _family(ctx: Context, name: str, family) -> list[Figure]:
    """One family's figures; a source it cannot read (a column of an unexpected type, a
    record without a field) costs that family only: one n/a figure and a note name it."""
    try:
        return family(ctx)
    except DistributionsError as error:
        first = str(error).strip().splitlines()[0]
        ctx.notes.append(f"{name}: not computed: {first}")
        return [Figure(_FAMILY_KIND[name], None, name, None,
                       note=f"not computed: {first}")]


def _manifest_path(profile: str | None, given: str | None) -> Path | None:
    """The privacy manifest: the one named, else `<profile>.privacy.json` beside it."""
    if given:
        path = Path(given)
        if not path.is_file():
            raise EvaluateError(f"{given}: {_not_a_manifest(path)}")
        return path
    if profile:
        beside = Path(profile).with_name(Path(profile).stem + ".privacy.json")
        if beside.is_file():
            return beside
    return None


def _not_a_manifest(path: Path) -> str:
    """What `path`, which is no regular file, is instead (a device such as /dev/zero is
    there, but no privacy manifest: saying "no such" would send the user looking for it)."""
    if path.is_dir():
        return "a folder, not a privacy manifest file"
    if path.exists():
        return "not a regular file (a device, pipe or socket), not a privacy manifest"
    if path.is_symlink():
        return "a symbolic link that leads nowhere, not a privacy manifest"
    return "no such privacy manifest"


def _rounded(value):
    """Seconds to the hundredth, in nested timings."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 2)


def load_report(path: str | Path) -> dict:
    """A written report.json."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
