"""The Beam job: every table's blocks generated and written as Parquet, in FK order.

An element is a `Block` (a range of row indices); `Generate[table]` turns it into Arrow
record batches (the table's, and those of tables computed with it), `Write[table]` writes one
Parquet file per block with a name fixed by the block index, so a retried bundle rewrites the
same file and the output does not depend on the runner or the number of workers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from pipeline._plan import Block, Settings, blocks, build_plan, generated_tables

PARQUET_COMPRESSION = "zstd"
_ENGINES: dict = {}


@dataclass(frozen=True)
class JobConfig:
    """Everything a worker needs to rebuild the plan: the profile and the settings."""

    profile: dict
    settings: Settings

    @property
    def fingerprint(self) -> str:
        text = json.dumps([self.profile, asdict(self.settings)], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def engine_for(config: JobConfig):
    """The planned engine for `config`, built once per process (workers included)."""
    key = config.fingerprint
    if key not in _ENGINES:
        import pipeline._rules  # noqa: F401  (registers the entity rules)
        from pipeline._registry import REGISTRY
        _ENGINES.clear()
        _ENGINES[key] = build_plan(REGISTRY, config.profile, config.settings)
    return _ENGINES[key]


def table_dir(root: str, key: str) -> str:
    """Where the Parquet files of table `key` go under the output root."""
    from pipeline._registry import REGISTRY
    table = REGISTRY[key]
    return FileSystems.join(root, table.schema, table.name)


def block_path(root: str, key: str, index: int) -> str:
    """The Parquet file of one block of table `key`."""
    return FileSystems.join(table_dir(root, key), f"part-{index:05d}.parquet")


# declared output types spare Beam from inferring them from the DoFn bytecode
@beam.typehints.with_output_types(tuple[int, Any])
class GenerateBlocks(beam.DoFn):
    """Block → (block index, record batch) for the table and each companion table."""

    def __init__(self, config: JobConfig):
        self.config = config

    def setup(self):
        self.engine = engine_for(self.config)

    def process(self, block: Block):
        batches = self.engine.block(block.table, block.start, block.stop, block.companions)
        for key, batch in batches.items():
            element = (block.index, batch)
            yield element if key == block.table else beam.pvalue.TaggedOutput(key, element)


@beam.typehints.with_output_types(tuple[str, int])
class WriteBlocks(beam.DoFn):
    """(block index, record batch) → one Parquet file; counts rows in a Beam metric."""

    def __init__(self, root: str, key: str):
        self.root, self.key = root, key
        self.rows = Metrics.counter("campus_synth", f"rows[{key}]")

    def process(self, element):
        index, batch = element
        path = block_path(self.root, self.key, index)
        with FileSystems.create(path) as handle:
            pq.write_table(pa.Table.from_batches([batch]), handle,
                           compression=PARQUET_COMPRESSION)
        self.rows.inc(batch.num_rows)
        yield self.key, batch.num_rows


class GenerateTable(beam.PTransform):
    """Blocks of one table → Parquet files of it and of the tables generated with it."""

    def __init__(self, config: JobConfig, root: str, key: str):
        super().__init__()
        self.config, self.root, self.key = config, root, key

    def expand(self, cuts):
        companions = [t.key for t in engine_for(self.config).registry
                      if t.generated_with == self.key]
        generated = cuts | f"Generate[{self.key}]" >> beam.ParDo(
            GenerateBlocks(self.config)).with_outputs(*companions, main=self.key)
        return [generated[key] | f"Write[{key}]" >> beam.ParDo(WriteBlocks(self.root, key))
                for key in (self.key, *companions)]


class _TableIndex:
    """Partition function: a block goes to its table's branch."""

    def __init__(self, keys: list[str]):
        self.index = {key: i for i, key in enumerate(keys)}

    def __call__(self, block: Block, partitions: int) -> int:
        return self.index[block.table]


class GenerateWarehouse(beam.PTransform):
    """Every generated table, its branches laid out in the foreign-key generation order.

    All blocks of all tables go through one shuffle, so workers share the whole job and the
    runner schedules a single stage, whatever the number of tables."""

    def __init__(self, config: JobConfig, root: str):
        super().__init__()
        self.config, self.root = config, root

    def expand(self, pbegin):
        engine = engine_for(self.config)
        keys = generated_tables(engine)
        cuts = [cut for key in keys for cut in blocks(engine, key, self.config.settings.block_rows)]
        per_table = (
            pbegin
            | "Blocks" >> beam.Create(cuts)
            | "Spread" >> beam.Reshuffle()
            | "ByTable" >> beam.Partition(_TableIndex(keys), len(keys))
        )
        written = []
        for i, key in enumerate(keys):
            written += per_table[i] | f"Table[{key}]" >> GenerateTable(self.config, self.root, key)
        return written | "Written" >> beam.Flatten()


def block_count(config: JobConfig) -> int:
    """How many Parquet files the job writes (for progress)."""
    engine = engine_for(config)
    return sum(len(cut.companions) + 1 for key in generated_tables(engine)
               for cut in blocks(engine, key, config.settings.block_rows))
