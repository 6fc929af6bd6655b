"""The corpus's cases of stored types and encodings (see bad_input_corpus.py): Parquet
columns of types a spreadsheet never writes (DECIMAL(38), TIME, nanosecond timestamps with a
time zone, nested keys), dates outside the years a calendar holds, a warehouse.duckdb that
is no DuckDB file, scenario mappings naming a key twice, UTF-16 profiles and scenarios."""

from __future__ import annotations

import codecs
import datetime as dt
import decimal
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from bad_input_corpus import GENERATE, SCORE, Case, _profile_case, _quantiles, default_profile
from bad_input_corpus_damages import RESULTS, _file, _set
from bad_input_corpus_flags import _flags, _scenario, _valid_profile, _with
from bad_input_corpus_sources import SOURCE_CASES, _source_case, tables_with_results, write_duckdb


def _parquet_column(name: str, column: str, values):
    """`name`'s Parquet file with `column` replaced (or added) by `values(rows)`, an Arrow
    array."""
    def damage(folder, source):
        path = _file(name)(folder, source)
        table = pq.read_table(path)
        array = values(len(table))
        where = table.schema.get_field_index(column)
        table = table.set_column(where, column, array) if where >= 0 else table.append_column(
            column, array)
        pq.write_table(table, path)
    return damage


def _term_days(*days: tuple[int, int, int]):
    return lambda rows: pa.array([dt.datetime(*d) for d in days], pa.timestamp("ns", "UTC"))


def _keys_as(make):
    """person_id (and every person_id pointing at it) stored as `make(key)` values."""
    def mutate(tables):
        for name in ("person", "person_email", "course_section_enrollment", RESULTS):
            tables[name]["person_id"] = [make(v) for v in tables[name]["person_id"]]
    return mutate


def _written(name: str, mutate, encoding="utf-16", mark=True):
    """A profile file in `encoding` (with its byte-order mark when `mark`), the default
    profile changed by `mutate`; `export-distributions` reads it (no job runs)."""
    def build(folder: Path) -> list[str]:
        document = default_profile()
        mutate(document)
        data = json.dumps(document, ensure_ascii=False).encode(encoding)  # (utf-16: marked)
        if encoding == "utf-16-be":
            data = codecs.BOM_UTF16_BE + data
        path = folder / f"{name}.json"
        path.write_bytes(data if mark else data[2:])
        return ["export-distributions", "--profile", str(path), "--out", str(folder / "d.csv")]
    return build


def _set_fte(value):
    return lambda document: document["settings"].update(fte=value)


def _not_duckdb(command: list[str]):
    def build(folder: Path) -> list[str]:
        (folder / "warehouse.duckdb").write_text("not a DuckDB file\n")
        (folder / "event_store" / "expanded").mkdir(parents=True)
        return [a.replace("{d}", str(folder)) for a in command]
    return build


def _evaluated(case: Case, expect: str, says=()) -> Case:
    """`evaluate --real` of `case`'s source against a synthetic side that is the small
    source itself as a DuckDB file (no job runs: a second or so of figures)."""
    def build(folder: Path) -> list[str]:
        argv = case.build(folder)
        synthetic = write_duckdb(folder / "syn" / "warehouse.duckdb", tables_with_results())
        return ["evaluate", "--real", argv[argv.index("--source") + 1], "--synthetic",
                str(synthetic), "--out", str(folder / "ev"), "--no-detection"]
    return Case(case.id.replace("source-", "evaluate-real-", 1), "evaluate", build, expect,
                list(says))


def _source(case_id: str) -> Case:
    return next(c for c in [*SOURCE_CASES, *TYPE_CASES] if c.id == case_id)


