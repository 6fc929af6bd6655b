"""Errors of the profiling stage. The CLI turns any of them into one message and exit code 2."""

from __future__ import annotations


class DistributionsError(Exception):
    """Base of every error campus-synth's distributions package raises on purpose."""


class ProfileError(DistributionsError):
    """A profile that cannot be used; lists every problem with its JSON path."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        super().__init__(self._message())

    def _message(self) -> str:
        if len(self.problems) == 1:
            path, text = self.problems[0]
            return f"{self.source}: invalid profile at {path or '/'}: {text}"
        lines = [f"{self.source}: invalid profile ({len(self.problems)} problems):"]
        lines += [f"  {path or '/'}: {text}" for path, text in self.problems]
        return "\n".join(lines)
