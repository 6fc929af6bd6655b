"""The Flex Template's entry point: `campus-synth generate` with the template's parameters.

The Dataflow launcher runs this file (FLEX_TEMPLATE_PYTHON_PY_FILE) as
`python main.py --fte=20000 --out=gs://... --runner=DataflowRunner --project=... ...`: the
template parameters declared in metadata.json, spelled with underscores (`block_rows`), plus the
Beam options Dataflow adds. A template parameter is renamed to its CLI flag (`--block-rows`); every
other argument is a Beam option and passes through to the job unchanged, as on the command line.

The package is installed in the image (pyproject.toml), so nothing is pickled from this file: no
`save_main_session`. Locally the same code runs as `campus-synth generate` with FnApiRunner.
"""

from __future__ import annotations

import argparse
import sys


def generate_flags() -> dict[str, str]:
    """{template parameter name: CLI flag} for every option of `campus-synth generate`."""
    from pipeline.cli._parser import command_parser

    commands = next(a for a in command_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    return {action.dest: max(action.option_strings, key=len)
            for action in commands.choices["generate"]._actions
            if action.option_strings and action.dest != "help"}


def to_cli(argv: list[str]) -> list[str]:
    """The launcher's arguments as `campus-synth generate` arguments."""
    flags = {f"--{name}": flag for name, flag in generate_flags().items()}
    args = ["generate"]
    for arg in argv:
        name, sep, value = arg.partition("=")
        args.append(flags[name] + sep + value if name in flags else arg)
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append("--runner=DataflowRunner")  # a template always runs on Dataflow
    return args


def main(argv: list[str] | None = None) -> int:
    from pipeline.cli._main import main as campus_synth

    return campus_synth(to_cli(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
