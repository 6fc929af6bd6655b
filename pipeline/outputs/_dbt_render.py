"""The dbt project's staging layer over the context store, rendered from the registry.

`render_staging` gives one `stg_<source>__<table>` view per generated table that only renames
and casts, and one YAML file with its sources, descriptions and tests — unique and not_null on
every key, relationships on every foreign key, accepted values for the option sets of the
default profile; `render_distribution_fields` the macro listing the fields
udp_distributions.context_store_distributions describes, `render_distribution_parts` the mart's
part models (one table per context-store table, which the mart unions). The rendered files are
committed (`python -m pipeline.outputs._dbt_render` writes them); a test checks they match the
registry.
"""

from __future__ import annotations

import json
from pathlib import Path

from distributions import load_profile
from pipeline.outputs._dbt import PROJECT_DIR
from pipeline.udp._registry import REGISTRY
from pipeline.udp._schema import ENTITY, KEYMAP, Table

STAGING_DIR = PROJECT_DIR / "models" / "staging" / "context_store"
DISTRIBUTIONS_DIR = PROJECT_DIR / "models" / "intermediate" / "distributions"
DISTRIBUTION_PART = "int_distributions__"  # + the context-store table
SOURCES = {ENTITY: "context_store", KEYMAP: "context_store_keymap"}


def staging_name(table: Table) -> str:
    return f"stg_{SOURCES[table.schema]}__{table.name}"


def _renamed(table: Table, column: str) -> str:
    """A keymap's `id` is the entity's key: it gets the entity key's name."""
    return f"{table.name}_id" if table.schema == KEYMAP and column == "id" else column


def render_staging(registry=None, profile_doc: dict | None = None) -> dict[str, str]:
    """{file name: text} of the context-store staging layer (models, sources, tests)."""
    registry = registry or REGISTRY
    profile_doc = profile_doc or load_profile()
    tables = [t for t in registry if t.schema in SOURCES]
    files = {f"{staging_name(t)}.sql": _staging_sql(t) for t in tables}
    files["_context_store__sources.yml"] = _sources_yaml(tables)
    files["_context_store__models.yml"] = _models_yaml(tables, registry, profile_doc)
    return files


def render_distribution_fields(registry=None, profile_doc: dict | None = None) -> str:
    """`macros/distribution_fields.sql`: the fields udp_distributions.context_store_distributions
    describes — every column distribution of the default profile, with its kind, the
    columns it is conditional on, its registry type and the unit the profile measures it in
    (a due date as a fraction of its term, a score as a fraction of the points, ...)."""
    fields = _distribution_fields(registry or REGISTRY, profile_doc or load_profile())
    body = "[\n" + ",\n".join("  " + json.dumps(f).replace(": null", ": none")
                               for f in fields) + "\n]"
    return ("{#- Rendered by pipeline/outputs/_dbt_render.py from the default profile and the "
            "registry; do not edit.\n    The fields context_store_distributions describes. -#}\n"
            "{% macro distribution_fields() %}\n{{ return(" + body + ") }}\n{% endmacro %}\n")


def render_distribution_parts(registry=None, profile_doc: dict | None = None) -> dict[str, str]:
    """{file name: text} of the mart's parts: one `int_distributions__<table>` model per
    context-store table with a field in distribution_fields(), holding that table's rows of
    udp_distributions.context_store_distributions (macros/udp_distributions.sql), and their
    YAML. The mart is their union: no one query aggregates every field of the warehouse at
    once, which at 200,000 FTE took DuckDB's whole memory limit (issue 16)."""
    registry = registry or REGISTRY
    fields = _distribution_fields(registry, profile_doc or load_profile())
    tables: dict[str, list[str]] = {}
    for f in fields:
        tables.setdefault(f["entity"], []).append(f["field"])
    files = {f"{DISTRIBUTION_PART}{table}.sql": _part_sql(table) for table in tables}
    models = [{
        "name": f"{DISTRIBUTION_PART}{table}",
        "description": f"{table}'s rows of udp_distributions.context_store_distributions, "
                       f"the fields {', '.join(names)}. Grain: one row per field, dependency "
                       "cell and (categorical) value, as the mart's.",
        "data_tests": [{"unique_combination": {"arguments": {"columns": [
            "field_name", "field_value", "number_of_dependencies",
            "dependency_field_values"]}}}],
        "columns": [{"name": "entity", "description": f"always {table}"},
                    {"name": "field_name", "description": "the field (column)"}],
    } for table, names in tables.items()]
    files[f"_{DISTRIBUTION_PART}models.yml"] = _yaml({"version": 2, "models": models})
    return files


def _part_sql(table: str) -> str:
    return (f"-- {table}'s rows of udp_distributions.context_store_distributions "
            "(macros/udp_distributions.sql);\n-- the mart is the union of one such table per "
            "context-store table.\n-- Rendered by pipeline/outputs/_dbt_render.py from the "
            "default profile; do not edit.\n\nwith distributions as (\n"
            f"    {{{{ udp_distribution_part('{table}') }}}}\n),\n\n"
            "final as (\n\n    select * from distributions\n\n)\n\nselect * from final\n")


