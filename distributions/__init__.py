"""campus-synth's profiling stage: the profile contract, its validation and the default;
sources, the profiler and the udp_distributions layout."""

from distributions._profile import (
    PROFILE_VERSION,
    default_profile_path,
    load_profile,
    schema_path,
    validate_profile,
)
from distributions._profile_result import ProfileResult, write_profile
from distributions._profiler import profile_source
from distributions._sources import Source, open_source
from distributions._udp_distributions import (
    export_udp_distributions,
    profile_from_udp_distributions,
    write_udp_distributions,
)
from pipeline.errors import DistributionsError, ProfileError, SourceError

__all__ = [
    "PROFILE_VERSION",
    "DistributionsError",
    "ProfileError",
    "ProfileResult",
    "Source",
    "SourceError",
    "default_profile_path",
    "export_udp_distributions",
    "load_profile",
    "open_source",
    "profile_from_udp_distributions",
    "profile_source",
    "schema_path",
    "validate_profile",
    "write_profile",
    "write_udp_distributions",
]