TYPE_CASES = [
    _source_case("decimal-38-beyond-1e15", None, after=_parquet_column(
        "person", "balance", lambda n: pa.array([decimal.Decimal(i) * 10**30 for i in range(n)],
                                                pa.decimal128(38, 0))),
        says=["value(s) of balance are NaN or infinite or beyond"]),
    _source_case("term-begins-1800", _set("academic_term", "term_begin_date", [
        "1800-08-26", "2025-01-13"]), "csv", says=[
        "1 value(s) of term_begin_date dated before 1900 or after 2999 (read as missing)"]),
    _source_case("term-dates-as-time", None, after=_parquet_column(
        "academic_term", "term_begin_date", lambda n: pa.array([dt.time(8, 0)] * n)),
        says=["column term_begin_date holds TIME, not dates"]),
    _source_case("timestamps-ns-with-zone", None, after=lambda f, s: (
        _parquet_column("academic_term", "term_begin_date", _term_days(
            (2024, 8, 26), (2025, 1, 13)))(f, s),
        _parquet_column("person", "registered", lambda n: pa.array(
            [dt.datetime(2024, 1, 1 + i % 28) for i in range(n)], pa.timestamp("ns", "UTC")))(
            f, s)), says=["column(s) term_begin_date read to the microsecond",
                          "column(s) registered read to the microsecond"]),
    _source_case("keys-as-structs", _keys_as(lambda v: {"id": v}), "parquet", "refused",
                 ["table person, column person_id: keys must be integers, found STRUCT"]),
    _source_case("keys-as-lists", _keys_as(lambda v: [v]), "parquet", "refused",
                 ["table person, column person_id: keys must be integers, found BIGINT[]"]),
    _source_case("keys-as-timestamps", _keys_as(
        lambda v: dt.datetime(2000, 1, 1) + dt.timedelta(seconds=v - 7_300_000_000)),
        "parquet", "refused", ["column person_id: keys must be integers, found TIMESTAMP"]),
    _source_case("keys-beyond-64-bits-as-text", _keys_as(lambda v: str(2**70 + v)), says=[
        "column person_id read as integers (stored as VARCHAR; keys that are not digits as "
        "numbers drawn from their text)"]),
    Case("flag-build-not-duckdb", "flag", _not_duckdb(["build", "--out", "{d}"]), "refused",
         ["warehouse.duckdb: cannot open the warehouse", "not a valid DuckDB"]),
    Case("flag-caliper-not-duckdb", "flag", _not_duckdb(["caliper", "--out", "{d}"]),
         "refused", ["warehouse.duckdb: cannot open the warehouse"]),
    Case("flag-relink-not-duckdb", "flag", _not_duckdb(["relink", "--out", "{d}"]),
         "refused", ["warehouse.duckdb: cannot open the warehouse"]),
    _scenario("repeated-key", "name: x\nengagement: {score_rho: 0.1}\nname: y\n",
              ["the key 'name' appears twice"]),
    _scenario("repeated-column", "name: x\ncolumns:\n  person:\n    shoe: {family: Poisson, "
              "lambda: 1}\n    shoe: {family: Constant, value: 2}\n", ["'shoe' appears twice"]),
    _scenario("repeated-key-json", '{"name": "x", "name": "y"}', ["'name' appears twice"],
              suffix=".json"),
    _scenario("utf-16", "\ufeffname: 7\n".encode("utf-16-le"), ["/name"]),
    Case("profile-utf-16", "profile", _written("utf16", lambda d: None), "ok"),
    Case("profile-utf-16-be", "profile", _written("utf16be", lambda d: None, "utf-16-be"),
         "ok"),
    Case("profile-utf-16-invalid", "profile", _written("bad16", _set_fte("300")), "refused",
         ["/settings/fte"]),
    Case("profile-utf-16-without-mark", "profile", _written("nomark", lambda d: None,
                                                            mark=False), "ok"),
    Case("profile-not-utf-8", "profile", _written("latin", lambda d: d.update(
        name="Universit\u00e9"), "latin-1"), "refused", [
        "latin.json", "not UTF-8 text", "UTF-16 and UTF-32 are read too"]),
]

# evaluate --real reads a source as `profile` does: a TSV's header types (they were sniffed
# as integers on the real side only: floor(VARCHAR)), a required table read as an empty
# folder (a KeyError), keys no join can read (a Binder Error)
TYPE_CASES += [_evaluated(_source("source-tab-separated-csv"), "ok"),
               _evaluated(_source("source-person-as-empty-folder-parquet"), "ok"),
               _evaluated(_source("source-keys-as-structs-parquet"), "refused",
                          ["column person_id: keys must be integers, found STRUCT"])]



def _manifest_beside(text: str):
    """A valid profile good.json with `text` as its privacy manifest (hand-edited)."""
    def setup(folder: Path) -> None:
        _valid_profile(folder)
        (folder / "good.privacy.json").write_text(text)
    return setup


