"""The takeover of ``hybridmem serve`` on a shared journal: ``recover()`` once
every lease.

A process that dies leaves its operations pending in the shared journal: an
erasure half-done, an ``add_many`` batch half-written, or a ``delete_all`` it
had accepted and journaled while it waited for another erasure's claim. Any
process may finish them once their owner's lease has run out, but the workers
that stay up open their store only once. So every ``serve`` (the supervisor of
``--workers N`` too) runs ``recover()`` each lease: a dead process's operations
are finished or rolled back within about two leases, with no restart and no one
calling ``recover``. A live process's operations are never touched (the shared
journal answers only those whose owner's lease ran out, and this process's own
that no thread of it runs).
"""

from __future__ import annotations

import logging

from hybridmem.journal_port import Leased
from hybridmem.periodic import PeriodicTask
from hybridmem.store import HybridStore

log = logging.getLogger("hybridmem.takeover")


def takeover_interval(store: HybridStore) -> float | None:
    """The lease of a store whose journal is shared; None for a local journal
    (one process: it recovers on open)."""
    journal = store.journal
    return journal.lease_seconds if isinstance(journal, Leased) else None


class TakeoverLoop(PeriodicTask):
    """Runs ``store.recover()`` every ``interval`` seconds once started."""

    name = "takeover"

    def __init__(self, store: HybridStore, interval: float) -> None:
        super().__init__(interval, log)
        self.store = store
        #: Operations finished or rolled back so far.
        self.taken_over = 0

    def run_once(self) -> int:
        recovered = self.store.recover()
        for op in recovered:
            log.info("took over operation %s (%s): %s", op.operation_id, op.kind, op.outcome)
        self.taken_over += len(recovered)
        return len(recovered)


def start_takeover(store: HybridStore) -> TakeoverLoop | None:
    """The loop for a store whose journal is shared, started; else None."""
    interval = takeover_interval(store)
    return TakeoverLoop(store, interval).start() if interval is not None else None
