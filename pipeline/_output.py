"""The output folder: everything is written to a hidden staging folder beside it and moved
into place only when every stage succeeded, so a user never reads a half-built warehouse."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from pipeline._errors import OutputError

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
        self.final = Path(out).expanduser().absolute()
        token = uuid.uuid4().hex[:8]
        self.staging = self.final.parent / f".{self.final.name}.partial-{token}"
        self._old = self.final.parent / f".{self.final.name}.old-{token}"

    def __enter__(self) -> StagedOutput:
        _check_replaceable(self.final)
        try:
            self.staging.mkdir(parents=True)
        except OSError as error:
            raise OutputError(f"cannot create {self.staging}: {error.strerror}") from None
        return self

    def __exit__(self, kind, value, traceback) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)

    def commit(self, manifest: dict) -> None:
        """Write the manifest and move the staging folder into place (replacing an older
        campus-synth output in one rename)."""
        (self.staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
        if self.final.exists():
            os.replace(self.final, self._old)
        os.replace(self.staging, self.final)
        shutil.rmtree(self._old, ignore_errors=True)


def _check_replaceable(final: Path) -> None:
    if not final.exists():
        return
    if not final.is_dir():
        raise OutputError(f"{final} exists and is not a folder; choose another --out")
    if any(final.iterdir()) and not (final / MANIFEST).exists():
        raise OutputError(f"{final} holds files that campus-synth did not write; "
                          "choose another --out or empty it")
