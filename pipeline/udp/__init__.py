"""The UDP schema, the floor every other package stands on: the tables and their keys
(`_schema`, `_tables`, `_registry`), the event store's schema (`_event_schema`), the Caliper 1.1
vocabulary with its vendored JSON Schemas (`_caliper`, `caliper_schemas/`), and the profile
contract (`_contract`: what a profile must say for these tables). It imports nothing of
campus-synth's but `pipeline.errors`.
"""

from pipeline.udp._caliper import generic_object_type, is_valid_combination, validation_errors
from pipeline.udp._contract import check_profile
from pipeline.udp._registry import REGISTRY, Registry, profile_extras, registry_for
from pipeline.udp._schema import ENTITY, KEYMAP, Column, ForeignKey, Layout, Table

__all__ = [
    "ENTITY",
    "KEYMAP",
    "REGISTRY",
    "Column",
    "ForeignKey",
    "Layout",
    "Registry",
    "Table",
    "check_profile",
    "generic_object_type",
    "is_valid_combination",
    "profile_extras",
    "registry_for",
    "validation_errors",
]
