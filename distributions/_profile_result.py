"""What profiling returns and how it reaches disk: a profile, its privacy manifest and the notes,
written together or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from distributions._profile import validate_profile
from pipeline.errors import DistributionsError
from pipeline.udp._contract import check_profile
from pipeline.udp._registry import REGISTRY


@dataclass
class ProfileResult:
    """A profile, its privacy manifest and the notes to show the user."""

    profile: dict
    manifest: dict
    notes: list[str] = field(default_factory=list)



def write_profile(result: ProfileResult, out: str | Path) -> tuple[Path, Path]:
    """Validate and write profile.json and profile.privacy.json atomically (temp + replace)."""

    out = Path(out)
    manifest_path = manifest_path_of(out)
    validate_profile(result.profile, str(out))
    check_profile(result.profile, REGISTRY, str(out))
    staged = [_stage(out, result.profile), _stage(manifest_path, result.manifest)]
    try:
        for temp, final in zip(staged, (out, manifest_path), strict=True):
            os.replace(temp, final)
    finally:
        for temp in staged:
            Path(temp).unlink(missing_ok=True)
    return out, manifest_path


def manifest_path_of(out: Path) -> Path:
    """Where the privacy manifest of a profile written to `out` goes (beside it)."""
    return out.with_name(out.stem + ".privacy.json")


def _stage(path: Path, document: dict) -> str:
    if not path.parent.is_dir():
        raise DistributionsError(f"{path}: the folder {path.parent} does not exist")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(document, file, indent=1, ensure_ascii=False)
        file.write("\n")
    return temp
