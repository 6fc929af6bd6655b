"""The switch of a publication: each consumer-facing dataset gets the run's tables by copy
jobs (WRITE_TRUNCATE, one dataset's copies started together), and a failure part-way copies
the previous run back (or drops what this run added), so consumers see the previous
publication (the whole story: pipeline/outputs/_publish.py).
"""

from __future__ import annotations

from contextlib import suppress

from pipeline.outputs._run_datasets import (
    CONSUMER_DATASETS,
    RUN_LABEL,
    published_datasets,
    run_prefix,
)


def current_run(client, project: str) -> str | None:
    """The run the consumer-facing tables carry (None before the first publication)."""
    from google.api_core.exceptions import NotFound

    for name in CONSUMER_DATASETS:
        try:
            items = list(client.list_tables(f"{project}.{name}"))
        except NotFound:
            continue
        for item in items:
            run = (client.get_table(item.reference).labels or {}).get(RUN_LABEL)
            if run:
                return run
    return None


def _consumer_tables(client, project: str, name: str) -> dict[str, str | None]:
    """{table: its run label} in one consumer-facing dataset ({} when it does not exist)."""
    from google.api_core.exceptions import NotFound

    try:
        items = list(client.list_tables(f"{project}.{name}"))
    except NotFound:
        return {}
    return {i.table_id: (client.get_table(i.reference).labels or {}).get(RUN_LABEL)
            for i in items}


def consumer_rows(client, project: str, token: str) -> dict[str, int]:
    rows = {}
    for name in CONSUMER_DATASETS:
        for table, run in _consumer_tables(client, project, name).items():
            if run == token:
                rows[f"{name}.{table}"] = int(client.get_table(
                    f"{project}.{name}.{table}").num_rows or 0)
    return rows


def _copy_dataset(client, project: str, source_prefix: str, name: str,
                  location: str | None) -> dict[str, int]:
    """Every table of `source_prefix + name` over `name`: the copies started together, each
    replacing its table atomically; then the source's description, labels and column
    descriptions on each (a copy carries data, schema, partitioning and clustering)."""
    from google.cloud import bigquery

    dataset = bigquery.Dataset(f"{project}.{name}")
    if location:
        dataset.location = location
    client.create_dataset(dataset, exists_ok=True)
    config = bigquery.CopyJobConfig(write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
                                    create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED)
    sources = [client.get_table(i.reference)
               for i in client.list_tables(f"{project}.{source_prefix}{name}")]
    jobs = [(source, client.copy_table(source, f"{project}.{name}.{source.table_id}",
                                       job_config=config)) for source in sources]
    rows = {}
    for _, job in jobs:
        job.result(timeout=1800)
    for source, _ in jobs:
        target = client.get_table(f"{project}.{name}.{source.table_id}")
        target.description = source.description
        target.labels = dict(source.labels or {})
        target.schema = source.schema
        client.update_table(target, ["description", "labels", "schema"])
        rows[f"{name}.{source.table_id}"] = int(source.num_rows or 0)
    return rows


def switch_to(client, project: str, prefix: str, token: str, previous: str | None,
            location: str | None) -> tuple[list[str], dict[str, int]]:
    names = published_datasets(client, project, prefix)
    before = {name: _consumer_tables(client, project, name) for name in CONSUMER_DATASETS}
    previous_prefix = run_prefix(previous) if previous else None
    if previous_prefix and not published_datasets(client, project, previous_prefix):
        previous_prefix = None            # its datasets are gone: nothing to copy back
    touched, rows = [], {}
    try:
        for name in names:
            touched.append(name)
            rows.update(_copy_dataset(client, project, prefix, name, location))
        # a campus-synth table the new run no longer has would mislead: it goes
        for name in CONSUMER_DATASETS:
            for table, run in before[name].items():
                if run and f"{name}.{table}" not in rows:
                    if name not in touched:
                        touched.append(name)
                    client.delete_table(f"{project}.{name}.{table}", not_found_ok=True)
    except Exception:
        _restore(client, project, touched, before, previous_prefix, location)
        raise
    return names, rows


def _restore(client, project: str, touched: list[str], before: dict, previous_prefix,
             location) -> None:
    """Put the touched datasets back as they were: the previous run's tables copied back,
    tables that did not exist before dropped."""
    for name in touched:
        if previous_prefix:
            # a failure here must not hide the original error, which is the one reported
            with suppress(Exception):
                _copy_dataset(client, project, previous_prefix, name, location)
        for item in list(client.list_tables(f"{project}.{name}")):
            if item.table_id not in before[name]:
                client.delete_table(item.reference, not_found_ok=True)
