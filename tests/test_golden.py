"""Golden data: a small warehouse at a fixed seed and size must hash to the digests committed in
`tests/golden_digest.json`, so any change to generated data is a visible, reviewed diff.

A table's digest is the md5 of its rows' md5s in sorted order (each row hashed as DuckDB's text
of the whole row), so it depends on the rows and their values, not on Parquet encoding, file
boundaries or row order. When a change to generated data is intended, regenerate the file and
commit it with the change:

    .venv/bin/python tests/test_golden.py --update
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import duckdb
from conftest import TINY_ARGS

from pipeline.cli import main

GOLDEN = Path(__file__).with_name("golden_digest.json")
ARGS = TINY_ARGS  # the session's shared small generation (tests/conftest.py)


def _generate(root: Path) -> Path:
    out = root / "golden"
    code = main(["generate", "--out", str(out), *ARGS])
    assert code == 0, f"campus-synth generate {' '.join(ARGS)} exited {code}"
    return out


def table_digests(out: Path) -> dict[str, dict]:
    """Row count and order-independent content digest of every generated table."""
    connection = duckdb.connect()
    digests = {}
    for folder in sorted({p.parent for p in out.rglob("*.parquet")}):
        name = ".".join(folder.relative_to(out).parts)
        if name.startswith("event_store"):
            folder, name = out / "event_store" / "expanded", "event_store.expanded"
            pattern = f"{folder}/*/*.parquet"
        else:
            pattern = f"{folder}/*.parquet"
        rows, digest = connection.execute(
            f"SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) FROM "
            f"(SELECT md5(t::VARCHAR) AS h FROM read_parquet('{pattern}', "
            f"hive_partitioning = false) AS t)").fetchone()
        digests[name] = {"rows": rows, "md5": digest}
    return digests


def test_generated_data_matches_the_committed_digest(tiny_parquet):
    expected = json.loads(GOLDEN.read_text())
    actual = table_digests(tiny_parquet)
    assert expected["args"] == list(ARGS)
    changed = {name: (expected["tables"].get(name), digest)
               for name, digest in actual.items() if expected["tables"].get(name) != digest}
    missing = sorted(set(expected["tables"]) - set(actual))
    assert not changed and not missing, (
        f"generated data changed (tables {sorted(changed)}, missing {missing}); if intended, "
        f"run `python tests/test_golden.py --update` and commit the new digest")


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    with tempfile.TemporaryDirectory() as tmp:
        tables = table_digests(_generate(Path(tmp)))
    GOLDEN.write_text(json.dumps({"args": list(ARGS), "tables": tables}, indent=1) + "\n")
    print(f"wrote {GOLDEN} ({len(tables)} tables)")
