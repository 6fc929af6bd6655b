"""`campus-synth profile` (a source, or `profile merge` of several profiles) and
`export-distributions`: the profiling stage's commands."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from rich.console import Console

from distributions import default_profile_path, load_profile
from distributions._merge import merge_profiles
from distributions._profile_result import manifest_path_of, write_profile
from distributions._profiler import profile_source
from distributions._udp_distributions import write_udp_distributions
from pipeline.cli._parser import UsageError
from pipeline.errors import ProfileError, SourceError, shorten

# below this the noise scales pass the contract's bounds (1e-6 wrote counts of ~10^10
# sections) or overflow OpenDP's (1e-9)
MIN_EPSILON = 0.001
# above this the noise is below a millionth of a count (nothing is protected), and near
# 1e308 OpenDP's calibration overflows
MAX_EPSILON = 1e6


def profile(args: argparse.Namespace, console: Console) -> int:
    """`campus-synth profile`: write the profile and its privacy manifest, print the notes."""
    _check_profile_flags(args)
    if args.merge[:1] == ["merge"]:
        result = merge_profiles(args.merge[1:])
    elif args.merge or not args.source:
        raise UsageError("profile: give --source SOURCE, or `profile merge A.json B.json "
                          "… --out FILE`")
    else:
        result = profile_source(args.source, k=args.k, epsilon=args.epsilon, seed=args.seed,
                                api_endpoint=args.api_endpoint)
    profile_path, manifest_path = _written(result, args)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    actions = result.manifest["actions"]
    suppressed = sum(1 for a in actions if a["action"] in ("suppressed", "merged"))
    console.print(f"Read {len(result.manifest['tables'])} table(s) from "
                  f"{result.manifest['source']}; {suppressed} small cell(s) suppressed or "
                  f"merged, {len(actions) - suppressed} other privacy action(s).", markup=False)
    console.print(f"Profile: {profile_path}\nPrivacy manifest: {manifest_path}", markup=False)
    return 0


def _written(result, args: argparse.Namespace) -> tuple[Path, Path]:
    """The profile and manifest written; a profile the profiler learned that fails its own
    checks (a value of the source no check caught) is refused naming the source, not the
    file that was never written."""
    try:
        return write_profile(result, args.out)
    except ProfileError as error:
        if args.merge[:1] == ["merge"]:
            raise
        path, text = error.problems[0]
        more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
        raise SourceError(f"{args.source}: the profile learned from it is not valid at "
                          f"{path or '/'}: {shorten(text)}{more}; nothing was written to "
                          f"{args.out}") from None


def _check_profile_flags(args: argparse.Namespace) -> None:
    """`profile`'s flags, before the source is opened or anything is written."""
    if not 1 <= args.k <= 1_000_000:
        raise UsageError(f"--k must be between 1 and 1000000 people, not {args.k}")
    if args.epsilon is not None and not (math.isfinite(args.epsilon) and args.epsilon > 0):
        raise UsageError(f"--epsilon must be a positive finite budget, not {args.epsilon}")
    if args.epsilon is not None and args.epsilon > MAX_EPSILON:
        raise UsageError(f"--epsilon must be at most {MAX_EPSILON:g}, not {args.epsilon:g}: "
                         "a larger budget adds no noise (leave --epsilon out for none)")
    if args.epsilon is not None and args.epsilon < MIN_EPSILON:
        raise UsageError(f"--epsilon must be at least {MIN_EPSILON:g}, not {args.epsilon:g}: "
                         "a smaller budget drowns every count in noise")
    if args.seed < 0:
        raise UsageError(f"--seed must be zero or positive, not {args.seed}")
    inputs = args.merge[1:] if args.merge[:1] == ["merge"] else [args.source or ""]
    _refuse_writing_inputs(args.out, [given for given in inputs if given])
    if args.merge[:1] == ["merge"] and (args.source or args.epsilon is not None):
        raise UsageError("profile merge pools profiles: --source and --epsilon are for "
                         "`profile --source`")
    _check_out(Path(args.out))


def _refuse_writing_inputs(out: str, inputs: list[str]) -> None:
    """Neither the profile nor its privacy manifest may be an input, nor inside a source
    folder: written there, it would replace a table's file (`--out src/person.parquet`) or
    be among the tables the next profiling reads."""
    written = [os.path.realpath(path) for path in (out, manifest_path_of(Path(out)))]
    for given in inputs:  # (os.path.realpath: Path.resolve raises on a symbolic link loop)
        real = os.path.realpath(given)
        if real in written:
            raise UsageError(f"--out {out} is also an input: it would be overwritten")
        if os.path.isdir(real) and any(w.startswith(real + os.sep) for w in written):
            raise UsageError(f"--out {out} is inside the source folder {given}: it would be "
                             "written among (or over) the source's tables; choose a path "
                             "outside it")


def _check_out(out: Path) -> None:
    """`--out` names a file in an existing folder, and neither it nor its privacy manifest
    is a folder: found before the source is read, not when the profile is written (a
    manifest that cannot be replaced would leave the profile written alone)."""
    if out.is_dir():
        raise UsageError(f"--out {out}: a folder; give the profile's file name, such as "
                         f"{out / 'profile.json'}")
    if manifest_path_of(out).is_dir():
        raise UsageError(f"--out {out}: its privacy manifest would replace the folder "
                         f"{manifest_path_of(out)}")
    if not out.parent.is_dir():
        what = "is a file, not a folder" if out.parent.exists() else "does not exist"
        raise UsageError(f"--out {out}: {out.parent} {what}")


def export_distributions(args: argparse.Namespace, console: Console) -> int:
    """`campus-synth export-distributions`: a profile in Unizin's udp_distributions layout."""
    profile_doc = load_profile(args.profile or str(default_profile_path()))
    rows = write_udp_distributions(profile_doc, args.out)
    console.print(f"Wrote {rows:,} udp_distributions row(s) to {args.out}", markup=False)
    return 0
