"""`campus-synth generate --out <scheme>://...`: output to an object store (gs:// on Dataflow).

An object store has no atomic rename: the Parquet goes straight under the prefix and the
manifest, written last, commits the run. The test registers a real Beam FileSystem for a
`objtest://` scheme whose objects live in a local folder, and runs the CLI against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apache_beam.io.localfilesystem import LocalFileSystem

from pipeline.cli import main

ROOT: dict[str, Path] = {}


class FolderObjectStore(LocalFileSystem):
    """objtest://bucket/key → ROOT/bucket/key: Beam's local filesystem under another scheme."""

    @classmethod
    def scheme(cls):
        return "objtest"

    def _local(self, path: str) -> str:
        return str(ROOT["root"] / path.split("://", 1)[1]) if "://" in path else path

    def _remote(self, path: str) -> str:
        return "objtest://" + str(Path(path).relative_to(ROOT["root"]))

    def create(self, path, *args, **kwargs):
        Path(self._local(path)).parent.mkdir(parents=True, exist_ok=True)
        return super().create(self._local(path), *args, **kwargs)

    def open(self, path, *args, **kwargs):
        return super().open(self._local(path), *args, **kwargs)

    def exists(self, path):
        return super().exists(self._local(path))

    def mkdirs(self, path):
        Path(self._local(path)).mkdir(parents=True, exist_ok=True)

    def delete(self, paths):
        return super().delete([self._local(p) for p in paths])


@pytest.fixture
def store(tmp_path):
    ROOT["root"] = tmp_path
    yield tmp_path
    ROOT.clear()


def test_generate_writes_the_prefix_and_commits_with_the_manifest(store, capsys):
    code = main(["generate", "--fte", "200", "--terms", "1", "--event-days", "2",
                 "--out", "objtest://bucket/runs/r1"])
    assert code == 0, capsys.readouterr().err
    run = store / "bucket" / "runs" / "r1"
    manifest = json.loads((run / "campus-synth.json").read_text())
    assert manifest["tables"]["context_store_entity.person"] > 0
    assert manifest["tables"]["event_store.expanded"] > 0
    assert list((run / "context_store_entity" / "person").glob("part-*.parquet"))
    # two days of events of one block: one week of term, one file
    assert len(list((run / "event_store" / "expanded").glob("term_week=*/part-*.parquet"))) == 1
    assert not list(store.glob(".*partial*"))  # nothing staged beside it


def test_a_committed_prefix_is_never_written_again(store, capsys):
    args = ["generate", "--fte", "200", "--terms", "1", "--event-days", "1",
            "--out", "objtest://bucket/runs/r2"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        "campus-synth: error: objtest://bucket/runs/r2 already holds a finished run; choose a "
        "new prefix (one per run, e.g. gs://bucket/runs/RUN_ID)")


def test_run_refuses_an_object_store_before_generating(store, capsys):
    assert main(["run", "--fte", "200", "--out", "objtest://bucket/runs/r3"]) == 2
    assert "use `campus-synth generate` for object-store output" in capsys.readouterr().err
    assert not (store / "bucket").exists()
