"""What "the contract holds" means, shipped in hybridmem.testing.pair_checks."""

from hybridmem.testing.pair_checks import (
    Snapshot,
    assert_history_consistent,
    assert_no_half_memory_or_orphan,
    assert_scope_empty,
    make_orphans,
    snapshot,
)

__all__ = [
    "Snapshot",
    "assert_history_consistent",
    "assert_no_half_memory_or_orphan",
    "assert_scope_empty",
    "make_orphans",
    "snapshot",
]
