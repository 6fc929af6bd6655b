"""Errors of the generation stage. The CLI turns any of them into one message and exit code 2."""


class PipelineError(Exception):
    """Base of every error campus-synth's pipeline raises on purpose."""


class SettingsError(PipelineError):
    """An impossible setting (size, terms, output folder, runner option)."""


class PlanError(PipelineError):
    """The registry or profile cannot be planned (a cycle, an unknown table)."""


class OutputError(PipelineError):
    """The output folder cannot be written or replaced safely."""
