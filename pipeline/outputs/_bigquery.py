"""Load a generated warehouse's Parquet into BigQuery, with explicit schemas from the registry.

One dataset per UDP schema (`context_store_entity`, `context_store_keymap`, `event_store`),
optionally prefixed (a staging prefix for the publish step). Every table is declared before it
is filled: column types and REQUIRED/NULLABLE from the registry (the event store's from its
Arrow schema, nested records included), descriptions from the registry; `event_store.expanded`
is partitioned by `event_date` and clustered by `tool, ucdm_course_offering_id`. Parquet is
never loaded schemaless: BigQuery would infer types from the files (and an emulator cannot).

Local Parquet files are loaded in batches of files (`load_table_from_file`, append); `gs://` output
is loaded with one wildcard URI per table (`load_table_from_uri`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.errors import PipelineError
from pipeline.udp._event_schema import (
    ARROW_SCHEMA,
    DESCRIPTION,
    DESCRIPTIONS,
    SCHEMA_NAME,
    TABLE_NAME,
)
from pipeline.udp._schema import Table

BQ_TYPES = {"int64": "INT64", "float64": "FLOAT64", "string": "STRING", "bool": "BOOL",
            "date": "DATE", "timestamp": "TIMESTAMP"}
EVENT_PARTITION = "event_date"
EVENT_CLUSTERING = ["tool", "ucdm_course_offering_id"]
LOAD_BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class LoadedTable:
    qualified_name: str       # project.dataset.table
    rows: int
    files: int


def registry_schema(table: Table) -> list:
    """The BigQuery schema of a registry table."""
    from google.cloud import bigquery

    return [bigquery.SchemaField(c.name, BQ_TYPES[c.type],
                                 mode="NULLABLE" if c.nullable else "REQUIRED",
                                 description=c.description or None)
            for c in table.columns]


def arrow_field(field: pa.Field, description: str | None = None):
    """A BigQuery SchemaField for an Arrow field (structs become RECORDs)."""
    from google.cloud import bigquery

    kind = field.type
    mode = "NULLABLE" if field.nullable else "REQUIRED"
    if pa.types.is_struct(kind):
        children = [arrow_field(kind.field(i)) for i in range(kind.num_fields)]
        return bigquery.SchemaField(field.name, "RECORD", mode=mode, fields=children,
                                    description=description)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        inner = arrow_field(pa.field(field.name, kind.value_type))
        return bigquery.SchemaField(field.name, inner.field_type, mode="REPEATED",
                                    fields=inner.fields, description=description)
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    for test, name in ((pa.types.is_integer, "INT64"), (pa.types.is_floating, "FLOAT64"),
                       (pa.types.is_boolean, "BOOL"), (pa.types.is_date, "DATE"),
                       (pa.types.is_string, "STRING"), (pa.types.is_large_string, "STRING")):
        if test(kind):
            return bigquery.SchemaField(field.name, name, mode=mode, description=description)
    if pa.types.is_timestamp(kind):
        return bigquery.SchemaField(field.name, "TIMESTAMP" if kind.tz else "DATETIME",
                                    mode=mode, description=description)
    raise PipelineError(f"{field.name}: no BigQuery type for Arrow type {kind}")


def event_schema(extras: dict[str, dict] | None = None) -> list:
    """The events' BigQuery schema: the event store's, then the source event table's own
    columns a run of its profile added ({name: {"type": registry type}})."""
    from google.cloud import bigquery

    return [arrow_field(f, DESCRIPTIONS.get(f.name)) for f in ARROW_SCHEMA] + [
        bigquery.SchemaField(name, BQ_TYPES[spec["type"]], mode="NULLABLE",
                             description="the source event table's own column, profiled")
        for name, spec in (extras or {}).items()]


def load_warehouse(client: Any, out: str | Path, project: str, tables: Iterable[Table],
                   events: bool = True, dataset_prefix: str = "", location: str | None = None,
                   on_table: Callable[[LoadedTable], None] | None = None,
                   event_extras: dict[str, dict] | None = None) -> list[LoadedTable]:
    """Load the Parquet under `out` (a folder or gs:// URI) into `project`'s datasets.

    Each table is replaced (truncate, then append file by file). Tables without Parquet
    files are created empty. Returns what was loaded."""
    from google.cloud import bigquery

    out_text = str(out)
    loaded: list[LoadedTable] = []
    specs = [(t.schema, t.name, registry_schema(t), t.description, None) for t in tables]
    if events:

        specs.append((SCHEMA_NAME, TABLE_NAME, event_schema(event_extras), DESCRIPTION,
                      "events"))
    for dataset in sorted({schema for schema, *_ in specs}):
        ref = bigquery.Dataset(f"{project}.{dataset_prefix}{dataset}")
        if location:
            ref.location = location
        client.create_dataset(ref, exists_ok=True)
    for schema, name, fields, description, kind in specs:
        table_id = f"{project}.{dataset_prefix}{schema}.{name}"
        table = bigquery.Table(table_id, schema=fields)
        table.description = description or None
        if kind == "events":
            table.time_partitioning = bigquery.TimePartitioning(field=EVENT_PARTITION)
            table.clustering_fields = EVENT_CLUSTERING
        client.delete_table(table_id, not_found_ok=True)
        client.create_table(table)
        if out_text.startswith("gs://"):
            rows, files = _load_uri(client, f"{out_text.rstrip('/')}/{schema}/{name}", table_id,
                                    fields)
        else:
            rows, files = _load_files(client, Path(out) / schema / name, table_id, fields)
        result = LoadedTable(table_id, rows, files)
        loaded.append(result)
        if on_table:
            on_table(result)
    return loaded


def _config(fields: list):
    from google.cloud import bigquery

    return bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET, schema=fields,
                                  write_disposition=bigquery.WriteDisposition.WRITE_APPEND)


def _load_files(client: Any, folder: Path, table_id: str, fields: list) -> tuple[int, int]:
    """Append the folder's Parquet files, batched into loads of about LOAD_BATCH_ROWS rows
    (one load job per file would cost a round trip per file: events have one per day)."""
    import io

    import pyarrow.parquet as pq

    files = sorted(folder.rglob("*.parquet"))
    rows, batch, batch_rows = 0, [], 0
    for index, path in enumerate(files):
        batch.append(pq.ParquetFile(path).read())
        batch_rows += batch[-1].num_rows
        if batch_rows < LOAD_BATCH_ROWS and index < len(files) - 1:
            continue
        buffer = io.BytesIO()
        pq.write_table(_in_order(pa.concat_tables(batch, promote_options="permissive"),
                                 fields), buffer)
        buffer.seek(0)
        job = client.load_table_from_file(buffer, table_id, job_config=_config(fields))
        try:
            job.result(timeout=600)
        except Exception as error:
            raise PipelineError(f"loading {folder} into {table_id}: {_reason(error)}") from None
        rows += batch_rows  # counted from the files: emulators report output_rows unevenly
        batch, batch_rows = [], 0
    return rows, len(files)


def _in_order(table: pa.Table, fields: list) -> pa.Table:
    """`table`'s columns in the schema's order. The generator writes a table's extras in an
    order of its own (sorted); BigQuery matches a Parquet load's columns to the schema by
    name, but an emulator matches them by position, and a profiled person table then failed
    to load (`region` cast to the INT64 of the column in its place)."""
    names = [f.name for f in fields]
    return table.select(names) if set(names) <= set(table.column_names) else table


def _load_uri(client: Any, prefix: str, table_id: str, fields: list) -> tuple[int, int]:
    job = client.load_table_from_uri(f"{prefix}/*", table_id,
                                     job_config=_config(fields))
    try:
        job.result(timeout=3600)
    except Exception as error:
        raise PipelineError(f"loading {prefix} into {table_id}: {_reason(error)}") from None
    return int(job.output_rows or 0), int(job.input_files or 0)


def _reason(error: BaseException) -> str:
    for item in getattr(error, "errors", None) or ():
        if isinstance(item, dict) and item.get("message"):
            return " ".join(str(item["message"]).split())
    return " ".join(str(error).split()[:60])
