"""Errors of the profiling stage, and the exit code the CLI gives each.

    DistributionsError             exit 2   a user error: one message, no traceback
    ├── ProfileError               exit 2   a profile that cannot be used (file + JSON paths)
    └── SourceError                exit 2   a profiling source that cannot be used (table,
                                            column)

Every message is bounded: a problem's path and text are cut to a few hundred characters, and
at most `MAX_LISTED` problems are listed, then "… and N more problems".
"""

from __future__ import annotations

MAX_TEXT = 200    # characters of one problem's text (a value may be megabytes long)
MAX_PATH = 120    # characters of one JSON path
MAX_LISTED = 20   # problems listed before "… and N more problems"


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class DistributionsError(Exception):
    """Base of every error campus-synth's distributions package raises on purpose (exit 2)."""

    exit_code = 2


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


def _path(path: str) -> str:
    return shorten(path or "/", MAX_PATH)
