"""campus-synth's profiling stage: the profile contract, its validation and the default."""

from distributions._errors import DistributionsError, ProfileError
from distributions._profile import (
    PROFILE_VERSION,
    default_profile_path,
    load_profile,
    schema_path,
    validate_profile,
)

__all__ = [
    "PROFILE_VERSION",
    "DistributionsError",
    "ProfileError",
    "default_profile_path",
    "load_profile",
    "schema_path",
    "validate_profile",
]
