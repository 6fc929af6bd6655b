"""Protos → rows of `event_store.expanded` as an Arrow record batch.

Strings are never built per event in Python: each distinct person, course and object of the
batch gets its strings once (Arrow compute over the distinct rows), and events `take` them.
Ids are UUIDs formatted from two 64-bit hashes of the event's key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.generate._column_values import to_arrow
from pipeline.generate._engine import Engine
from pipeline.generate._events.objects import ENTITY_KINDS, KINDS, OBJECT_SLOTS
from pipeline.generate._events.rates import RateModel
from pipeline.generate._events.streams import DAY, Protos
from pipeline.generate._random import bits, stream_key, uniform
from pipeline.generate._samplers import compile_distribution
from pipeline.udp._event_schema import ARROW_SCHEMA

CANVAS_IRI = "urn:instructure:canvas:"
CANVAS_NAMES = {"learner_activity": "assignment", "learner_activity_result": "submission",
                "wiki_page": "wiki_page", "module_item": "module_item", "file": "attachment",
                "discussion": "discussion_topic", "quiz": "quiz", "course_offering": "course"}
URL_PATHS = {"learner_activity": "assignments", "wiki_page": "pages",
             "module_item": "modules/items", "file": "files",
             "discussion": "discussion_topics", "quiz": "quizzes",
             "course_offering": "grades", "learner_activity_result": "gradebook/speed_grader"}
NAME_COLUMNS = {"learner_activity": "title", "wiki_page": "title", "module_item": "title",
                "file": "display_name", "discussion": "title", "quiz": "title",
                "course_offering": "title"}


def event_batch(engine: Engine, model: RateModel, protos: Protos) -> pa.RecordBatch:
    """The expanded rows of `protos`, in the order given."""
    people = _distinct(protos.person)
    courses = _distinct(protos.offering)
    objects = _distinct(protos.kind.astype(np.int64) * (1 << 40) + protos.object_row, True)
    person_ids = _keymap_strings(engine, "person", people[0])
    course_ids = _keymap_strings(engine, "course_offering", courses[0])
    person_iris = pc.binary_join_element_wise(CANVAS_IRI + "user:", person_ids["lms_int_id"], "")
    course_iris = pc.binary_join_element_wise(CANVAS_IRI + "course:", course_ids["lms_int_id"],
                                              "")
    person_iri, course_iri = _take(person_iris, people[1]), _take(course_iris, courses[1])
    found = _object_columns(engine, model, objects, course_ids["lms_ext_id"], courses[1])
    columns = {
        "id": _uuids(engine, "id", protos.key, "urn:uuid:"),
        "type": _lookup([a.type for a in model.actions], protos.action),
        "action": _lookup([a.action for a in model.actions], protos.action),
        "event_time": pa.array(protos.time * 1_000_000, pa.timestamp("us", tz="UTC")),
        "event_date": pa.array((protos.time // DAY).astype(np.int32), pa.date32()),
        "tool": _lookup(list(model.tools), protos.tool),
        "ucdm_course_offering_id": pa.array(engine.ids("course_offering", protos.offering)),
        "actor": _struct("actor", [person_iri, _constant("Person", len(protos)),
                                   pa.nulls(len(protos), pa.string())]),
        "object": _objects(model, protos, objects[1], found),
        "generated": _generated(engine, protos),
        "ed_app": _ed_apps(model, protos.tool),
        "group": _struct("group", [course_iri, _constant("CourseOffering", len(protos))]),
        "membership": _membership(model, protos, course_iris, courses, person_iris, people),
        "session": _struct("session", [_sessions(engine, protos)]),
        "person": _struct("person", [pa.array(engine.ids("person", protos.person)),
                                     _take(person_ids["lms_ext_id"], people[1]),
                                     _take(person_ids["sis_ext_id"], people[1])]),
        "course_offering": _struct("course_offering", [
            pa.array(engine.ids("course_offering", protos.offering)),
            _take(course_ids["lms_ext_id"], courses[1]),
            _take(course_ids["sis_ext_id"], courses[1])]),
        "federated_session_json": _launches(model, protos, person_ids, people, course_ids,
                                            courses),
        "extensions_json": _request_urls(model, protos, objects[1], found[4]),
    }
    arrays = [columns[f.name] for f in ARROW_SCHEMA]
    fields = [pa.field(f.name, a.type, f.nullable)
              for f, a in zip(ARROW_SCHEMA, arrays, strict=True)]
    for name, array in _extras(engine, protos).items():  # after the event store's own columns
        arrays.append(array)
        fields.append(pa.field(name, array.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _extras(engine: Engine, protos: Protos) -> dict[str, pa.Array]:
    """The source event table's own columns (the profile's /events/extras), each drawn for
    every event from its distribution by a hash of the event's key (the same value for the
    same event whatever block or worker draws it)."""
    specs = engine.profile.get("events", {}).get("extras", {})
    return {name: to_arrow(compile_distribution(spec["distribution"]).sample(uniform(
                stream_key(engine.seed, "event_store.expanded", "extra", name), protos.key)),
                spec["type"])
            for name, spec in specs.items()}


def _distinct(values: np.ndarray, ordered: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values, index of each value among them), by hashing: O(n); `ordered` sorts
    the distinct values (only those)."""
    inverse, unique = pd.factorize(values, sort=ordered)
    return np.asarray(unique), inverse.astype(np.int64)