def _distribution_fields(registry, profile_doc: dict) -> list[dict]:
    """The fields of distribution_fields(), as dicts (see render_distribution_fields)."""
    fields = []
    for table, spec in profile_doc["tables"].items():
        for name, dist in spec.get("columns", {}).items():
            inner = dist["otherwise"] if dist["kind"] == "conditional" else dist
            if inner["kind"] not in ("categorical", "continuous"):
                continue  # a foreign-key skew has no place in the layout
            given = []
            for column in dist.get("given", []):
                if "." in column:
                    fk, parent_column = column.split(".", 1)
                    parent = registry[registry[table].parent_of(fk)]
                    given.append({"name": column, "fk": fk, "parent": parent.name,
                                  "parent_key": parent.primary_key[0],
                                  "column": parent_column})
                else:
                    given.append({"name": column})
            fields.append({"entity": table, "field": name, "kind": inner["kind"],
                           "type": registry[table].column(name).type,
                           "unit": inner.get("unit"), "given": given})
    return fields


def _staging_sql(table: Table) -> str:
    width = max(len(c.name) for c in table.columns)
    lines = []
    for column in table.columns:
        cast = f"{{{{ cs_cast('{column.name}', '{column.type}') }}}}"
        lines.append(f"        {cast:<{width + 30}} as {_renamed(table, column.name)}")
    return (f"-- {table.description or table.name} Rendered by "
            "pipeline/outputs/_dbt_render.py from the registry: only renames and casts.\n\n"
            f"with source as (\n\n    select * from {{{{ source('{SOURCES[table.schema]}', "
            f"'{table.name}') }}}}\n\n),\n\nrenamed as (\n\n    select\n"
            + ",\n".join(lines) + "\n    from source\n\n),\n\nfinal as (\n\n"
            "    select * from renamed\n\n)\n\nselect * from final\n")


def _sources_yaml(tables: list[Table]) -> str:
    sources = []
    for schema, name in SOURCES.items():
        sources.append({
            "name": name,
            "description": f"The generated UDP {schema} (a schema of the DuckDB warehouse, a "
                           "dataset on BigQuery).",
            "schema": f"{{{{ var('{schema}_schema') }}}}",
            "tables": [{"name": t.name, "description": t.description or t.name}
                       for t in tables if t.schema == schema],
        })
    return _yaml({"version": 2, "sources": sources})


def _accepted_values(profile_doc: dict) -> dict[tuple[str, str], list]:
    found: dict[tuple[str, str], list] = {}
    for table, spec in profile_doc["tables"].items():
        for column, dist in spec.get("columns", {}).items():
            parts = _leaves(dist)  # a conditional's cells may nest (learned dependencies)
            if any(p["kind"] != "categorical" for p in parts):
                continue
            values: list = []
            for part in parts:
                for item in part["values"]:
                    if item["value"] is not None and item["value"] not in values:
                        values.append(item["value"])
            found[(table, column)] = values
    return found


def _leaves(dist: dict) -> list[dict]:
    if dist["kind"] != "conditional":
        return [dist]
    return [leaf for part in (dist["otherwise"], *(c["distribution"] for c in dist["cells"]))
            for leaf in _leaves(part)]


def _models_yaml(tables: list[Table], registry, profile_doc: dict) -> str:
    options = _accepted_values(profile_doc)
    models = []
    for table in tables:
        key = [_renamed(table, c) for c in table.primary_key]
        columns = []
        for column in table.columns:
            name = _renamed(table, column.name)
            tests: list = []
            if name in key:
                tests.append("not_null")
                if len(key) == 1:
                    tests.append("unique")
            parent = table.parent_of(column.name)
            if parent:
                parent_table = registry[parent]
                tests.append({"relationships": {"arguments": {
                    "to": f"ref('{staging_name(parent_table)}')",
                    "field": parent_table.primary_key[0]}}})
            values = options.get((table.name, column.name)) \
                if table.schema == ENTITY and column.name != "academic_session_id" else None
            if values:
                quote = column.type == "string"
                tests.append({"accepted_values": {
                    "arguments": {"values": [str(v) if quote else v for v in values],
                                  "quote": quote},
                    "config": {"severity": "{{ var('option_set_severity') }}"}}})
            entry = {"name": name}
            if column.description:
                entry["description"] = column.description
            if tests:
                entry["data_tests"] = tests
            columns.append(entry)
        model = {"name": staging_name(table),
                 "description": f"{table.description} Grain: one row per "
                                f"{', '.join(key)}.",
                 "columns": columns}
        if len(key) > 1:
            model["data_tests"] = [{"unique_combination": {"arguments": {"columns": key}}}]
        models.append(model)
    return _yaml({"version": 2, "models": models})


def _yaml(document: dict) -> str:
    import yaml

    return ("# Rendered by pipeline/outputs/_dbt_render.py from the registry and the default "
            "profile; do not edit.\n" + yaml.safe_dump(document, sort_keys=False, width=100))


def write_staging(directory: Path = STAGING_DIR) -> list[Path]:
    """Render the staging layer into `directory` (`python -m pipeline.outputs._dbt_render`)."""
    written = _write_rendered(directory, render_staging(), "stg_*.sql")
    macro = PROJECT_DIR / "macros" / "distribution_fields.sql"
    macro.write_text(render_distribution_fields(), encoding="utf-8")
    return [*written, macro, *write_distribution_parts()]


def write_distribution_parts(directory: Path = DISTRIBUTIONS_DIR) -> list[Path]:
    """Render the mart's part models into `directory`, removing any of a table no longer
    described."""
    return _write_rendered(directory, render_distribution_parts(), f"{DISTRIBUTION_PART}*.sql")


def _write_rendered(directory: Path, files: dict[str, str], stale: str) -> list[Path]:
    """Write rendered `files` into `directory`; a file matching `stale` that was not
    rendered (a table no longer in the registry or profile) is removed."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for path in directory.glob(stale):
        if path not in written:
            path.unlink()
    return written


if __name__ == "__main__":
    for path in write_staging():
        print(path.relative_to(PROJECT_DIR.parent))
