"""The background purge of ``hybridmem serve``: ``purge_expired()`` every N seconds.

Expired memories are invisible to reads from the moment they expire; the purge
frees what they still hold (vectors, graph nodes, history texts). One thread
runs it; ``stop()`` wakes the thread and waits for a purge in progress to end,
so a shutdown never leaves one half-done (and if the process dies instead, the
journal keeps it pending for ``recover()``).
"""

from __future__ import annotations

import logging
import threading

from hybridmem.errors import HybridMemError
from hybridmem.store import HybridStore

log = logging.getLogger("hybridmem.purge")


class PurgeLoop:
    """Runs ``store.purge_expired()`` every ``interval`` seconds once started."""

    def __init__(self, store: HybridStore, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the purge interval must be more than 0 seconds")
        self.store = store
        self.interval = interval
        #: Purges run so far, and the memories they erased.
        self.runs = 0
        self.purged = 0
        #: Purges that failed (each is retried at the next interval).
        self.failures = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hybridmem-purge", daemon=True)

    def start(self) -> PurgeLoop:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        """The loop's thread is running (a purge that fails does not end it)."""
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                result = self.store.purge_expired()
            except HybridMemError as exc:
                # A store that is down: the purge stays pending, the next run resumes it.
                self.failures += 1
                log.warning("purge of expired memories failed: %s", exc)
                continue
            except Exception:
                # Anything else (a bug, a record no reader expected) must not end the
                # loop: a dead thread would leave every later expiry unpurged for the
                # life of the server. Logged with its traceback; the next run retries.
                self.failures += 1
                log.exception("purge of expired memories failed unexpectedly; retrying")
                continue
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
