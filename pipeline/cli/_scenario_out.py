"""What a scenario leaves in a run's outputs: the manifest entry, DuckDB table comments, and
its errors as the user's errors.

The scenario travels to the Beam workers inside the job's profile (key `scenario`: name,
source file, sha256 of the file's bytes, the validated document), so every worker plans the
same extended registry; the manifest and the comments record the same file and digest.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import duckdb

from distributions._scenario import scenario_profile
from distributions._scenario_reach import touched_tables
from pipeline.errors import ScenarioError
from pipeline.udp._sql_text import string_literal


def with_scenario(profile: dict, scenario: dict | None) -> dict:
    """The profile a job runs: the baseline, with the scenario's engagement values, plus the
    scenario under `scenario` (distributions/_scenario.py scenario_profile)."""
    return scenario_profile(profile, scenario)


def scenario_manifest(scenario: dict | None) -> dict:
    """The run manifest's `scenario` entry (nothing without a scenario)."""
    if not scenario:
        return {}
    return {"scenario": {"name": scenario["name"], "source": scenario["source"],
                         "sha256": scenario["sha256"], "tables": touched_tables(scenario),
                         "document": scenario["document"]}}


def describe_scenario(warehouse: Path, scenario: dict | None) -> None:
    """Append the scenario's name, file and digest to the comment of every table it adds
    or changes, so a reader of the warehouse sees which rows carry a baked-in effect."""
    if not scenario:
        return
    note = (f"[scenario {scenario['name']}: {Path(scenario['source']).name}, "
            f"sha256 {scenario['sha256']}]")
    with duckdb.connect(str(warehouse)) as connection:
        for qualified in touched_tables(scenario):
            schema, name = qualified.split(".")
            found = connection.execute(  # the event store is a view over its Parquet
                "SELECT comment, 'TABLE' FROM duckdb_tables() WHERE schema_name = $1 AND "
                "table_name = $2 UNION ALL SELECT comment, 'VIEW' FROM duckdb_views() "
                "WHERE schema_name = $1 AND view_name = $2", [schema, name]).fetchall()
            if not found:  # the event store, in a run that generated no events
                continue
            text = f"{found[0][0]} {note}".strip() if found[0][0] else note
            connection.execute(f"COMMENT ON {found[0][1]} {qualified} IS "
                               f"{string_literal(text)}")


@contextmanager
def scenario_errors(scenario: dict | None):
    """A ScenarioError raised inside a Beam worker (a division by zero over real rows)
    reaches the user as itself: one message naming the file and path, exit code 2. With a
    scenario, Beam's own log of a failed bundle is muted: the error is reported once, by
    the CLI, without a traceback (any other error still propagates with its own)."""
    beam_log = logging.getLogger("apache_beam.runners.common")
    level = beam_log.level
    if scenario:
        beam_log.setLevel(logging.CRITICAL)
    try:
        yield
    except ScenarioError:
        raise
    except Exception as error:
        cause = _scenario_cause(error)
        if cause is None:
            raise
        raise ScenarioError(cause.source, cause.problems) from None
    finally:
        beam_log.setLevel(level)


def _scenario_cause(error: BaseException) -> ScenarioError | None:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, ScenarioError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
