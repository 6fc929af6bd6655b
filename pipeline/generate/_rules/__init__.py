"""Entity rules: what a profile cannot express (calendars, catalogs, gradebooks, keys).

Importing this package registers every rule with the engine and the plan.
"""

from pipeline.generate._rules import (  # noqa: F401  (imported for their registrations)
    calendar,
    catalog,
    content,
    courses,
    enrollment,
    gradebook,
    grades,
    keymap,
    people,
    weights,
)