def _take(array: pa.Array, index: np.ndarray, absent: np.ndarray | None = None) -> pa.Array:
    """`array` at `index`, dictionary-encoded: the distinct strings once, an int32 per event
    (no string is copied, and Parquet writes the dictionary as it is). Nulls move from the
    dictionary to the indices, where Parquet wants them."""
    missing = np.zeros(len(index), dtype=bool) if absent is None else absent
    if array.null_count:
        missing = missing | np.asarray(array.is_null())[index]
        array = array.fill_null("")
    mask = missing if missing.any() else None
    return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32), mask=mask), array)


def _lookup(strings: list[str], codes: np.ndarray) -> pa.Array:
    return _take(pa.array(strings, pa.string()), codes)


def _constant(text: str, n: int) -> pa.Array:
    return _take(pa.array([text], pa.string()), np.zeros(n, np.int32))


def _struct(name: str, children: list[pa.Array], mask: np.ndarray | None = None) -> pa.Array:
    """A record of the schema's field `name`, keeping its children's encodings."""
    fields = [pa.field(f.name, child.type) for f, child in
              zip(ARROW_SCHEMA.field(name).type, children, strict=True)]
    return pa.StructArray.from_arrays(children, fields=fields,
                                      mask=None if mask is None else pa.array(mask))


def _keymap_strings(engine: Engine, key: str, rows: np.ndarray) -> dict[str, pa.Array]:
    with engine.scratch():
        return {name: engine.column(f"keymap__{key}", name, rows)
                for name in ("lms_int_id", "lms_ext_id", "sis_ext_id")}


