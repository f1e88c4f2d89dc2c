"""The scheduled compaction of ``hybridmem serve``: ``store.compact()`` every N
seconds (``[server] compact_interval_seconds``, default a day; 0: never), when
an operation that may leave erased bytes behind (a delete, delete_all,
purge_expired, reset, reconcile or update) has finished since the last
compaction. So erased bytes stay in the embedded files for at most one interval
plus one compaction's run. ``stop()`` waits for a compaction in progress to end;
a process that dies instead leaves it to ``recover()`` on the next open.
"""

from __future__ import annotations

import logging

from hybridmem.compaction import RewritableStore
from hybridmem.journal import Journal
from hybridmem.journal_scrub import erased_since_compaction
from hybridmem.periodic import PeriodicTask
from hybridmem.store import HybridStore

log = logging.getLogger("hybridmem.compact")


def has_local_files(store: HybridStore) -> bool:
    """Anything a compaction rewrites: an embedded file, or the local journal."""
    roles = (store.graph, store.vector)
    return isinstance(store.journal, Journal) or any(isinstance(r, RewritableStore) for r in roles)


def due(store: HybridStore) -> bool:
    """Something was erased since the last compaction (always, without a local journal
    to tell)."""
    if isinstance(store.journal, Journal):
        return erased_since_compaction(store.journal.path)
    return True


class CompactLoop(PeriodicTask):
    """Runs ``store.compact()`` every ``interval`` seconds once started, when due."""

    name = "compaction"

    def __init__(self, store: HybridStore, interval: float) -> None:
        super().__init__(interval, log)
        self.store = store
        #: Compactions run so far.
        self.runs = 0

    def run_once(self) -> bool:
        """Compact if due; True when a compaction ran."""
        if not due(self.store):
            return False
        report = self.store.compact()
        self.runs += 1
        log.info(
            "compacted %d file(s): %d bytes before, %d after, %d erased scope ids scrubbed,"
            " in %.1fs",
            len(report.files),
            report.bytes_before,
            report.bytes_after,
            report.scope_ids_scrubbed,
            report.elapsed_seconds,
        )
        return True
