"""Every error campus-synth raises on purpose, and the exit code the CLI gives each.

The CLI (`pipeline/cli/_main.py` main) prints any of them as one line (or a bounded list of
problems), `campus-synth: error: …`, without a traceback, and exits with the class's
`exit_code`:

    CampusSynthError                  exit 2    base: a user error unless a subclass says so
    ├── PipelineError                 exit 2    generation and its outputs
    │   ├── SettingsError             exit 2    an impossible flag or profile setting, runner
    │   │                                       option
    │   ├── PlanError                 exit 2    a registry or profile that cannot be planned
    │   ├── OutputError               exit 2    an output folder that cannot be written/replaced
    │   │   └── BusyError             exit 2    another run holds the output folder's lock
    │   ├── CredentialsError          exit 2    no usable BigQuery credential, or one refused
    │   └── StageFailure              exit 1    a stage failed for a reason outside the input
    │       │                                   (disk full, an I/O error); staging is removed
    │       └── PublishError          exit 1    a publication step failed; the consumer-facing
    │                                           datasets are as they were
    ├── RelayedError                  its own   an error of `run`'s child process (plan,
    │                                           generate, load), relayed: its message and
    │                                           exit code (pipeline/cli/_job_child.py)
    └── DistributionsError            exit 2    profiling, scenarios and evaluation
        ├── ProfileError              exit 2    a profile that cannot be used (file + JSON paths)
        ├── SourceError               exit 2    a profiling source that cannot be used (table,
        │                                       column)
        ├── ScenarioError             exit 2    a scenario file that cannot be used (file + paths)
        └── EvaluateError             exit 2    input that evaluate cannot use

    Interrupted (a KeyboardInterrupt)  exit 130 (SIGINT) / 143 (SIGTERM): 128 + the signal;
                                                staging removed (pipeline/cli/_faults.py)
    usage errors of the command line   exit 2   (`UsageError`, pipeline/cli/_parser.py)

Not raised to the CLI: `ExpressionError` (distributions/_expression.py, a ValueError) is a
scenario expression's problem, always re-raised as the ScenarioError naming its file and path.

Every message is bounded: a problem's path and text are cut to a few hundred characters, and
at most `MAX_LISTED` problems are listed, then "… and N more problems".
"""

from __future__ import annotations

import signal

MAX_TEXT = 200    # characters of one problem's text (a value may be megabytes long)
MAX_PATH = 120    # characters of one JSON path
MAX_LISTED = 20   # problems listed before "… and N more problems"
SCENARIO_TEXT = 300  # a scenario problem's text may quote an expression: a little more room


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class CampusSynthError(Exception):
    """Base of every error campus-synth raises on purpose (exit 2: a user error)."""

    exit_code = 2


# ---- generation and its outputs ---------------------------------------------------------
class PipelineError(CampusSynthError):
    """Base of the errors of generation and its outputs (exit 2 unless a subclass says)."""


class SettingsError(PipelineError):
    """An impossible setting (size, terms, output folder, runner option)."""


class PlanError(PipelineError):
    """The registry or profile cannot be planned (a cycle, an unknown table)."""


class OutputError(PipelineError):
    """The output folder cannot be written or replaced safely."""


class BusyError(OutputError):
    """Another campus-synth run is writing the same output folder (its lock is held)."""


class CredentialsError(PipelineError):
    """No usable credential, or one BigQuery refused: a user error (exit 2)."""


class StageFailure(PipelineError):
    """A stage failed for a reason outside the user's input, e.g. the disk filled (exit 1)."""

    exit_code = 1


class PublishError(StageFailure):
    """A step of the publication failed; the consumer-facing datasets are as they were
    (exit 1, as every StageFailure)."""


class RelayedError(CampusSynthError):
    """An error that `run`'s child process (plan, generate, load) raised and reported: the
    same message and exit code, raised again in the parent so the CLI reports it once."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


# ---- profiling, scenarios, evaluation ---------------------------------------------------
class DistributionsError(CampusSynthError):
    """Base of the errors of profiling, scenarios and evaluation (exit 2)."""


class ProfileError(DistributionsError):
    """A profile that cannot be used; lists every problem with its JSON path (exit 2)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        super().__init__(self._message())

    def _message(self) -> str:
        source = shorten(self.source, 2 * MAX_TEXT)
        if len(self.problems) == 1:
            path, text = self.problems[0]
            return f"{source}: invalid profile at {_path(path)}: {shorten(text)}"
        lines = [f"{source}: invalid profile ({len(self.problems)} problems):"]
        lines += [f"  {_path(path)}: {shorten(text)}"
                  for path, text in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            lines.append(f"  … and {len(self.problems) - MAX_LISTED} more problems")
        return "\n".join(lines)


class SourceError(DistributionsError):
    """A profiling source that cannot be used (names the source, table and column; exit 2)."""


class ScenarioError(DistributionsError):
    """A scenario that cannot be used: one line per problem, `FILE: /path: text` (exit 2)."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source, self.problems = source, problems
        lines = [f"{shorten(source, 400)}: {path or '/'}: {shorten(text, SCENARIO_TEXT)}"
                 for path, text in problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            lines.append(f"{source}: … and {len(problems) - MAX_LISTED} more problems")
        super().__init__("\n".join(lines))

    @classmethod
    def merged(cls, errors: list[ScenarioError]) -> ScenarioError:
        """One error listing the problems of several files, each line naming its file."""
        merged = cls(errors[0].source, errors[0].problems)
        merged.args = ("\n".join(str(e) for e in errors),)
        return merged


class EvaluateError(DistributionsError):
    """Input that evaluate cannot use (names the path and what is wrong); exit code 2."""


# ---- signals ----------------------------------------------------------------------------
class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; `exit_code` is 128 + the signal's number.

    A KeyboardInterrupt, not a CampusSynthError: code that lets a Ctrl-C through (Beam, dbt,
    `except Exception`) lets this through too."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


def _path(path: str) -> str:
    return shorten(path or "/", MAX_PATH)