def _uuids(engine: Engine, stream: str, keys: np.ndarray, prefix: str) -> pa.Array:
    """Version-4-shaped UUID strings from two hashes of each key (distinct keys, distinct ids:
    the hash is a bijection of the key), formatted by table lookup, a byte pair at a time."""
    high = bits(stream_key(engine.seed, "event_store.expanded", stream, "high"), keys)
    low = bits(stream_key(engine.seed, "event_store.expanded", stream, "low"), keys)
    high = (high & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
    low = (low & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    raw = np.stack([high.byteswap(), low.byteswap()], axis=1).view(np.uint8).reshape(-1, 16)
    hexed = _HEX_PAIRS[raw].view(np.uint8).reshape(-1, 32)
    head = len(prefix)
    text = np.empty((len(keys), head + 36), dtype=np.uint8)
    text[:, :head] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    for source, target in _UUID_GROUPS:
        text[:, head + target[0]:head + target[1]] = hexed[:, source[0]:source[1]]
    text[:, [head + 8, head + 13, head + 18, head + 23]] = ord("-")
    width = text.shape[1]
    offsets = pa.array(np.arange(len(keys) + 1, dtype=np.int32) * width)
    return pa.StringArray.from_buffers(len(keys), offsets.buffers()[1], pa.py_buffer(text))


# hex digits of every byte value, two ASCII characters per uint16; and the UUID's dash layout
_HEX_PAIRS = np.array([(ord(f"{b:02x}"[0]) | ord(f"{b:02x}"[1]) << 8) for b in range(256)],
                      dtype="<u2")
_UUID_GROUPS = (((0, 8), (0, 8)), ((8, 12), (9, 13)), ((12, 16), (14, 18)),
                ((16, 20), (19, 23)), ((20, 32), (24, 36)))


def _sessions(engine: Engine, protos: Protos) -> pa.Array:
    """One LMS session per person and day."""
    unique, inverse = _distinct(protos.person * (1 << 20) + protos.time // DAY)
    return _take(_uuids(engine, "session", unique.astype(np.uint64), CANVAS_IRI + "session:"),
                 inverse)


def _objects(model: RateModel, protos: Protos, inverse: np.ndarray, found: tuple) -> pa.Array:
    ids, names, entity, udp, _ = found
    object_type = _lookup([a.object_type for a in model.actions], protos.action)
    return _struct("object", [_take(ids, inverse), object_type, _take(names, inverse),
                              _take(entity, inverse), _plain(udp, inverse),
                              pa.nulls(len(protos), pa.string())])


def _object_columns(engine: Engine, model: RateModel, objects: tuple, course_ext: pa.Array,
                    course_of_event: np.ndarray):
    """(IRI, name, entity, udp id, Canvas request URL) of each distinct object (sorted by
    kind), in one pass over the kinds. A context-store object belongs to one course: the
    course of its first event is its course."""
    unique, inverse = objects
    kinds, rows = unique >> 40, unique & ((1 << 40) - 1)
    course = _plain(course_ext, course_of_event[_first_index(inverse, len(unique))])
    parts = [_kind_columns(engine, model, KINDS[kind], rows[start:stop],
                           course.slice(start, stop - start))
             for kind, start, stop in _kind_runs(kinds)]
    return tuple(pa.concat_arrays([part[i] for part in parts]) for i in range(5))


def _kind_runs(kinds: np.ndarray):
    """(kind, start, stop) of each run of one kind in sorted `kinds`."""
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(kinds)) + 1, [len(kinds)]])
    return [(int(kinds[a]), int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _kind_columns(engine: Engine, model: RateModel, name: str, rows: np.ndarray,
                  course: pa.Array):
    """Objects of one kind: context-store rows, or tool-side objects."""
    n = len(rows)
    if name in ENTITY_KINDS:
        with engine.scratch():
            lms = engine.column(f"keymap__{name}", "lms_int_id", rows)
            short = engine.column(f"keymap__{name}", "lms_ext_id", rows)
            title = (to_arrow(engine.column(name, NAME_COLUMNS[name], rows), "string")
                     if name in NAME_COLUMNS else pa.nulls(n, pa.string()))
        iri = pc.binary_join_element_wise(f"{CANVAS_IRI}{CANVAS_NAMES[name]}:", lms, "")
        base = model.spec["ed_apps"]["canvas"]["id"].rstrip("/")
        url = pc.binary_join_element_wise(f'{{"request_url":"{base}/courses/', course,
                                          f"/{URL_PATHS[name]}/", short, '"}', "")
        return (iri, pc.cast(title, pa.string()), pa.array([name] * n, pa.string()),
                pa.array(engine.ids(name, rows)), url)
    if name == "lti_tool":
        tools = [model.tools[r] for r in rows]
        ids = [f"https://{t}.lti.campus-synth.example.edu/" for t in tools]
        labels = [model.spec["tools"][t].get("name", t) for t in tools]
    else:
        number = rows % OBJECT_SLOTS
        stem = "media/entry/0_" if name == "media" else "readings/"
        ids = [f"https://{name}.campus-synth.example.edu/{stem}{c:x}{m:02d}"
               for c, m in zip((rows // OBJECT_SLOTS).tolist(), number.tolist(), strict=True)]
        labels = [f"{'Lecture video' if name == 'media' else 'Reading'} {m + 1}"
                  for m in number.tolist()]
    return (pa.array(ids, pa.string()), pa.array(labels, pa.string()), pa.nulls(n, pa.string()),
            pa.nulls(n, pa.int64()), pa.nulls(n, pa.string()))


def _generated(engine: Engine, protos: Protos) -> pa.Array:
    """The submission's Attempt, or the grade's Score, of gradebook events."""
    has = protos.generated > 0
    unique, inverse = _distinct(np.where(has, protos.result_row * 4 + protos.generated, 0))
    rows, kinds = unique // 4, unique % 4
    with engine.scratch():
        lms = engine.column("keymap__learner_activity_result", "lms_int_id", rows)
    suffix = pa.array(np.where(kinds == 2, "/score", ""))
    ids = pc.binary_join_element_wise(CANVAS_IRI + "submission:", lms, suffix, "")
    kinds = _lookup(["", "Attempt", "Score"], protos.generated.astype(np.int64))
    udp = pa.array(engine.ids("learner_activity_result", protos.result_row))
    given = pa.array(protos.score, mask=protos.generated != 2)
    return _struct("generated", [_take(ids, inverse), kinds, udp, given], mask=~has)


def _ed_apps(model: RateModel, tools: np.ndarray) -> pa.Array:
    apps = [model.spec["ed_apps"][model.spec["tools"][t]["ed_app"]] for t in model.tools]
    return _struct("ed_app", [_lookup([a["id"] for a in apps], tools),
                              _lookup([a["name"] for a in apps], tools)])


def _membership(model, protos, course_iris, courses, person_iris, people) -> pa.Array:
    roles = [spec["caliper_role"] for spec in model.spec["roles"].values()]
    pairs, inverse = _distinct(protos.offering * (1 << 32) + protos.person)
    first = _first_index(inverse, len(pairs))
    member_id = pc.binary_join_element_wise(_plain(course_iris, courses[1][first]),
                                            ":member:", _plain(person_iris, people[1][first]),
                                            "")
    return _struct("membership", [_take(member_id, inverse), _lookup(roles, protos.role),
                                  _constant("Active", len(protos))])


def _plain(array: pa.Array, index: np.ndarray) -> pa.Array:
    return array.take(pa.array(index, pa.int64()))


def _first_index(inverse: np.ndarray, n: int) -> np.ndarray:
    """For each distinct value, the position of one event that has it."""
    first = np.empty(n, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    return first


def _scatter(values: pa.Array, where: np.ndarray) -> pa.Array:
    """`values` (one per True of `where`) placed at those positions; null elsewhere."""
    return _take(values, np.maximum(np.cumsum(where) - 1, 0), absent=~where)


def _launches(model, protos, person_ids, people, course_ids, courses) -> pa.Array:
    """LTI launch parameters of LTI tool events (null for the rest)."""
    lti = np.array([model.spec["tools"][t]["object"] == "lti_tool" and
                    model.spec["tools"][t]["ed_app"] == "canvas" for t in model.tools])
    is_lti = lti[protos.tool]
    at = np.flatnonzero(is_lti)
    text = pc.binary_join_element_wise(
        '{"custom_canvas_course_id":"', _plain(course_ids["lms_ext_id"], courses[1][at]),
        '","custom_canvas_user_id":"', _plain(person_ids["lms_ext_id"], people[1][at]),
        '","tool":"', _plain(pa.array(list(model.tools)), protos.tool[at]), '"}', "")
    return _scatter(text, is_lti)


def _request_urls(model: RateModel, protos: Protos, inverse: np.ndarray,
                  urls: pa.Array) -> pa.Array:
    """Canvas's request_url of Canvas events on context-store objects (null for the rest)."""
    canvas = np.array([model.spec["tools"][t]["ed_app"] == "canvas" for t in model.tools])
    return _take(urls, inverse, absent=~canvas[protos.tool])
