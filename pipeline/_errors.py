"""Errors of the generation stage and its outputs, and the exit code the CLI gives each.

The CLI (`pipeline/_cli.py` main) prints any of them as one line, `campus-synth: error: …`,
without a traceback, and exits with the class's `exit_code`:

    PipelineError                  exit 2   base: a user error unless a subclass says otherwise
    ├── SettingsError              exit 2   an impossible flag or profile setting, runner option
    ├── PlanError                  exit 2   a registry or profile that cannot be planned
    ├── OutputError                exit 2   an output folder that cannot be written or replaced
    │   └── BusyError              exit 2   another run holds the output folder's lock
    ├── CredentialsError           exit 2   no usable BigQuery credential (pipeline/_publish.py)
    └── StageFailure               exit 1   a stage failed for a reason outside the input
        │                                   (disk full, an I/O error); staging is removed
        └── PublishError           exit 1   a publication step failed; the consumer-facing
                                            datasets are as they were (pipeline/_publish.py)

    distributions.DistributionsError exit 2 (ProfileError, SourceError): distributions/_errors.py
    usage errors of the command line  exit 2
    KeyboardInterrupt / SIGINT, SIGTERM exit 130 ("interrupted"; staging removed)
"""


class PipelineError(Exception):
    """Base of every error campus-synth's pipeline raises on purpose (exit 2)."""

    exit_code = 2


class SettingsError(PipelineError):
    """An impossible setting (size, terms, output folder, runner option)."""


class PlanError(PipelineError):
    """The registry or profile cannot be planned (a cycle, an unknown table)."""


class OutputError(PipelineError):
    """The output folder cannot be written or replaced safely."""


class BusyError(OutputError):
    """Another campus-synth run is writing the same output folder (its lock is held)."""


class StageFailure(PipelineError):
    """A stage failed for a reason outside the user's input, e.g. the disk filled (exit 1)."""

    exit_code = 1
