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
import threading

from hybridmem.compaction import RewritableStore
from hybridmem.journal import Journal
from hybridmem.journal_scrub import erased_since_compaction
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


class CompactLoop:
    """Runs ``store.compact()`` every ``interval`` seconds once started, when due."""

    def __init__(self, store: HybridStore, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the compaction interval must be more than 0 seconds")
        self.store = store
        self.interval = interval
        #: Compactions run, and those that failed (each retried at the next interval).
        self.runs = 0
        self.failures = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hybridmem-compact", daemon=True)

    def start(self) -> CompactLoop:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

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

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.run_once()
            except Exception:
                # A failed compaction leaves the old files whole (or recover() finishes
                # the swap): logged, and retried at the next interval.
                self.failures += 1
                log.exception("compaction failed; retrying at the next interval")
