"""The shape of `event_store.expanded`: UDP's flattened Caliper events.

Top-level names and nested records follow UDP's `expanded` table (shared/reference/udp.md §4):
given IRIs in `<part>.id`, tool-native ids (`canvas_id`, `sis_id`) and the UDP surrogate keys
(`person.udp_id`, `course_offering.udp_id`, `object.udp_id`) so marts join to the context store.
Three top-level columns are campus-synth's own, for partitioning and clustering (BigQuery
clusters on top-level columns only): `event_date`, `tool`, and `ucdm_course_offering_id`
(the legacy event table's name for the course's surrogate key).
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_NAME, TABLE_NAME = "event_store", "expanded"
QUALIFIED_NAME = f"{SCHEMA_NAME}.{TABLE_NAME}"

_S, _I, _F = pa.string(), pa.int64(), pa.float64()


def _struct(*fields: tuple[str, pa.DataType]) -> pa.StructType:
    return pa.struct([pa.field(name, kind) for name, kind in fields])


FIELDS: tuple[tuple[str, pa.DataType, bool, str], ...] = (
    ("id", _S, False, "Caliper event id (urn:uuid:…), unique"),
    ("type", _S, False, "Caliper 1.1 event type, e.g. NavigationEvent, AssignableEvent"),
    ("action", _S, False, "Caliper 1.1 action of the type, e.g. NavigatedTo, Submitted"),
    ("event_time", pa.timestamp("us", tz="UTC"), False, "when the tool says it happened"),
    ("event_date", pa.date32(), False, "UTC date of event_time (the partition key)"),
    ("tool", _S, False, "the rate model's tool: a Canvas tool (assignments, pages, …), "
                        "an LTI tool (zoom, turnitin, …) or a Caliper emitter (kaltura, …)"),
    ("ucdm_course_offering_id", _I, False, "course_offering_id of the course the event is in"),
    ("actor", _struct(("id", _S), ("type", _S), ("extensions", _S)), False,
     "who acted: a Person (a student or instructor), or a SoftwareApplication"),
    ("object", _struct(("id", _S), ("type", _S), ("name", _S), ("entity", _S), ("udp_id", _I),
                       ("extensions", _S)), False,
     "what was acted on: its IRI, Caliper type, and the context-store table and key it is"),
    ("generated", _struct(("id", _S), ("type", _S), ("udp_id", _I), ("score_given", _F)), True,
     "what the event produced: an Attempt (a submission's learner_activity_result) or a Score"),
    ("ed_app", _struct(("id", _S), ("name", _S)), False,
     "the application that sent the event, with its reporting name (Canvas, Kaltura, …)"),
    ("group", _struct(("id", _S), ("type", _S)), False, "the Canvas course (CourseOffering) IRI"),
    ("membership", _struct(("id", _S), ("roles", _S), ("status", _S)), False,
     "the actor's membership in the course: Caliper roles and status"),
    ("session", _struct(("id", _S),), True, "the LMS session the event belongs to"),
    ("person", _struct(("udp_id", _I), ("canvas_id", _S), ("sis_id", _S)), False,
     "the actor as a context-store person (udp_id = person_id)"),
    ("course_offering", _struct(("udp_id", _I), ("canvas_id", _S), ("sis_id", _S)), False,
     "the course as a context-store course_offering (udp_id = course_offering_id)"),
    ("federated_session_json", _S, True, "LTI launch parameters (LTI tools only)"),
    ("extensions_json", _S, True, "tool extensions, e.g. Canvas request_url"),
)

ARROW_SCHEMA = pa.schema([pa.field(name, kind, nullable=nullable)
                          for name, kind, nullable, _ in FIELDS])
DESCRIPTIONS = {name: text for name, _, _, text in FIELDS}
DESCRIPTION = ("Caliper 1.1 learning events, one row per event, flattened as UDP's "
               "event_store.expanded; partitioned by event_date.")
