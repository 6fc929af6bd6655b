"""Configuration, layered once: defaults, then the profile's `settings`, then CLI flags.

`resolve` returns the settings with where each value came from, so a run can print them.
Apache Beam is imported only to check the runner options (`check_beam_args`): `run` resolves
its settings in a process that never loads Beam and checks the options in the child that
runs the job (pipeline/cli/_job_child.py), keeping Beam's ~90 MiB out from under the dbt
build's peak memory (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import importlib
import math
from dataclasses import dataclass, field, fields, replace

from distributions._term_list import MAX_TERMS
from pipeline.errors import SettingsError
from pipeline.udp._settings import Settings

MAX_FTE = 2_000_000
DEFAULT_RUNNER = "FnApiRunner"  # named, so Beam does not try to download a runner binary
# runners Beam knows only by their dotted path, by the name their users know them
RUNNER_PATHS = {"daskrunner": "apache_beam.runners.dask.dask_runner.DaskRunner"}
DASK_RUNNER = RUNNER_PATHS["daskrunner"]
# DaskRunner ignores Reshuffle, so Create's partitions are the tasks the cluster shares out;
# Beam's default packs 128 blocks into one, which leaves the other workers idle
DASK_DEFAULTS = ["--dask_partition_size=1"]
DASK_PARTITION_OPTIONS = ("--dask_partition_size", "--dask_npartitions")


@dataclass
class Resolved:
    """The settings of one run and the source of each value."""

    settings: Settings
    sources: dict[str, str]
    beam_args: list[str] = field(default_factory=list)

    @property
    def runner(self) -> str:
        for i, arg in enumerate(self.beam_args):
            if arg.startswith("--runner="):
                return arg.split("=", 1)[1]
            if arg == "--runner" and i + 1 < len(self.beam_args):
                return self.beam_args[i + 1]
        return DEFAULT_RUNNER


def resolve(profile: dict, flags: dict, beam_args: list[str], command: str = "run",
            check_options: bool = True) -> Resolved:
    """Layer defaults, the profile's settings and the flags that were given (to `command`);
    the Beam options are checked too unless `check_options` is false (then the job's own
    process checks them with `check_beam_args`, and runner aliases are only renamed)."""
    settings, sources = Settings(), {f.name: "default" for f in fields(Settings)}
    for layer, values in (("profile", profile.get("settings", {})), ("flag", flags)):
        given = {k: v for k, v in values.items() if v is not None and k in sources}
        settings = replace(settings, **given)
        sources.update({k: layer for k in given})
    check(settings, sources)
    beam_args = (check_beam_args(beam_args, command) if check_options
                 else _with_runner_paths(beam_args, load=False))
    sources["runner"] = "flag"
    if not any(a == "--runner" or a.startswith("--runner=") for a in beam_args):
        beam_args = [f"--runner={DEFAULT_RUNNER}", *beam_args]
        sources["runner"] = "default"
    resolved = Resolved(settings, sources, beam_args)
    if resolved.runner == DASK_RUNNER and not any(
            a.split("=", 1)[0] in DASK_PARTITION_OPTIONS for a in beam_args):
        resolved.beam_args += DASK_DEFAULTS
    return resolved


def check(settings: Settings, sources: dict[str, str] | None = None) -> None:
    """Refuse sizes and counts that cannot make an institution; the message names the flag,
    or the profile's setting when the value came from the profile."""
    name = _namer(sources or {})
    fte = settings.fte
    if not (isinstance(fte, (int, float)) and math.isfinite(fte) and fte > 0):
        raise SettingsError(f"{name('fte')} must be a positive number of student FTE, "
                            f"not {fte:g}")
    if fte > MAX_FTE:
        raise SettingsError(f"{name('fte')} {fte:g} is larger than campus-synth supports "
                            f"({MAX_FTE:,} FTE)")
    if not 1 <= settings.terms <= MAX_TERMS:
        raise SettingsError(f"{name('terms')} must be between 1 and {MAX_TERMS}, not "
                            f"{settings.terms}")
    if settings.seed < 0:
        raise SettingsError(f"{name('seed')} must be zero or positive, not {settings.seed}")
    if not (math.isfinite(settings.event_scale) and 0 <= settings.event_scale <= 100):
        raise SettingsError(f"{name('event_scale')} must be between 0 and 100, not "
                            f"{settings.event_scale:g}")
    if settings.event_days is not None and not 1 <= settings.event_days <= 400:
        raise SettingsError(f"{name('event_days')} must be between 1 and 400, not "
                            f"{settings.event_days}")
    if not 1_000 <= settings.block_rows <= 5_000_000:
        raise SettingsError(f"{name('block_rows')} must be between 1000 and 5000000, "
                            f"not {settings.block_rows}")


