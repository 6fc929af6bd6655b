"""Unizin's `udp_distributions.context_store_distributions` layout, both directions.

One row per categorical value (per conditional cell) with its proportion, one row per
continuous field (per cell) with its average, median, sd, min and max; a conditional cell
names its dependencies as comma-joined field names and values. A profile's `otherwise`
distribution is exported as the unconditional (zero-dependency) rows of the same field.
What the layout cannot hold (calendar, sizing, row counts, the campus skew) comes back from
the default profile on import, with a note.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from distributions._profile import load_profile
from pipeline.errors import DistributionsError
from pipeline.udp._registry import REGISTRY

SCHEMA = pa.schema([
    ("entity", pa.string()), ("field_name", pa.string()), ("field_value", pa.string()),
    ("distribution_type", pa.string()), ("avg_field_value", pa.float64()),
    ("median_field_value", pa.float64()), ("sd_field_value", pa.float64()),
    ("min_field_value", pa.float64()), ("max_field_value", pa.float64()),
    ("field_source", pa.string()), ("number_of_dependencies", pa.int64()),
    ("proportion", pa.float64()), ("dependency_field_names", pa.string()),
    ("dependency_field_values", pa.string()),
])


def export_udp_distributions(profile: dict) -> pa.Table:
    """The profile's column distributions as a udp_distributions table."""
    rows: list[dict] = []
    for entity, spec in profile["tables"].items():
        for field, dist in spec["columns"].items():
            rows += _rows(entity, field, dist, [], [])
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _rows(entity: str, field: str, dist: dict, names: list, values: list) -> list[dict]:
    base = {"entity": entity, "field_name": field, "field_source": "UCDM",
            "number_of_dependencies": len(names),
            "dependency_field_names": ",".join(names) or None,
            "dependency_field_values": ",".join(map(_text, values)) or None}
    if dist["kind"] == "conditional":  # cells may nest: their conditions accumulate
        out = _rows(entity, field, dist["otherwise"], names, values)
        for cell in dist["cells"]:
            out += _rows(entity, field, cell["distribution"], [*names, *dist["given"]],
                         [*values, *(cell["when"][g] for g in dist["given"])])
        return out
    if dist["kind"] == "categorical":
        return [{**base, "field_value": _text(item["value"]), "distribution_type": "categorical",
                 "proportion": float(item["p"])} for item in dist["values"]]
    if dist["kind"] == "continuous":
        value = dist.get("value")
        return [{**base, "distribution_type": "continuous",
                 "avg_field_value": dist.get("mean", value),
                 "median_field_value": dist.get("median", dist.get("quantiles", {}).get("0.5")),
                 "sd_field_value": dist.get("sd", 0.0 if value is not None else None),
                 "min_field_value": dist.get("min", value),
                 "max_field_value": dist.get("max", value)}]
    return []  # a foreign-key skew has no place in this layout


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def write_udp_distributions(profile: dict, out: str | Path) -> int:
    """Write the export to a .parquet or .csv file (atomically); returns the row count."""
    out = Path(out)
    if out.suffix not in (".parquet", ".csv"):
        raise DistributionsError(f"{out}: expected a .parquet or .csv file name")
    if not out.parent.is_dir():
        raise DistributionsError(f"{out}: the folder {out.parent} does not exist")
    if out.is_dir():  # (os.replace would fail after the export: IsADirectoryError)
        raise DistributionsError(f"{out}: a folder; give the export's file name, such as "
                                 f"{out / ('udp_distributions' + out.suffix)}")
    table = export_udp_distributions(profile)
    handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        if out.suffix == ".parquet":
            pq.write_table(table, temp)
        else:
            pacsv.write_csv(table, temp)
        os.replace(temp, out)
    finally:
        Path(temp).unlink(missing_ok=True)
    return table.num_rows


