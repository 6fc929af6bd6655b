"""IMS Caliper 1.1, the vocabulary UDP's event store speaks, and its official JSON Schemas.

`CALIPER_1_1` lists the actions and object types the specification gives each event type;
the profile's tool mixes are checked against it. `validation_errors` checks an envelope
against IMS's Caliper 1.1 JSON Schemas, vendored in `caliper_schemas/` (the envelope's and
every event type's, with what they refer to; licence notice beside them). Turning generated
rows back into Caliper JSON-LD is an output: pipeline/outputs/_caliper_json.py.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p1"
_DIGITAL = ("DigitalResource", "AssignableDigitalResource", "Assessment", "AssessmentItem",
            "Chapter", "Document", "Forum", "Thread", "Message", "Page", "WebPage", "Reading",
            "VideoObject", "AudioObject", "ImageObject", "MediaObject", "Frame", "Attempt",
            "Result", "SoftwareApplication", "CourseOffering")
_MEDIA_ACTIONS = ("Started", "Ended", "Paused", "Resumed", "Restarted", "ForwardedTo",
                  "JumpedTo", "ChangedResolution", "ChangedSize", "ChangedSpeed",
                  "ChangedVolume", "EnabledClosedCaptioning", "DisabledClosedCaptioning",
                  "EnteredFullScreen", "ExitedFullScreen", "Muted", "Unmuted", "OpenedPopout",
                  "ClosedPopout")
# event type → (actions, object types), from the Caliper 1.1 specification's event models
CALIPER_1_1: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "AnnotationEvent": (("Bookmarked", "Highlighted", "Shared", "Tagged"), _DIGITAL),
    "AssessmentEvent": (("Started", "Paused", "Resumed", "Restarted", "Reset", "Submitted"),
                        ("Assessment",)),
    "AssessmentItemEvent": (("Started", "Skipped", "Completed"), ("AssessmentItem",)),
    "AssignableEvent": (("Activated", "Deactivated", "Started", "Completed", "Submitted",
                         "Reviewed"), ("AssignableDigitalResource", "Assessment")),
    "ForumEvent": (("Subscribed", "Unsubscribed"), ("Forum",)),
    "GradeEvent": (("Graded",), ("Attempt",)),
    "MediaEvent": (_MEDIA_ACTIONS, ("MediaObject", "VideoObject", "AudioObject", "ImageObject")),
    "MessageEvent": (("Posted", "MarkedAsRead", "MarkedAsUnread"), ("Message",)),
    "NavigationEvent": (("NavigatedTo",), _DIGITAL),
    "SessionEvent": (("LoggedIn", "LoggedOut", "TimedOut"), ("SoftwareApplication", "Session")),
    "ThreadEvent": (("MarkedAsRead", "MarkedAsUnread"), ("Thread",)),
    "ToolUseEvent": (("Used",), ("SoftwareApplication",)),
    "ViewEvent": (("Viewed",), _DIGITAL),
    "Event": (("Created", "Modified", "Deleted", "Viewed", "NavigatedTo", "Used"), _DIGITAL),
}


def is_valid_combination(event_type: str, action: str, object_type: str) -> bool:
    """Whether Caliper 1.1 defines `action` on `object_type` for `event_type`."""
    actions, objects = CALIPER_1_1.get(event_type, ((), ()))
    return action in actions and object_type in objects


def generic_object_type(event_type: str, action: str) -> str | None:
    """The most generic object type Caliper 1.1 gives `action` of `event_type` (the first it
    lists: DigitalResource for a NavigationEvent or a ViewEvent), or None where the event
    type does not define the action: what a source's own object type is counted as."""
    actions, objects = CALIPER_1_1.get(event_type, ((), ()))
    return objects[0] if action in actions else None


def validation_errors(document: dict) -> list[str]:
    """How a Caliper 1.1 envelope breaks the official JSON Schemas: the envelope's own, then
    each event's by its type; one line per problem, `data/<i>` naming the event."""
    problems = [f"envelope: {e.message}" for e in _validator("Envelope").iter_errors(document)]
    for i, event in enumerate(document.get("data") or []):
        name = event.get("type") if isinstance(event, dict) else None
        if name not in CALIPER_1_1:
            problems.append(f"data/{i}: no Caliper 1.1 event type {name!r}")
            continue
        problems += [f"data/{i} ({event.get('id')}): {'/'.join(map(str, e.absolute_path))}"
                     f"{': ' if e.absolute_path else ''}{e.message}"
                     for e in _validator(name).iter_errors(event)]
    return problems


@cache
def _validator(name: str) -> Draft4Validator:
    schemas = _schemas()
    return Draft4Validator(schemas[name].contents, registry=Registry().with_resources(
        schemas.items()), format_checker=Draft4Validator.FORMAT_CHECKER)


@cache
def _schemas() -> dict[str, Resource]:
    """The vendored schemas by name; they refer to each other by name (`"$ref": "Agent"`)."""
    folder = resources.files("pipeline.udp") / "caliper_schemas"
    return {item.name.removesuffix(".json"): Resource(json.loads(item.read_text("utf-8")),
                                                      specification=DRAFT4)
            for item in folder.iterdir() if item.name.endswith(".json")}