def _namer(sources: dict[str, str]):
    def name(field_name: str) -> str:
        if sources.get(field_name) == "profile":
            return f"the profile's settings.{field_name}"
        return "--" + field_name.replace("_", "-")
    return name


def check_beam_args(args: list[str], command: str = "run") -> list[str]:
    """Keep the options some Beam options class knows; anything else is a user error, and so
    is a runner Beam does not know (one line each, never Beam's usage text). A runner known
    by its dotted path only (`--runner DaskRunner`) is given that path."""
    from apache_beam.options.pipeline_options import PipelineOptions  # see the docstring above

    args = _with_runner_paths(args)
    parser = _quiet_parser()(allow_abbrev=False, add_help=False)
    seen = {}
    for cls in PipelineOptions.__subclasses__():
        seen.setdefault(str(cls), cls)
    for cls in seen.values():
        cls._add_argparse_args(parser)  # the same discovery Beam's own parsing does
    try:
        known, unknown = parser.parse_known_args(args)
    except argparse.ArgumentError as error:
        raise SettingsError(f"invalid runner option: {_short(str(error))}") from None
    if unknown:
        raise SettingsError(f"unknown option {_short(unknown[0])} "
                            f"(see campus-synth {command} --help)")
    if getattr(known, "runner", None) is not None:  # `--runner=` too: not the default
        check_runner(known.runner)
    return list(args)


def _with_runner_paths(args: list[str], load: bool = True) -> list[str]:
    """`args` with a runner alias replaced by its dotted path, and (when `load`) that
    runner's module imported, so that its options (`--dask_client_address`, …) are known
    when parsing."""
    args = list(args)
    for i, arg in enumerate(args):
        name, value = None, None
        if arg.startswith("--runner="):
            name, value = i, arg.split("=", 1)[1]
        elif arg == "--runner" and i + 1 < len(args):
            name, value = i + 1, args[i + 1]
        if value is not None and value.lower() in RUNNER_PATHS:
            value = RUNNER_PATHS[value.lower()]
            args[name] = f"--runner={value}" if name == i else value
        if load and value is not None and "." in value:
            _import_runner(value)
    return args


def _import_runner(path: str) -> None:
    module = path.rpartition(".")[0]
    try:
        importlib.import_module(module)
    except ImportError as error:
        if path == DASK_RUNNER:
            raise SettingsError(f"--runner DaskRunner needs {error.name or module}: "
                                "pip install 'campus-synth[dask]'") from None
        # any other path: check_runner names it as an unknown runner


def check_runner(name: str) -> None:
    """A runner Beam can create: a known name (FnApiRunner, DirectRunner, DataflowRunner, …)
    or the importable dotted path of a PipelineRunner class."""
    from apache_beam.options.pipeline_options import StandardOptions  # see the docstring above

    names = {path.rsplit(".", 1)[-1].lower() for path in StandardOptions.ALL_KNOWN_RUNNERS}
    if name.lower() in names or name.lower() + "runner" in names:
        return
    if "." in name:
        module, _, attribute = name.rpartition(".")
        try:
            if hasattr(importlib.import_module(module), attribute):
                return
        except ImportError:
            pass
    known = ", ".join(StandardOptions.KNOWN_RUNNER_NAMES)
    raise SettingsError(f"unknown --runner {_short(name)!r}; known runners: {known}")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _quiet_parser() -> type:
    """Beam's option parser, but a bad value raises instead of printing Beam's whole usage
    text and exiting (a class made when the options are checked: see the docstring above)."""
    from apache_beam.options.pipeline_options import _BeamArgumentParser

    class QuietParser(_BeamArgumentParser):
        def error(self, message: str):
            raise argparse.ArgumentError(None, message)

    return QuietParser
