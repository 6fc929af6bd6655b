"""Keymap rows: the source-system ids behind each UDP surrogate key.

LMS ids look like Canvas ids (a short id, and the long form with the shard offset); SIS ids
are institution-style codes. Entities only one system carries have nulls for the other.
"""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate._engine import Engine, rule
from pipeline.udp._schema import Table

CANVAS_SHARD = 17_700_000_000_000_000


def _short_ids(table: Table, rows: np.ndarray) -> np.ndarray:
    """Canvas-like short ids: per-table base so ids of different tables look different."""
    base = 1000 + (zlib.crc32(table.name.encode()) % 90) * 1000
    return base * 1000 + rows + 1


@rule("keymap")
def keymap(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Columns of a keymap table: the entity key and its source-system ids."""
    if column == "id":
        return rows
    has_lms, has_sis = table.system in ("lms", "both"), table.system in ("sis", "both")
    if column.startswith("lms") and not has_lms or column.startswith("sis") and not has_sis:
        return pa.nulls(len(rows), pa.string())
    short = _short_ids(table, rows)
    if column == "lms_ext_id":
        return pc.cast(pa.array(short), pa.string())
    if column == "lms_int_id":
        return pc.cast(pa.array(CANVAS_SHARD + short), pa.string())
    prefix = "".join(part[0] for part in table.name.split("_")).upper()
    digits = pc.utf8_lpad(pc.cast(pa.array(rows + 1), pa.string()), 8, "0")
    return pc.binary_join_element_wise(prefix, digits, "")
