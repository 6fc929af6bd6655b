"""The Beam job: every table's blocks generated and written as Parquet, in FK order.

An element is a `Block` (a range of row indices of one table, or of the event store's
enrollments); the one `Generate` step turns it into Arrow record batches (the table's, and
those of tables computed with it) and writes one Parquet file per block and table with a name
fixed by the block index, so a retried bundle rewrites the same file and the output does not
depend on the runner (FnApiRunner, DaskRunner, Dataflow) or the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from pipeline.generate import _rules  # noqa: F401  (registers the entity rules)
from pipeline.generate._events import active_days  # noqa: F401  (registers a scenario input)
from pipeline.generate._events.generate import (
    EventSettings,
    event_blocks,
    event_weeks,
    generate_events,
)
from pipeline.generate._plan import Block, Settings, blocks, build_plan, generated_tables
from pipeline.generate._scenario_gen import extend_registry
from pipeline.udp._event_schema import QUALIFIED_NAME as EVENTS
from pipeline.udp._event_schema import SCHEMA_NAME, TABLE_NAME
from pipeline.udp._registry import REGISTRY, registry_for
from pipeline.udp._schema import ENTITY

PARQUET_COMPRESSION = "zstd"
# An engine memoises columns while it draws a block, so threads never share one: a Dataflow
# SDK harness or a Dask worker runs several bundles at once in one process.
_ENGINES = threading.local()


class JobConfig:
    """Everything a worker needs to rebuild the plan: the profile and the settings.

    It travels inside every DoFn, so it pickles as one compressed JSON blob (cheap to unpickle
    many times) and is parsed only when a process builds its engine."""

    def __init__(self, profile: dict, settings: Settings):
        blob = json.dumps([profile, asdict(settings)], sort_keys=True).encode()
        self.fingerprint = hashlib.sha256(blob).hexdigest()
        self._blob = zlib.compress(blob)
        # the profile as every worker sees it (keys sorted), so that nothing can depend on
        # whether it runs in this process or another
        self.profile, self.settings = json.loads(blob)[0], settings

    def __reduce__(self):
        return _config_from_blob, (self._blob, self.fingerprint)

    def __repr__(self) -> str:
        return f"JobConfig(fingerprint={self.fingerprint[:12]}, settings={self.settings})"


def _config_from_blob(blob: bytes, fingerprint: str) -> JobConfig:
    config = JobConfig.__new__(JobConfig)
    config._blob, config.fingerprint = blob, fingerprint
    return config


def _loaded(config: JobConfig) -> tuple[dict, Settings]:
    if not hasattr(config, "profile"):
        profile, settings = json.loads(zlib.decompress(config._blob))
        config.profile, config.settings = profile, Settings(**settings)
    return config.profile, config.settings


def engine_for(config: JobConfig):
    """The planned engine for `config`, built once per thread of each process (workers
    included)."""
    built = getattr(_ENGINES, "built", None)
    if built is None or built[0] != config.fingerprint:
        profile, settings = _loaded(config)
        _ENGINES.built = None  # the previous job's engine goes before the next is built
        # the registry plus the institution's own columns the profile declares
        registry = extend_registry(registry_for(profile), profile.get("scenario"))
        _ENGINES.built = built = (config.fingerprint, build_plan(registry, profile, settings))
    return built[1]


def table_dir(root: str, key: str) -> str:
    """Where the Parquet files of table `key` go under the output root."""
    if key == EVENTS:
        return FileSystems.join(root, SCHEMA_NAME, TABLE_NAME)
    if key not in REGISTRY.tables:  # a scenario's extension table (generate/_scenario_gen.py)
        return FileSystems.join(root, ENTITY, key)
    table = REGISTRY[key]
    return FileSystems.join(root, table.schema, table.name)


def event_path(root: str, week: int, index: int) -> str:
    """The Parquet file of one event block's events of one week of term (hive-style
    `term_week=WW` folders: week 1 is the first seven days of each term)."""
    return FileSystems.join(table_dir(root, EVENTS), f"term_week={week:02d}",
                            f"part-{index:05d}.parquet")


def event_settings(settings: Settings) -> EventSettings:
    return EventSettings(scale=settings.event_scale, days=settings.event_days)


def parquet_options(batch: pa.RecordBatch) -> dict:
    """How a block is written: dictionary pages only for categorical (dictionary-typed)
    columns; keys, timestamps and free text would only fill a dictionary and fall back."""
    dictionary = [f.name for f in batch.schema if pa.types.is_dictionary(f.type)]
    return {"compression": PARQUET_COMPRESSION, "use_dictionary": dictionary or False}


# event columns with few distinct values per file (the rest are ids and times), and the long
# ids repeated by every event of a session, membership or actor: as a dictionary they take
# 14.6 % less of a week's file than written plain (4 files of a 20k-FTE run, 1.15 M events)
# and encode faster (-26 % CPU); the object and generated ids, the event id and the JSON
# extensions repeat too little and grow as a dictionary. The person's number and the date
# are what the marts read most (every event mart groups or joins on them): as dictionary
# indices a reader takes them without decompressing 8 (4) plain bytes per event, and the
# default run's `dbt build` spends ~2.5 s less (benchmarks/README.md)
EVENT_DICTIONARY = ["type", "action", "tool", "actor.type", "object.type", "object.entity",
                    "object.name", "generated.type", "ed_app.id", "ed_app.name", "group.type",
                    "group.id", "membership.roles", "membership.status", "person.canvas_id",
                    "person.sis_id", "course_offering.canvas_id", "course_offering.sis_id",
                    "ucdm_course_offering_id", "session.id", "membership.id", "actor.id",
                    "person.udp_id", "event_date"]
# statistics (for pruning) on the columns queries filter on, not on ids and long strings
EVENT_STATISTICS = ["event_time", "event_date", "tool", "ucdm_course_offering_id", "type",
                    "action"]
EVENT_PARQUET = {"compression": PARQUET_COMPRESSION, "use_dictionary": EVENT_DICTIONARY,
                 "write_statistics": EVENT_STATISTICS, "row_group_size": 256 * 1024}


def block_path(root: str, key: str, index: int) -> str:
    """The Parquet file of one block of table `key`."""
    return FileSystems.join(table_dir(root, key), f"part-{index:05d}.parquet")


# One step generates every block and writes its files itself: batches never travel between
# steps, so no runner has to fuse two steps (or encode 100k-row batches between them) to keep
# memory at a block, and the step has no tagged outputs, which DaskRunner cannot route. One
# generic step rather than one per table: a small job's time went to building, translating and
# starting ~480 transforms (the DoFn introspection and option parsing of each); the table a
# block belongs to travels in the block.
@beam.typehints.with_output_types(tuple[str, int])
class GenerateBlocks(beam.DoFn):
    """Block → Parquet files: a table's block those of its table and each companion table,
    an event block term_week=WW/part-INDEX.parquet for every week of term with events. Yields
    (table, rows) per file and counts rows in a Beam metric per table.

    Files are written on a background thread while the next block or week is drawn: Parquet
    encoding and compression release the GIL, so drawing and writing overlap on two cores.
    One block's (or week's) files wait at most: the previous ones are written before the next
    are queued, so two are held. The bundle ends only when all are written (a failed write
    fails the bundle, which is retried and rewrites the same files)."""

    def __init__(self, config: JobConfig, root: str, keys: list[str]):
        self.config, self.root = config, root
        self.rows = {key: Metrics.counter("campus_synth", f"rows[{key}]") for key in keys}

    def setup(self):
        self.engine = engine_for(self.config)
        self.settings = event_settings(_loaded(self.config)[1])
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-blocks")
        self.pending: deque = deque()

    def process(self, block: Block):
        if block.table == EVENTS:
            # each week is drawn while the previous week's file is written
            for week, batch in generate_events(self.engine, block, self.settings):
                yield from self._queue([(EVENTS, event_path(self.root, week, block.index),
                                         batch, EVENT_PARQUET)])
        else:
            yield from self._queue([
                (key, block_path(self.root, key, block.index), batch, parquet_options(batch))
                for key, batch in self.engine.block(
                    block.table, block.start, block.stop, block.companions).items()])

    def _queue(self, files: list):
        """Queue the writes of freshly drawn files, once the previous ones are written."""
        self._drain()
        for key, path, batch, options in files:
            self.pending.append(self.pool.submit(_write, path, batch, options))
            self.rows[key].inc(batch.num_rows)
            yield key, batch.num_rows

    def finish_bundle(self):
        self._drain()

    def _drain(self) -> None:
        while self.pending:
            self.pending.popleft().result()

    def teardown(self):
        self.pool.shutdown(wait=True)


def _write(path: str, batch: pa.RecordBatch, options: dict) -> None:
    with FileSystems.create(path) as handle:
        pq.write_table(pa.Table.from_batches([batch]), handle, **options)
    # the writer's buffers go back to the system now, not when the allocator gets to it:
    # otherwise they are still held while the next week is drawn (the peak)
    pa.default_memory_pool().release_unused()


class GenerateEventStore(beam.PTransform):
    """Event blocks → Parquet partitioned by event date."""

    def __init__(self, config: JobConfig, root: str):
        super().__init__()
        self.config, self.root = config, root

    def expand(self, cuts):
        return cuts | f"Generate[{EVENTS}]" >> beam.ParDo(
            GenerateBlocks(self.config, self.root, [EVENTS]))


def _all_blocks(config: JobConfig) -> tuple[list[str], list]:
    """(keys of every table written, blocks): every generated table and its companions,
    then the event store."""
    engine = engine_for(config)
    keys = generated_tables(engine)
    cuts = [cut for key in keys for cut in blocks(engine, key, config.settings.block_rows)]
    events = event_blocks(engine, config.settings.block_rows)
    written = [t.key for t in engine.registry if t.key in keys or t.generated_with in keys]
    return written + ([EVENTS] if events else []), cuts + events


class GenerateWarehouse(beam.PTransform):
    """Every generated table and the event store: all blocks of all tables, laid out in the
    foreign-key generation order, go through one shuffle (so workers share the whole job and
    the runner schedules a single stage) into one generic step."""

    def __init__(self, config: JobConfig, root: str):
        super().__init__()
        self.config, self.root = config, root

    def expand(self, pbegin):
        keys, cuts = _all_blocks(self.config)
        return (pbegin | "Blocks" >> beam.Create(cuts) | "Spread" >> beam.Reshuffle()
                | "Generate" >> beam.ParDo(GenerateBlocks(self.config, self.root, keys)))


def written_rows(config: JobConfig, root: str) -> dict[str, int]:
    """{table key: rows} read from the Parquet footers of every file the job wrote under
    `root` (for runners that report no metrics); tables without files are left out."""
    keys = [table.key for table in engine_for(config).registry] + [EVENTS]
    counts = {}
    for key in keys:
        pattern = "term_week=*/part-*.parquet" if key == EVENTS else "part-*.parquet"
        matched = FileSystems.match([FileSystems.join(table_dir(root, key), pattern)])[0]
        rows = 0
        for found in matched.metadata_list:
            with FileSystems.open(found.path) as handle:
                rows += pq.ParquetFile(handle).metadata.num_rows
        if matched.metadata_list:
            counts[key] = rows
    return counts


def block_count(config: JobConfig) -> int:
    """How many Parquet files the job writes, at most (for progress)."""
    engine = engine_for(config)
    settings = event_settings(config.settings)
    return sum(event_weeks(engine, cut, settings) if cut.table == EVENTS
               else len(cut.companions) + 1 for cut in _all_blocks(config)[1])
