"""How the corpus's profiling sources are made dirty (see bad_input_corpus_sources.py): the
mutations of the tables before they are written (`_set`, `_rename`, ...) and the damage done
to the written files or database after (`_zero_bytes`, `_garbage`, `_ragged`, ...)."""

from __future__ import annotations

import csv
import gzip
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from test_profile_inputs import ID_BASE, small_tables, write_csv

RESULTS = "learner_activity_result"


def _set(table, column, values):
    def mutate(tables):
        count = len(next(iter(tables[table].values())))
        tables[table][column] = values(count) if callable(values) else values
    return mutate


def _rename(table, old, new):
    def mutate(tables):
        tables[table] = {new if c == old else c: v for c, v in tables[table].items()}
    return mutate


def _keep_rows(table, rows):
    def mutate(tables):
        tables[table] = {c: v[:rows] for c, v in tables[table].items()}
    return mutate


def _upper_columns(tables):
    for name in list(tables):
        tables[name] = {c.upper(): v for c, v in tables[name].items()}


def _file(name):
    def damage(folder, source):
        for path in Path(source).glob(f"{name}.*"):
            return path
        raise AssertionError(f"no file of {name}")
    return damage


def _zero_bytes(name):
    return lambda folder, source: _file(name)(folder, source).write_bytes(b"")


def _garbage(name):
    return lambda folder, source: _file(name)(folder, source).write_bytes(b"PAR1" + bytes(
        range(256)) * 8)


def _header_only(name):
    def damage(folder, source):
        path = _file(name)(folder, source)
        path.write_text(path.read_text().split("\n", 1)[0] + "\n")
    return damage


def _latin1_names(folder, source):
    path = Path(source) / "person.csv"
    text = path.read_text().replace("Zebulon", "Zébulon")
    path.write_bytes(text.encode("latin-1"))


def _duplicate_header(folder, source):
    path = Path(source) / "person.csv"
    header, rest = path.read_text().split("\n", 1)
    path.write_text(header.replace("sex", "sex", 1) + ",sex\n" + "\n".join(
        line + ",Male" if line else line for line in rest.split("\n")))


def _as_empty_folder(name):
    def damage(folder, source):
        _file(name)(folder, source).unlink()
        (Path(source) / name).mkdir()
    return damage


def _two_levels(folder, source):
    """The results as Parquet partitioned two levels deep (year=/month=/part-0.parquet)."""
    path = _file(RESULTS)(folder, source)
    table = pq.read_table(path)
    path.unlink()
    for month, part in enumerate((table.slice(0, 100), table.slice(100))):
        where = Path(source) / RESULTS / "year=2024" / f"month={month + 1:02d}"
        where.mkdir(parents=True)
        pq.write_table(part, where / "part-0.parquet")


def _json_grades(folder, source):
    (Path(source) / "course_grade").mkdir()
    (Path(source) / "course_grade" / "grades.json").write_text("{}")


def _loop_entry(folder, source):
    os.symlink(Path(source) / "loop", Path(source) / "loop")


def _extra_tables(tables):
    tables["weather"] = {"day": ["2024-09-01"] * 3, "rain_mm": [1.0, 0.0, 3.5]}
    tables["course_section_enrollment_backup"] = dict(tables["course_section_enrollment"])


def _person_twice(folder, source):
    """person as CSV beside its Parquet file, and person_email again in upper case."""
    write_csv(Path(source), {"person": small_tables()["person"]})
    (Path(source) / "PERSON_EMAIL.csv").write_text("person_id,email_address\n1,a@b.org\n")


def _other_schema(folder, source):
    with duckdb.connect(str(source)) as connection:
        connection.execute("CREATE SCHEMA sis; CREATE TABLE sis.person AS SELECT 1 AS x")
        connection.execute("CREATE SCHEMA context_store_keymap; CREATE TABLE "
                           "context_store_keymap.person AS SELECT 'abc' AS id")


def _stray_files(folder, source):
    """Files of no UDP table that cannot be read: a truncated backup, a dangling link."""
    (Path(source) / "backup_2023.parquet").write_bytes(b"PAR1 cut short")
    os.symlink(folder / "nowhere.parquet", Path(source) / "weather.parquet")


def _stray_view_named(name):
    """A view `name` over a Parquet file that has since been deleted."""
    def damage(folder, source):
        moved = folder / "moved.parquet"
        pq.write_table(pa.table({"x": [1]}), moved)
        with duckdb.connect(str(source)) as connection:
            connection.execute(f'DROP TABLE IF EXISTS "{name}"')
            connection.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM '{moved}'")
        moved.unlink()
    return damage


_stray_view = _stray_view_named("weather")


HOLDER = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
          "c.execute('CREATE TABLE IF NOT EXISTS held (x INT)'); print('ready', flush=True); "
          "time.sleep(120)")


def _held_for_writing(folder, source):
    """Another process holds the DuckDB file open for writing (killed by the harness:
    `folder/.holder.pid`)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(source)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    (folder.parent / f".holder-{folder.name}.pid").write_text(str(process.pid))


def _lonely_person(tables):
    person = tables["person"]  # its person_id list is person_email's too: copy it
    for column, value in (("person_id", ID_BASE + 99_999), ("name", "N N"),
                          ("first_name", "N"), ("last_name", "N"), ("sex", "Male")):
        person[column] = [*person[column], value]


def _gzipped(folder, source):
    for path in Path(source).glob("*.csv"):
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()


def _tab_separated(folder, source):
    for path in Path(source).glob("*.csv"):
        path.with_suffix(".tsv").write_text(path.read_text().replace(",", "\t"))
        path.unlink()


def _semicolons(folder, source):
    """Each CSV rewritten with ';' between fields (as a spreadsheet with decimal commas
    saves it)."""
    for path in Path(source).glob("*.csv"):
        with open(path, newline="") as file:
            rows = list(csv.reader(file))
        with open(path, "w", newline="") as file:
            csv.writer(file, delimiter=";").writerows(rows)


def _ragged(name):
    """One row of `name`'s CSV with two fields too many, another with three too few."""
    def damage(folder, source):
        path = _file(name)(folder, source)
        lines = path.read_text().split("\n")
        lines[5] += ",extra,fields"
        lines[9] = ",".join(lines[9].split(",")[:3])
        path.write_text("\n".join(lines))
    return damage


def _upper_file_names(folder, source):
    for path in Path(source).glob("*.parquet"):
        path.rename(path.with_name(path.stem.upper() + ".PARQUET"))


def _upper_table_name(folder, source):
    with duckdb.connect(str(source)) as connection:
        connection.execute('ALTER TABLE course_section RENAME TO "Course_Section"')


def _text_keys(tables, prefix=""):
    """Every key column as text: its digits (a converted source's string ids), after
    `prefix` when given (codes such as K-7300000000)."""
    for columns in tables.values():
        for name in [c for c in columns if c.endswith("_id")]:
            columns[name] = [f"{prefix}{v}" for v in columns[name]]


def _null_typed(name, column):
    """`column` of `name`'s Parquet file as Parquet's null type (a column of nothing)."""
    def damage(folder, source):
        path = _file(name)(folder, source)
        table = pq.read_table(path)
        where = table.schema.get_field_index(column)
        pq.write_table(table.set_column(where, column, pa.nulls(len(table))), path)
    return damage

