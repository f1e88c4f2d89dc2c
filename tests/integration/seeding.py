"""The seeds the pair suites use, shipped in hybridmem.testing.seeding."""

from hybridmem.testing.seeding import (
    add_with_shared_entity,
    seed_expired,
    seed_victims_and_keepers,
    victim_entity_names,
)

__all__ = [
    "add_with_shared_entity",
    "seed_expired",
    "seed_victims_and_keepers",
    "victim_entity_names",
]
