"""Keys of the loaded warehouse: every primary key unique and present, every foreign key
resolving, and the row counts agreeing across DuckDB, the manifest and the plan."""

from __future__ import annotations

import pytest
from conftest import SMALL_FTE, connect, manifest

from pipeline import REGISTRY
from pipeline.cli._job import planned_rows
from pipeline.generate import Settings

TABLES = list(REGISTRY)
FOREIGN_KEYS = [(table, fk) for table in TABLES for fk in table.foreign_keys]


def _quoted(columns) -> str:
    return ", ".join(f'"{c}"' for c in columns)


@pytest.fixture(scope="module")
def db(small_warehouse):
    connection = connect(small_warehouse)
    yield connection
    connection.close()


def test_registry_covers_both_schemas():
    schemas = {table.schema for table in TABLES}
    assert schemas == {"context_store_entity", "context_store_keymap"}
    keys = [table.key for table in TABLES]
    assert len(keys) == len(set(keys))
    assert len({t.qualified_name for t in TABLES}) == len(TABLES)


def test_every_registry_table_is_in_the_warehouse(db):
    found = {f"{schema}.{name}" for schema, name in db.execute(
        "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
    assert {t.qualified_name for t in TABLES} <= found


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.qualified_name)
def test_columns_match_registry(db, table):
    columns = [row[0] for row in db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
        "AND table_name = ? ORDER BY ordinal_position", [table.schema, table.name]).fetchall()]
    assert columns == [c.name for c in table.columns]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.qualified_name)
def test_primary_key_unique_and_not_null(db, table):
    pk = _quoted(table.primary_key)
    total, distinct = db.execute(
        f"SELECT count(*), count(DISTINCT ({pk})) FROM {table.qualified_name}").fetchone()
    assert total > 0, f"{table.qualified_name} is empty"
    assert total == distinct, f"{table.qualified_name}: {total - distinct} duplicate keys"
    nulls = " OR ".join(f'"{c}" IS NULL' for c in table.primary_key)
    (null_rows,) = db.execute(
        f"SELECT count(*) FROM {table.qualified_name} WHERE {nulls}").fetchone()
    assert null_rows == 0


@pytest.mark.parametrize("table, fk", FOREIGN_KEYS,
                         ids=[f"{t.qualified_name}.{fk.column}" for t, fk in FOREIGN_KEYS])
def test_foreign_key_resolves(db, table, fk):
    parent = REGISTRY[fk.parent]
    assert len(parent.primary_key) == 1, f"{parent.qualified_name} has a composite key"
    (parent_pk,) = parent.primary_key
    dangling, example = db.execute(
        f'SELECT count(*), min(c."{fk.column}") FROM {table.qualified_name} c '
        f'WHERE c."{fk.column}" IS NOT NULL AND NOT EXISTS ('
        f'SELECT 1 FROM {parent.qualified_name} p WHERE p."{parent_pk}" = c."{fk.column}")'
    ).fetchone()
    assert dangling == 0, (f"{table.qualified_name}.{fk.column}: {dangling} rows point at no "
                           f"{parent.qualified_name}.{parent_pk} (e.g. {example})")


def test_counts_match_manifest_and_plan(db, small_warehouse, profile):
    data = manifest(small_warehouse)
    assert data["tool"] == "campus-synth"
    assert {"settings", "sources", "runner", "profile", "tables"} <= data.keys()
    assert data["settings"]["fte"] == SMALL_FTE and data["settings"]["terms"] == 2
    assert data["runner"] == "FnApiRunner"
    settings = Settings(fte=SMALL_FTE, seed=0, terms=2)
    plan = planned_rows(profile, settings)
    in_duckdb = {t.qualified_name: db.execute(f"SELECT count(*) FROM {t.qualified_name}")
                 .fetchone()[0] for t in TABLES}
    assert set(plan) == set(in_duckdb)
    events = data["tables"].pop("event_store.expanded")
    assert data["tables"] == in_duckdb
    assert in_duckdb == plan
    assert events == db.execute("SELECT count(*) FROM event_store.expanded").fetchone()[0] > 0


def test_keymap_tables_mirror_their_entities(db):
    for table in TABLES:
        if table.schema != "context_store_keymap":
            continue
        entity = REGISTRY[table.name]
        n_keymap = db.execute(f"SELECT count(*) FROM {table.qualified_name}").fetchone()[0]
        n_entity = db.execute(f"SELECT count(*) FROM {entity.qualified_name}").fetchone()[0]
        assert n_keymap == n_entity, table.qualified_name


def test_no_staging_folder_left(small_warehouse):
    leftovers = [p.name for p in small_warehouse.parent.iterdir() if ".partial-" in p.name
                 or ".old-" in p.name]
    assert leftovers == []


@pytest.mark.parametrize("table, column", [
    ("academic_organization", "parent_academic_organization_id"),
    ("learning_environment_organization", "parent_learning_environment_organization_id"),
])
def test_tree_root_has_null_parent(db, table, column):
    """The top of an organization tree has no parent: its (nullable) parent key is NULL,
    not a sentinel value."""
    qualified = REGISTRY[table].qualified_name
    nulls, negatives = db.execute(
        f'SELECT count(*) FILTER (WHERE "{column}" IS NULL), '
        f'count(*) FILTER (WHERE "{column}" < 0) FROM {qualified}').fetchone()
    assert negatives == 0, f"{qualified}.{column} holds {negatives} negative key(s)"
    assert nulls == 1
