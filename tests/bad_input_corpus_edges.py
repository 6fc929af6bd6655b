"""The corpus's edges (see bad_input_corpus.py): numbers a JSON or YAML parser reads but
Python cannot convert (thousands of digits, 30 February), NaN literals and nesting past the
parser's recursion; a Parquet file naming one column twice, a table's files disagreeing on
a key's type, a table of hundreds of columns; outputs that would overwrite or delete an
input (a profile inside the folder a run replaces, `profile --out` inside the source), a
path whose name is longer than a file system takes, and a privacy manifest that is a
device or a folder."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from bad_input_corpus import GENERATE, SCORE, Case, _profile_case
from bad_input_corpus_damages import RESULTS, _file
from bad_input_corpus_flags import _flags, _scenario, _valid_profile, _with
from bad_input_corpus_sources import _out_case, _source_case
from bad_input_corpus_types import _evaluated_with_manifest

FTE = "/settings/fte"


def _literal(path: str, literal: str):
    """The default profile's JSON text with the value at `path` (a number) written as the
    bare `literal` (NaN, Infinity, a number of thousands of digits)."""
    def text(document: dict) -> str:
        *parents, last = path.strip("/").split("/")
        node = document
        for part in parents:
            node = node[part]
        node[last] = "@@LITERAL@@"
        return json.dumps(document).replace('"@@LITERAL@@"', literal, 1)
    return text


# each class below was not in the corpus; "before:" is what the code did before this file
EDGE_CASES = [
    # NaN and Infinity literals (json.loads accepts them) at a deep path: refused, as before
    _profile_case("mean-nan-literal", None, [f"{SCORE}/mean", "not a finite number"],
                  text=_literal(f"{SCORE}/mean", "NaN")),
    # before: Python's hint "use sys.set_int_max_str_digits() to increase the limit"
    _profile_case("fte-5000-digits", None, ["a number of 5000 digits (at most 4300 are "
                                            "read)"],
                  text=_literal(FTE, "9" * 5000)),
    # nesting past the parser's recursion: refused, as before (profile and scenario readers)
    _profile_case("nested-100000-deep", None, ["nested deeper than"],
                  text="[" * 100_000 + "]" * 100_000),
    _scenario("yaml-nested-5000-deep", "a: " + "[" * 5000 + "]" * 5000 + "\n",
              ["nested too deeply"]),
    # before: a ValueError traceback from int() (JSON and YAML) and from date() (YAML)
    _scenario("json-5000-digits", '{"name": "x", "engagement": {"score_rho": ' + "9" * 5000
              + "}}", ["a number of 5000 digits"], suffix=".json"),
    _scenario("yaml-5000-digits", "name: x\nengagement: {score_rho: " + "9" * 5000 + "}\n",
              ["a number of 5000 digits"]),
    _scenario("yaml-impossible-date", "name: x\nstarts: 2024-02-30\n", ["day is out of range"]),
    # before: a traceback in the generator (NaN passes every bound of the schema), and exit 0
    # with a lambda of infinity (counts cast from it)
    _scenario("score-rho-nan", "name: x\nengagement: {score_rho: .nan}\n",
              ["/engagement/score_rho: nan is not a finite number"]),
    _scenario("lambda-infinite", "name: x\ncolumns:\n  person:\n    shoe: {family: Poisson, "
              "lambda: .inf}\n", ["/columns/person/shoe/lambda: inf is not a finite number"]),
]


# ---- sources -------------------------------------------------------------------------------
def _duplicate_parquet_column(folder, source):
    """person.parquet with two columns named sex (Arrow writes it; a CSV cannot)."""
    path = _file("person")(folder, source)
    table = pq.read_table(path)
    pq.write_table(table.append_column("sex", table.column("sex")), path)


def _split_with_types(folder, source):
    """learner_activity_result as a folder of two files that store person_id as BIGINT and
    as text."""
    path = _file(RESULTS)(folder, source)
    table = pq.read_table(path)
    path.unlink()
    (Path(source) / RESULTS).mkdir()
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), Path(source) / RESULTS / "part-0.parquet")
    text = table.slice(half).set_column(
        table.schema.get_field_index("person_id"), "person_id",
        pa.array([f"K-{v}" for v in table.slice(half).column("person_id").to_pylist()]))
    pq.write_table(text, Path(source) / RESULTS / "part-1.parquet")


def _wide(tables):
    """person with 200 more columns, some named by SQL's reserved words or in Unicode."""
    tables["person"].update({f"extra_{i:03d}": [i] * 80 for i in range(197)})
    tables["person"].update({"select": ["x"] * 80, "order": list(range(80)),
                             "Gr\u00f6\u00dfe \u540d\u524d": ["y"] * 80})