# ---- import -----------------------------------------------------------------------------------
def profile_from_udp_distributions(table: pa.Table, label: str = "udp_distributions"
                                   ) -> tuple[dict, list[str]]:
    """A profile from a udp_distributions table; the rest from the default, with notes."""

    entities = {t.name: t for t in REGISTRY if t.schema.endswith("entity")}
    profile = copy.deepcopy(load_profile())
    profile["name"] = f"profiled from {label} (udp_distributions)"
    notes = [f"{label}: only udp_distributions found; calendar, sizing, row counts, grading "
             "scheme, engagement and the campus skew come from the default profile"]
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in table.to_pylist():
        groups.setdefault((row.get("entity"), row.get("field_name")), []).append(row)
    for (entity, field), rows in sorted(groups.items(), key=lambda item: str(item[0])):
        table_spec = entities.get(entity)
        if table_spec is None or field not in {c.name for c in table_spec.columns} or \
                not table_spec.column(field).from_profile or table_spec.parent_of(field) and \
                field != "academic_session_id":
            notes.append(f"{entity}.{field}: not a profiled column of the generator; skipped")
            continue
        template = profile["tables"].setdefault(entity, {"columns": {}})["columns"].get(field, {})
        dist = _distribution(rows, table_spec.column(field).type, template)
        if dist is None:
            notes.append(f"{entity}.{field}: no usable rows; kept the default")
            continue
        profile["tables"][entity]["columns"][field] = dist
    return profile, notes


def _distribution(rows: list[dict], type_name: str, template: dict) -> dict | None:
    cells: dict[tuple, list[dict]] = {}
    for row in rows:
        names = tuple(filter(None, (row.get("dependency_field_names") or "").split(",")))
        values = tuple((row.get("dependency_field_values") or "").split(",")) if names else ()
        cells.setdefault((names, values), []).append(row)
    pooled = cells.pop(((), ()), None)
    plain = _cell(pooled, type_name, _inner(template)) if pooled else None
    if not cells:
        return plain
    given = list(next(iter(cells))[0])
    out = [{"when": dict(zip(given, values, strict=True)),
            "distribution": _cell(cell_rows, type_name, _inner(template))}
           for (names, values), cell_rows in cells.items() if list(names) == given]
    otherwise = plain or (template.get("otherwise") if template.get("kind") == "conditional"
                          else None)
    if otherwise is None:
        return None
    return {"kind": "conditional", "given": given, "cells": [c for c in out if c["distribution"]],
            "otherwise": otherwise}


def _inner(template: dict) -> dict:
    return template.get("otherwise", template) if template.get("kind") == "conditional" \
        else template


def _cell(rows: list[dict], type_name: str, template: dict) -> dict | None:
    kinds = {row.get("distribution_type") for row in rows}
    if kinds == {"categorical"}:
        total = sum(float(row.get("proportion") or 0) for row in rows)
        if total <= 0:
            return None
        return {"kind": "categorical",
                "values": [{"value": _value(row.get("field_value"), type_name),
                            "p": round(float(row.get("proportion") or 0) / total, 9)}
                           for row in rows]}
    if kinds == {"continuous"}:
        return _continuous(rows[0], template)
    return None


def _continuous(row: dict, template: dict) -> dict | None:
    lo, hi, mean = (row.get(f"{x}_field_value") for x in ("min", "max", "avg"))
    if lo is None or hi is None or mean is None:
        return None
    sd = float(row.get("sd_field_value") or 0.0)
    median = row.get("median_field_value")
    if hi <= lo:
        spec = {"kind": "continuous", "family": "constant", "value": float(lo)}
    else:
        family = template.get("family") if template.get("family") in ("normal", "lognormal") \
            else ("lognormal" if lo >= 0 and median is not None and mean > median else "normal")
        spec = {"kind": "continuous", "family": family, "mean": min(max(float(mean), lo), hi),
                "sd": sd, "min": float(lo), "max": float(hi)}
        if median is not None:
            spec["median"] = float(median)
    for key in ("integer", "unit", "null_fraction"):
        if key in template:
            spec[key] = template[key]
    return spec


def _value(text: str | None, type_name: str):
    if text is None:
        return None
    if type_name in ("int64", "float64"):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text
