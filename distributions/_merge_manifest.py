"""The privacy manifests of a consortium merge: each source's, read beside its profile, and the
merged one, which keeps every source's contribution and privacy actions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from distributions._text import decoded, read_bounded
from pipeline.errors import DistributionsError


def read_manifest(path: Path) -> dict | None:
    """The privacy manifest beside a profile (None without one)."""
    side = path.with_name(path.stem + ".privacy.json")
    if not side.is_file():
        return None
    try:
        manifest = manifest_document(side)
    except (OSError, ValueError) as error:
        raise DistributionsError(f"{side}: not a readable privacy manifest ({error})") from None
    problem = manifest_problem(manifest)
    if problem:
        raise DistributionsError(f"{side}: not a privacy manifest campus-synth wrote: {problem}")
    return manifest


MAX_MANIFEST_BYTES = 64 * 2**20  # as a profile's: one action per released part


def manifest_document(path: Path):
    """A privacy manifest file's JSON document, read as a profile is (UTF-8, or UTF-16/32
    told by its first bytes; at most MAX_MANIFEST_BYTES); raises OSError or ValueError for
    the caller (merge, evaluate) to name the file in its own error."""
    data = read_bounded(path, MAX_MANIFEST_BYTES)
    if data is None:
        raise ValueError(f"larger than {MAX_MANIFEST_BYTES // 2**20} MB")
    return json.loads(decoded(data))


def manifest_problem(manifest) -> str | None:
    """What makes a (hand-edited) manifest unusable for the merge, or None: the parts the
    merge reads must have their types (k a count of people, ε a budget, table row counts)."""
    def number(value) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0

    if not isinstance(manifest, dict):
        return f"a JSON {type(manifest).__name__}, not an object"
    checks = {"/k": "k" not in manifest or (isinstance(manifest["k"], int) and number(
                  manifest["k"]) and manifest["k"] >= 1),
              "/epsilon": manifest.get("epsilon") is None or number(manifest["epsilon"]),
              "/tables": isinstance(manifest.get("tables", {}), dict) and all(
                  isinstance(n, int) and number(n) for n in manifest.get("tables", {}).values()),
              "/actions": isinstance(manifest.get("actions", []), list) and all(
                  isinstance(a, dict) for a in manifest.get("actions", []))}
    wrong = [path for path, fine in checks.items() if not fine]
    return f"{', '.join(wrong)} not of the type campus-synth writes" if wrong else None


def merged_manifest(merge) -> dict:
    """The merged privacy manifest: each source's digest, weight, k, ε, budget and actions,
    table counts added, which listed terms are whose, the merge's own actions."""
    sources = []
    for path, profile, manifest, fte in zip(merge.paths, merge.profiles, merge.manifests,
                                            merge.fte, strict=True):
        manifest = manifest or {}
        sources.append({
            "profile": str(path), "name": profile.get("name"),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "fte": float(fte),
            "weight": round(float(fte / merge.fte.sum()), 6), "k": manifest.get("k"),
            "epsilon": manifest.get("epsilon"), "tables": manifest.get("tables", {}),
            "actions": manifest.get("actions", []),
            "budget": manifest.get("budget")})
    tables: dict[str, int] = {}
    for s in sources:
        for name, n in s["tables"].items():
            tables[name] = tables.get(name, 0) + int(n)
    epsilons = [s["epsilon"] for s in sources]
    return {"k": merge.k, "epsilon": None if None in epsilons else max(epsilons),
            "source": "merge of " + ", ".join(str(p) for p in merge.paths),
            "tables": dict(sorted(tables.items())), "sources": sources,
            # the merged calendar lists each source's terms in turn, in this order
            "calendar": [{"profile": str(path), "terms": int(n)}
                         for path, n in zip(merge.paths, merge.terms, strict=True)],
            "actions": merge.actions}
