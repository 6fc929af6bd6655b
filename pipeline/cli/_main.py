"""`campus-synth`: the command line.

Exit codes (the error classes behind them, drawn as a tree: pipeline/errors.py):
0 done; 1 a stage failed for a reason outside the input (a full disk, a publish step);
2 a user error (bad flag, impossible size, invalid profile or source, unusable or busy
output folder); each reported as one message without a traceback; 130 interrupted (Ctrl-C;
143 for SIGTERM), with the run's staging folder removed.

Each command lives in a module of its own, named in COMMANDS and imported when the command is
dispatched (as console scripts name theirs, `module:function`): `--version`, `--help` and a
usage error cost the parser alone, and `clean` does not load Beam, dbt, scipy and
scikit-learn first. The modules named there stand above this one; tests/test_layout.py draws
these names as imports, so the layering and circle checks cover them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from rich.console import Console

from pipeline.cli._faults import guarded
from pipeline.cli._parser import UsageError, command_parser
from pipeline.errors import CampusSynthError, shorten

USER_ERROR = 2
NAME_MAX, PATH_MAX = 255, 4096  # Linux's limits (a file system may say its own NAME_MAX)
# command → `module:function` running it, called with (args, console), and for the commands
# that run a Beam job (BEAM_COMMANDS) also with the options left for Beam
COMMANDS = {
    "run": "pipeline.cli._cmd_run:run",
    "generate": "pipeline.cli._cmd_generate:generate",
    "publish": "pipeline.cli._cmd_publish:publish_command",
    "profile": "pipeline.cli._cmd_profile:profile",
    "export-distributions": "pipeline.cli._cmd_profile:export_distributions",
    "evaluate": "pipeline.cli._cmd_evaluate:evaluate",
    "build": "pipeline.cli._cmd_warehouse:build_marts",
    "caliper": "pipeline.cli._cmd_warehouse:caliper",
    "clean": "pipeline.cli._cmd_warehouse:clean_out",
    "relink": "pipeline.cli._cmd_warehouse:relink",
}
BEAM_COMMANDS = ("run", "generate")
_PATH_FLAGS = ("profile", "out", "source", "scenario", "synthetic", "real", "keyfile",
               "privacy_manifest", "merge")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `campus-synth` console script."""
    console, errors = Console(), Console(stderr=True)
    try:
        args, beam_args = command_parser().parse_known_args(argv)
        _refuse_empty_paths(args)
        return _dispatch(args, beam_args, console)
    except (UsageError, CampusSynthError) as error:
        errors.print(f"campus-synth: error: {_bounded(str(error))}", markup=False,
                     highlight=False, soft_wrap=True)
        return getattr(error, "exit_code", USER_ERROR)
    except BrokenPipeError:
        # the reader closed the pipe (`campus-synth caliper | head`): stop quietly, as cat
        # does, and point stdout at /dev/null so the exit's final flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt as error:
        errors.print("campus-synth: interrupted", markup=False, highlight=False)
        return getattr(error, "exit_code", 130)


def command_function(name: str):
    """The function that runs command `name` (its module imported now)."""
    module, _, function = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def _dispatch(args: argparse.Namespace, beam_args: list[str], console: Console) -> int:
    if args.command in BEAM_COMMANDS:
        return command_function(args.command)(args, console, beam_args)
    if beam_args:  # refused before the command's stack is imported
        raise UsageError(f"unrecognized arguments: {' '.join(beam_args)}")
    function = command_function(args.command)
    with guarded(str(getattr(args, "out", ""))):  # Ctrl-C → 130 here too
        return function(args, console)


def _refuse_empty_paths(args: argparse.Namespace) -> None:
    """A path flag given as "" would silently mean the default (or the current folder), and
    one with a name longer than the file system takes fails in the first os.stat; a
    counting flag out of range is refused before any work (publish's --retain after a whole
    `run --target bigquery` job, caliper's --limit after reading the events)."""
    for name in _PATH_FLAGS:
        values = getattr(args, name, None)
        for value in values if isinstance(values, list) else [values]:
            if value is not None and not str(value).strip():
                raise UsageError(f"--{name.replace('_', '-')} is empty: give a path")
            if value is not None and "://" not in str(value) and _too_long(str(value)):
                raise UsageError(f"--{name.replace('_', '-')} {shorten(str(value), 60)}: "
                                 f"{_too_long(str(value))}")
    for name, least in (("retain", 1), ("limit", 1)):
        if getattr(args, name, None) is not None and getattr(args, name) < least:
            raise UsageError(f"--{name} must be at least {least}, not {getattr(args, name)}")
    out = Path(str(getattr(args, "out", "") or ""))
    if out.is_symlink() and not out.exists():  # the whole job would run, then fail to move
        raise UsageError(f"--out {out}: a symbolic link that leads nowhere (or to itself)")


def _too_long(path: str) -> str | None:
    """What makes `path` longer than the file system takes (os.stat would raise "File name
    too long" from deep inside a command, a traceback), or None."""
    if len(os.fsencode(path)) >= PATH_MAX:
        return f"the path is {len(os.fsencode(path)):,} bytes long; at most {PATH_MAX - 1:,}"
    parent = Path(os.path.abspath(path))
    while not os.path.exists(parent) and parent != parent.parent:  # (Path.exists raises)
        parent = parent.parent
    try:
        limit = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = NAME_MAX
    for part in Path(path).parts:
        if len(os.fsencode(part)) > limit:
            return (f"the name {shorten(part, 40)!r} is {len(os.fsencode(part)):,} bytes "
                    f"long; a file or folder name holds at most {limit}")
    return None


def _bounded(message: str, width: int = 400, lines: int = 25) -> str:
    """A message of at most `lines` lines of `width` characters: an engine's error may quote
    a whole value or query, and a user should never get a screenful for one problem."""
    kept = [line if len(line) <= width else line[:width - 1] + "…"
            for line in message.split("\n")[:lines]]
    return "\n".join(kept)