MERGE = ["profile", "merge", "{d}/good.json", "{d}/good.json", "--out", "{d}/m.json"]
# a privacy manifest edited by hand: merged as if absent, or a ValueError from int('ten')
TYPE_CASES += [
    _with(_manifest_beside("[]"), _flags("merge-manifest-a-list", MERGE, [
        "good.privacy.json", "not an object"], command=[])),
    _with(_manifest_beside(json.dumps({"k": "ten", "epsilon": -1, "actions": 5})), _flags(
        "merge-manifest-wrong-types", MERGE, ["good.privacy.json", "/k, /epsilon, /actions"],
        command=[])),
]

# a budget of 1e308 overflowed OpenDP's calibration (a traceback after the source was read)
TYPE_CASES += [_with(lambda folder: write_duckdb(folder / "src.duckdb", tables_with_results()),
                    _flags("profile-epsilon-1e308", ["profile", "--source", "{d}/src.duckdb",
                                                     "--out", "{d}/p.json", "--epsilon",
                                                     "1e308"], ["--epsilon", "1e+06"],
                           command=[]))]

# a device that never ends: a profile was read whole (a MemoryError traceback), a scenario
# of /dev/urandom never finished reading
TYPE_CASES += [_flags("profile-dev-zero", [], ["/dev/zero", "more than"], command=[
                   *GENERATE, "--profile", "/dev/zero", "--out", "{d}/w"]),
               _flags("scenario-dev-urandom", [], ["/dev/urandom", "more than"], command=[
                   *GENERATE, "--scenario", "/dev/urandom", "--out", "{d}/w"])]



def _events_only(damage):
    """A `generate` folder (Parquet only) whose event store `damage(folder)` broke."""
    def build(folder: Path) -> list[str]:
        events = folder / "event_store" / "expanded"
        events.mkdir(parents=True)
        damage(events)
        return ["caliper", "--out", str(folder)]
    return build


# caliper on a Parquet-only folder read the event files with no guard: tracebacks
TYPE_CASES += [
    Case("flag-caliper-damaged-event-file", "flag", _events_only(lambda events: (
        (events / "term_week=01").mkdir(), (events / "term_week=01" / "part-00000.parquet")
        .write_bytes(b"PAR1 cut short"))), "refused", ["cannot read the events",
                                                        "part-00000.parquet"]),
    Case("flag-caliper-no-event-files", "flag", _events_only(lambda events: None),
         "refused", ["cannot read the events"]),
]



def _empty_duckdb(folder: Path) -> list[str]:
    duckdb.connect(str(folder / "warehouse.duckdb")).close()
    return ["build", "--out", str(folder)]


# build on a DuckDB file campus-synth did not write: dbt failed on every model (a screenful
# of its log) and left its dbt/ folder in the user's folder
TYPE_CASES += [Case("flag-build-empty-duckdb", "flag", _empty_duckdb, "refused",
                    ["warehouse.duckdb: not a campus-synth warehouse"])]

# one quantile level in two spellings: the sort kept either value silently
TYPE_CASES += [_profile_case("quantile-level-in-two-spellings", _quantiles(
    {"0.5": 0.4, "0.50": 0.6}), [f"{SCORE}/quantiles", "given twice"])]



def _evaluated_with_manifest(text: str):
    """evaluate --profile of the small source (as a DuckDB file) with `text` as the privacy
    manifest."""
    def build(folder: Path) -> list[str]:
        _valid_profile(folder)
        (folder / "m.json").write_text(text)
        synthetic = write_duckdb(folder / "syn" / "warehouse.duckdb", tables_with_results())
        return ["evaluate", "--profile", str(folder / "good.json"), "--synthetic",
                str(synthetic), "--privacy-manifest", str(folder / "m.json"), "--out",
                str(folder / "ev"), "--no-detection"]
    return build


# a hand-edited manifest given to evaluate: read after every figure, then a TypeError
TYPE_CASES += [Case("evaluate-manifest-wrong-types", "evaluate", _evaluated_with_manifest(
    json.dumps({"k": 10, "actions": 5})), "refused", ["m.json", "/actions"])]
