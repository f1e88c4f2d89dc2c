"""What 'no trace' means after an erasure through a framework: both stores agree."""

from __future__ import annotations

from hybridmem.api import MemoryStore


def assert_no_trace(store: MemoryStore, *, left: int = 0) -> None:
    """No orphan of any kind, and exactly ``left`` memories in each store."""
    report = store.reconcile()
    found = report.found.model_dump()
    assert found == dict.fromkeys(found, 0), found
    stats = store.stats()
    assert (stats["vectors"], stats["memory_nodes"]) == (left, left)
    assert stats["pending_operations"] == 0