SOURCE_EDGES = [
    # before: exit 0, DuckDB read the second `sex` as `sex_1` and one was profiled silently
    _source_case("duplicate-column", None, "parquet", "refused",
                 ["person.parquet", "two columns are named 'sex'"], _duplicate_parquet_column),
    # a table's files disagree on a key's type (codes in one file): refused naming the file
    _source_case("key-types-differ-across-files", None, "parquet", "refused",
                 ["part-1.parquet", "person_id"], _split_with_types),
    # before: out of DuckDB's memory (one scan counted every column's distinct values)
    _source_case("200-extra-columns", _wide, "parquet", "ok",
                 ["columns/extra_196: institution column profiled", "columns/select: institution",
                  "\u540d\u524d: not profiled (its name is not a plain identifier"]),
    # before: the profile's JSON replaced the source's person.parquet
    _out_case("inside-the-source", "src/person.parquet", lambda folder: None,
              ["inside the source folder"]),
]


def _manifest_at(path: str):
    """evaluate --profile with `--privacy-manifest path` (`{d}`: the case's folder)."""
    def build(folder: Path) -> list[str]:
        argv = _evaluated_with_manifest("{}")(folder)
        argv[argv.index("--privacy-manifest") + 1] = path.replace("{d}", str(folder))
        return argv
    return build


def _profile_in_a_finished_run(folder: Path) -> None:
    """w: a folder a run wrote (its manifest), holding the profile the next run reads."""
    (folder / "w").mkdir()
    (folder / "w" / "campus-synth.json").write_text("{}")
    _valid_profile(folder / "w", "p.json")


def _scenario_in_a_finished_run(folder: Path) -> None:
    """w/x: the folder a run of scenario x wrote (its manifest), holding that scenario."""
    (folder / "w" / "x").mkdir(parents=True)
    (folder / "w" / "x" / "campus-synth.json").write_text("{}")
    (folder / "w" / "x" / "s.yaml").write_text("name: x\n")


FLAG_EDGES = [
    # before: "no such privacy manifest", for a device and a folder that are there
    Case("evaluate-manifest-dev-zero", "evaluate", _manifest_at("/dev/zero"), "refused",
         ["/dev/zero", "not a regular file"]),
    Case("evaluate-manifest-is-a-folder", "evaluate", _manifest_at("{d}"), "refused",
         ["a folder, not a privacy manifest"]),
    # before: exit 0, and the finished run's folder replaced w with the profile in it
    _with(_profile_in_a_finished_run, _flags("profile-inside-out", [], [
        "--profile", "inside", "which the finished run replaces"], command=[
        *GENERATE, "--profile", "{d}/w/p.json", "--out", "{d}/w"])),
    _with(_scenario_in_a_finished_run, _flags("scenario-inside-its-out", [], [
        "--scenario", "w/x/s.yaml is inside"], command=[
        *GENERATE, "--scenario", "{d}/w/x/s.yaml", "--out", "{d}/w"])),
    # before: an IsADirectoryError traceback after the export was made
    _with(lambda folder: (folder / "x.csv").mkdir(), _flags(
        "export-out-a-folder-named-csv", ["export-distributions", "--out", "{d}/x.csv"],
        ["x.csv: a folder"], command=[])),
    # before: an OSError traceback ("File name too long") from the first os.stat
    _flags("out-name-300-bytes", [], ["--out", "is 300 bytes long", "at most 255"],
           command=[*GENERATE, "--out", "{d}/" + "a" * 300]),
    _flags("profile-out-name-300-bytes", [], ["--out", "is 305 bytes long"], command=[
        "profile", "--source", "{d}/src", "--out", "{d}/" + "a" * 300 + ".json"]),
]

EDGE_CASES += SOURCE_EDGES + FLAG_EDGES
