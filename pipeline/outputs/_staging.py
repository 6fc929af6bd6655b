"""The output folder: everything is written to a hidden staging folder beside it and moved
into place only when every stage succeeded, so a user never reads a half-built warehouse.

Beside `--out X` a run keeps, while it runs:

- `.X.lock`: an exclusive `flock`, so a second run into the same X fails at once (exit 2)
  instead of racing the first; it holds the owner's pid and is removed when the run ends.
- `.X.partial-TOKEN/`: the staging folder, with a `.campus-synth-staging` marker (pid, host,
  start time) inside. A run killed with SIGKILL cannot remove it; the next run into X (which
  holds the lock, so no live run can own one) removes every such folder, and so does
  `campus-synth clean --out X`.
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import time
import uuid
from pathlib import Path

import duckdb

from pipeline.errors import BusyError, OutputError
from pipeline.outputs._duckdb import WAREHOUSE_FILE, point_event_store

MANIFEST = "campus-synth.json"


def staged_output(out: str | Path):
    """The output of a run: a local folder staged beside its place, or an object-store prefix
    (gs://...) committed by its manifest."""
    if is_remote(out):
        return PrefixOutput(str(out))
    return StagedOutput(out)


def is_remote(out: str | Path) -> bool:
    return "://" in str(out)


class PrefixOutput:
    """An object-store prefix (gs://bucket/runs/ID). Object stores have no atomic rename, so
    the manifest is the commit: written last, only when every stage succeeded; a prefix
    without it is not a run, and a prefix that has one is never written again."""

    def __init__(self, out: str):
        self.final = self.staging = out.rstrip("/")

    def __enter__(self) -> PrefixOutput:
        from apache_beam.io.filesystems import FileSystems

        if FileSystems.exists(FileSystems.join(self.final, MANIFEST)):
            raise OutputError(f"{self.final} already holds a finished run; choose a new prefix "
                              "(one per run, e.g. gs://bucket/runs/RUN_ID)")
        return self

    def __exit__(self, kind, value, traceback) -> None:
        pass

    def commit(self, manifest: dict) -> None:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.create(FileSystems.join(self.final, MANIFEST)) as handle:
            handle.write(json.dumps(manifest, indent=2, default=str).encode())


class StagedOutput:
    """`with StagedOutput(out) as staging: ...; staging.commit(manifest)`."""

    def __init__(self, out: str | Path):
        self.final = local_folder(out)
        token = uuid.uuid4().hex[:8]
        self.staging = self.final.parent / f".{self.final.name}.partial-{token}"
        self._old = self.final.parent / f".{self.final.name}.old-{token}"
        self.removed: list[Path] = []  # staging folders of killed runs, cleaned on entry
        self._lock: OutputLock | None = None

    def __enter__(self) -> StagedOutput:
        _check_replaceable(self.final)
        self._lock = OutputLock(self.final).acquire()
        try:
            self.removed = remove_stale(self.final)
            self.staging.mkdir(parents=True)
            (self.staging / STAGING_MARKER).write_text(json.dumps(_owner()))
        except OSError as error:
            self._lock.release()
            raise OutputError(f"cannot create {self.staging}: {_reason(error)}") from None
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if self.staging.exists():
                shutil.rmtree(self.staging, ignore_errors=True)
                # a writer thread of the job may still land a file after this; remove the
                # folder again when the interpreter exits, after such threads are joined
                atexit.register(shutil.rmtree, self.staging, ignore_errors=True)
        finally:
            self._lock.release()

    def commit(self, manifest: dict) -> None:
        """Write the manifest and move the staging folder into place (replacing an older
        campus-synth output in one rename); signals wait until both renames are done. Then
        the warehouse's event view is pointed at the moved Parquet (a run killed between
        the two is mended by `campus-synth relink` or `build`)."""
        (self.staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
        (self.staging / STAGING_MARKER).unlink(missing_ok=True)
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            if self.final.exists():
                os.replace(self.final, self._old)
            os.replace(self.staging, self.final)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        shutil.rmtree(self._old, ignore_errors=True)
        warehouse = self.final / WAREHOUSE_FILE
        if warehouse.is_file():  # its event view named the staging folder's Parquet
            try:
                point_event_store(warehouse)
            except duckdb.Error as error:
                raise OutputError(f"{self.final} is in place, but its event store still "
                                  f"names the staging folder ({error}); run `campus-synth "
                                  f"relink --out {self.final}`") from None


STAGING_MARKER = ".campus-synth-staging"
_TOKEN = re.compile(r"^[0-9a-f]{8}$")


def local_folder(out: str | Path) -> Path:
    """`--out` as an absolute folder campus-synth may stage beside and replace; refuses an
    empty name, the root, the current folder or one holding it, and a mount point."""
    if not str(out).strip():
        raise OutputError("--out is empty; name the output folder, e.g. --out warehouse")
    final = Path(os.path.abspath(os.path.expanduser(out)))
    if final == final.parent:
        raise OutputError(f"--out {out}: the root folder cannot be an output folder")
    cwd = Path.cwd().resolve()
    if final == cwd or final in cwd.parents:
        raise OutputError(f"--out {out} is the current folder or holds it; name a folder "
                          "inside it, e.g. --out warehouse")
    if final.is_dir() and (os.path.ismount(final)
                           or final.stat().st_dev != final.parent.stat().st_dev):
        raise OutputError(f"--out {final} is a mount point, which the finished run cannot be "
                          f"moved onto; name a folder inside it, e.g. --out {final / 'warehouse'}")
    return final


class OutputLock:
    """An exclusive flock on `.X.lock` beside the output folder X, held for a whole run."""

    def __init__(self, final: Path):
        self.final = final
        self.path = final.parent / f".{final.name}.lock"
        self.fd: int | None = None

    def acquire(self) -> OutputLock:
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            for _ in range(5):  # the file may be removed by its owner between open and lock
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    owner = _read_pid(fd)
                    os.close(fd)
                    raise BusyError(f"{self.final} is being written by another campus-synth "
                                    f"run{f' (pid {owner})' if owner else ''}; wait for it "
                                    "to finish or choose another --out") from None
                if _same_file(fd, self.path):
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode())
                    self.fd = fd
                    return self
                os.close(fd)
        except OSError as error:
            raise OutputError(f"cannot write beside {self.final}: {_reason(error)}") from None
        raise BusyError(f"{self.final}: could not take the output folder's lock; retry")

    def release(self) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)  # still locked: no one else holds this file
            os.close(self.fd)
            self.fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _owner() -> dict:
    return {"tool": "campus-synth", "pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def stale_folders(final: Path) -> list[Path]:
    """Staging and replaced folders that runs into `final` left behind: `.X.partial-TOKEN`
    (holding the staging marker, or named as campus-synth names them) and `.X.old-TOKEN`."""
    found = []
    for kind in ("partial", "old"):
        for path in sorted(final.parent.glob(f".{glob_escape(final.name)}.{kind}-*")):
            token = path.name.rsplit("-", 1)[-1]
            if path.is_dir() and not path.is_symlink() and (
                    (path / STAGING_MARKER).exists() or _TOKEN.match(token)):
                found.append(path)
    return found


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def remove_stale(final: Path) -> list[Path]:
    """Remove what killed runs into `final` left beside it. Call only holding its lock."""
    removed = stale_folders(final)
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def clean(out: str | Path) -> list[Path]:
    """`campus-synth clean --out X`: remove the staging that killed runs into X left beside
    it (never X itself); refused while a run into X holds the lock."""
    final = local_folder(out)
    if not final.parent.is_dir():
        raise OutputError(f"{final.parent}: no such folder")
    lock = OutputLock(final).acquire()
    try:
        return remove_stale(final)
    finally:
        lock.release()


def _reason(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "no space left on the device"
    return error.strerror or str(error)


def _check_replaceable(final: Path) -> None:
    if not final.exists():
        return
    if not final.is_dir():
        raise OutputError(f"{final} exists and is not a folder; choose another --out")
    if any(final.iterdir()) and not (final / MANIFEST).exists():
        raise OutputError(f"{final} holds files that campus-synth did not write; "
                          "choose another --out or empty it")
