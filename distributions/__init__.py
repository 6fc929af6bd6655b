"""campus-synth's profiling stage. Its face is what every stage reads: the profile contract,
its validation and the default, the profile result and the udp_distributions layout. The
profiler itself (`distributions._profiler.profile_source`, over `distributions._sources`) is
imported from its modules by the `profile` command alone: it needs scipy.stats and DuckDB,
which generating from a profile does not, and `import distributions` is on every command's
path."""

from distributions._profile import (
    PROFILE_VERSION,
    default_profile_path,
    load_profile,
    schema_path,
    validate_profile,
)
from distributions._profile_result import ProfileResult, write_profile
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
    "SourceError",
    "default_profile_path",
    "export_udp_distributions",
    "load_profile",
    "profile_from_udp_distributions",
    "schema_path",
    "validate_profile",
    "write_profile",
    "write_udp_distributions",
]
