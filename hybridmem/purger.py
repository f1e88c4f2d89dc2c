"""The background purge of ``hybridmem serve``: ``purge_expired()`` every N seconds.

Expired memories are invisible to reads from the moment they expire; the purge
frees what they still hold (vectors, graph nodes, history texts). One thread
runs it; ``stop()`` wakes the thread and waits for a purge in progress to end,
so a shutdown never leaves one half-done (and if the process dies instead, the
journal keeps it pending for ``recover()``).
"""

from __future__ import annotations

import logging

from hybridmem.periodic import PeriodicTask
from hybridmem.store import HybridStore

log = logging.getLogger("hybridmem.purge")


class PurgeLoop(PeriodicTask):
    """Runs ``store.purge_expired()`` every ``interval`` seconds once started."""

    name = "purge"

    def __init__(self, store: HybridStore, interval: float) -> None:
        super().__init__(interval, log)
        self.store = store
        #: Purges run so far, and the memories they erased.
        self.runs = 0
        self.purged = 0

    def run_once(self) -> int:
        result = self.store.purge_expired()
        self.runs += 1
        self.purged += result.memories
        if result.memories:
            log.info(
                "purged %d expired memories (%d vectors, %d memory nodes,"
                " %d orphan entities) in %.3fs",
                result.memories,
                result.vectors,
                result.memory_nodes,
                result.orphan_entities,
                result.elapsed_seconds,
            )
        return result.memories
