"""Hand-built source warehouses: small UDP-shaped institutions made with numpy/pandas/DuckDB
only (never with campus-synth), each unlike the default profile in one way.

Every builder writes a source `campus-synth profile --source` reads — a DuckDB file with the
schema `context_store_entity` (and `event_store.expanded` for events) or a folder of Parquet
files — and returns its path. Tables and columns carry UDP names (pipeline/udp/_tables.py); keys
are large integers unlike row numbers, so nothing leans on the generator's key layout.

    from handbuilt import SOURCES, build
    path = build("huge_sections", tmp_path)      # or SOURCES["huge_sections"](tmp_path)

The sources (each ≤ ~30,000 rows):
- `huge_sections`  ~1,500 student enrollments per offering, 4 offerings, 1 section each;
- `one_term`       students in one term (a tenth in two) across four 36-week terms:
                   1.1 enrollments per student, no person__academic_term table;
- `extra_columns`  person.region / age_band / disability / imd_band and enrollment
                   final_result / registration_day, all tied to the student's scores;
- `weights_200`    assignment-group weights summing to 200 per course (exam 100 + work 100);
- `events`         an event_store.expanded without `ed_app.name` and `membership`, busier
                   students (lognormal rates) the better they score;
- `withdrawal`     withdrawal strongly tied to low scores; the withdrawn have result rows for
                   part of their work only (a fifth of them none at all);
- `all_submitted`  no unsubmitted work: every result is submitted and graded;
- `one_row`        a table of one row (a single campus, a single-term institution);
- `sparse`         (not in SHAPES) `one_row` without optional tables and columns.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
from handbuilt_events import _events

# the tables and the events are drawn in modules of their own; their public names are
# importable from here, as every test and benchmark does
from handbuilt_institution import KEY_BASE, LETTERS, Shape, institution  # noqa: F401

# ---- the shapes -----------------------------------------------------------------------------
SHAPES: dict[str, Shape] = {
    "huge_sections": Shape(offerings_per_term=2, sections_per_offering=(1, 1), students=2600,
                           courses_per_term=(1, 2), terms_per_student=(0.5, 0.5),
                           groups_per_offering=(1, 1), activities_per_group=(2, 2),
                           campuses=1),
    "one_term": Shape(terms=4, term_weeks=36, offerings_per_term=4, sections_per_offering=(1, 1),
                      students=1800, terms_per_student=(0.9, 0.1), courses_per_term=(1, 1),
                      groups_per_offering=(2, 2), activities_per_group=(2, 3),
                      person_terms=False, first_term=("Spring", 2013, "02-01")),
    "extra_columns": Shape(extra_columns=True, students=1000),
    "weights_200": Shape(weight_total=200.0, students=400),
    "events": Shape(students=300, offerings_per_term=6),
    "withdrawal": Shape(students=500, withdrawn=0.15, withdrawal_by_score=2.0,
                        withdrawn_rows_dropped=True),
    "all_submitted": Shape(students=400, unsubmitted=0.0),
    "one_row": Shape(terms=1, students=300, campuses=1, offerings_per_term=10),
}


# optional tables and columns a `sparse` source lacks (a robustness case, not in SHAPES)
SPARSE_DROPS = {"course_offering": ["course_level", "cip_family"],
                "course_section": ["max_enrollment"],
                "academic_term": ["term_type", "instr_end_date"],
                "course_section_enrollment": ["role_status"],
                "learner_activity": ["learner_activity_group_id"]}
SPARSE_TABLES = ("learner_activity_group", "course_grade", "person__academic_term")


def build(name: str, folder: Path, parquet: bool = False) -> Path:
    """Write source `name` under `folder` (a .duckdb file, or a Parquet folder); its path.
    `sparse` is the `one_row` institution without SPARSE_TABLES and SPARSE_DROPS."""
    shape = SHAPES["one_row" if name == "sparse" else name]
    tables = institution(shape)
    if name == "sparse":
        tables = {t: f.drop(columns=SPARSE_DROPS.get(t, [])) for t, f in tables.items()
                  if t not in SPARSE_TABLES}
    events = _events(tables, shape) if name == "events" else None
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if parquet:
        return write_parquet(folder / name, tables, events)
    return write_duckdb(folder / f"{name}.duckdb", tables, events)


def _builder(name: str):
    def make(folder: Path, parquet: bool = False) -> Path:
        return build(name, folder, parquet)
    make.__name__ = make.__qualname__ = f"build_{name}"
    make.__doc__ = f"The `{name}` source (see the module docstring)."
    return make


SOURCES = {name: _builder(name) for name in SHAPES}


# ---- writers --------------------------------------------------------------------------------
def write_duckdb(path: Path, tables: dict[str, pd.DataFrame],
                 events: pd.DataFrame | None = None) -> Path:
    """A DuckDB file with `context_store_entity.<table>` (and `event_store.expanded`)."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA context_store_entity")
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE context_store_entity.{name} AS SELECT * FROM frame")
            con.unregister("frame")
        if events is not None:
            con.execute("CREATE SCHEMA event_store")
            con.register("frame", events)
            con.execute(_EVENT_SQL.format(target="event_store.expanded"))
            con.unregister("frame")
    finally:
        con.close()
    return path


def write_parquet(folder: Path, tables: dict[str, pd.DataFrame],
                  events: pd.DataFrame | None = None) -> Path:
    """A folder with one `<table>.parquet` per table (and `expanded.parquet`)."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"COPY (SELECT * FROM frame) TO '{folder / name}.parquet' (FORMAT parquet)")
            con.unregister("frame")
        if events is not None:
            con.register("frame", events)
            con.execute(_EVENT_SQL.format(target="ev"))
            con.execute(f"COPY ev TO '{folder / 'expanded.parquet'}' (FORMAT parquet)")
    finally:
        con.close()
    return folder


def rewrite_column(path: Path, column: str, sql: str) -> None:
    """Rewrite `column` of the Parquet file `path` in place as the SQL expression `sql` over
    its rows (a source made messy after it was built)."""
    rewritten = path.with_name(f"rewritten-{path.name}")
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT * REPLACE ({sql} AS {column}) FROM '{path}') "
                    f"TO '{rewritten}' (FORMAT parquet)")
    rewritten.replace(path)


# the event rows as UDP nests them: records for object, ed_app (no name), person and course
# offering; no membership column at all
_EVENT_SQL = """CREATE TABLE {target} AS SELECT id, type, action, event_time,
  CAST(event_time AS DATE) AS event_date,
  {{'id': object_id, 'type': object_type, 'udp_id': object_udp_id}} AS object,
  {{'id': app_id}} AS ed_app,
  {{'id': 'urn:person:' || CAST(person AS VARCHAR), 'udp_id': person}} AS person,
  {{'id': 'urn:course:' || CAST(offering AS VARCHAR), 'udp_id': offering}} AS course_offering
FROM frame"""


def shape_of(name: str, **changes) -> Shape:
    """A named shape with some fields changed (for one-off sources in a test)."""
    return replace(SHAPES[name], **changes)
