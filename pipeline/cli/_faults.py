"""Faults during a run, each turned into one line and its exit code (pipeline/errors.py).

- SIGINT (Ctrl-C) and SIGTERM: the running stage is stopped by a KeyboardInterrupt. Beam,
  DuckDB and dbt each wrap that in an error of their own (or a failed result), so whatever
  escapes a run after a signal arrived is reported as `Interrupted` (exit 130, or 143 for
  SIGTERM); the staging folder is removed on the way out.
- A full disk (OSError ENOSPC, or an engine's error saying so) anywhere in an error's chain
  becomes one `StageFailure` line (exit 1), after the staging folder is removed.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager

from pipeline.errors import Interrupted, PipelineError, StageFailure

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_NO_SPACE = ("no space left on device", "disk is full", "not enough space")


class _State:
    received: int | None = None
    stdout: int | None = None  # the real stdout, while it is muted after a signal


@contextmanager
def guarded(out: str):
    """Run a job's stages with signals and a full disk reported as one line each."""
    previous = _install()
    _State.received = None
    muted = _filter_logs()
    unraisable, sys.unraisablehook = sys.unraisablehook, _unraisable(sys.unraisablehook)
    try:
        yield
        raise_if_interrupted()  # the signal's exception may have been swallowed on the way
    except Interrupted:
        raise
    except BaseException as error:
        if _State.received is not None:
            raise Interrupted(_State.received) from None
        if not isinstance(error, PipelineError) and disk_full(error):
            raise StageFailure(f"the disk is full: writing the run into {out} failed "
                               "(no space left on the device); nothing was written there. "
                               "Free some space or choose another --out") from None
        raise
    finally:
        sys.unraisablehook = unraisable
        _restore(previous)
        _unmute()
        for target in muted:
            target.removeFilter(_QUIET)


def raise_if_interrupted() -> None:
    """Stop here if a signal arrived. The handler's exception can land where Python swallows
    it (a weakref or `__del__` callback, a thread), so stages also check between them."""
    if _State.received is not None:
        raise Interrupted(_State.received)


def _unraisable(previous):
    """An unraisable-exception hook that drops our own `Interrupted` (Python prints
    "Exception ignored in ..." for it otherwise) and passes anything else on."""
    def hook(unraisable) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            previous(unraisable)
    return hook


class _QuietFaults(logging.Filter):
    """Drops the log records (Beam logs a failed bundle with its traceback) of a fault that
    the CLI reports in one line: a full disk, or anything after a signal."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _State.received is not None:
            return False
        error = record.exc_info[1] if record.exc_info else None
        text = record.getMessage().lower()
        return not ((error is not None and disk_full(error))
                    or any(phrase in text for phrase in _NO_SPACE))


_QUIET = _QuietFaults()


def _filter_logs() -> list:
    """Put the filter on Beam's bundle logger and on every handler of the root logger."""
    targets = [logging.getLogger("apache_beam.runners.common"), *logging.getLogger().handlers]
    for target in targets:
        target.addFilter(_QUIET)
    return targets


def _handler(signum, frame) -> None:
    _State.received = signum
    _mute()
    raise Interrupted(signum)


def _mute() -> None:
    """Send stdout to /dev/null once a signal came: the stage being stopped (dbt above all)
    prints its own stack trace there, and the user should see one line, on stderr."""
    if _State.stdout is not None:
        return
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        sys.stdout.flush()  # what the run printed before the signal is kept
    try:
        _State.stdout = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        _State.stdout = None


def _unmute() -> None:
    if _State.stdout is None:
        return
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        sys.stdout.flush()  # the stopped stage's output goes to /dev/null, not after us
    os.dup2(_State.stdout, 1)
    os.close(_State.stdout)
    _State.stdout = None


def _install() -> dict | None:
    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers can only be set from the main thread
    # a signal the caller ignores (a background job of a script) stays ignored
    return {s: signal.signal(s, _handler) for s in _SIGNALS
            if signal.getsignal(s) is not signal.SIG_IGN}


def _restore(previous: dict | None) -> None:
    for signum, handler in (previous or {}).items():
        signal.signal(signum, handler)


def disk_full(error: BaseException) -> bool:
    """Whether `error`, or an error it wraps, says the disk is full."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if any(text in str(error).lower() for text in _NO_SPACE):
            return True
        error = error.__cause__ or error.__context__
    return False
