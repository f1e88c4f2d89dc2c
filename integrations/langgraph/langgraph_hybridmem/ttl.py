"""The TTL sweep of HybridMemStore: hybridmem's purge, and items whose expiry is
only in their metadata (written before items used hybridmem's own expiry)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from typing import Any

from langgraph.store.base import TTLConfig

from hybridmem.api import MemoryStore
from hybridmem.models import Memory
from langgraph_hybridmem.items import EXPIRES_KEY, NEVER, alive


class TTLSweeper:
    store: MemoryStore
    ttl_config: TTLConfig | None

    def __init__(self) -> None:
        self._sweeper: tuple[threading.Event, Future[None]] | None = None
        self._legacy_lock = threading.Lock()
        self._legacy_scanned: list[tuple[str, ...]] = []
        self._legacy: dict[str, float] = {}

    def _matching(
        self, prefix: tuple[str, ...], filter: Mapping[str, Any] | None, expired_too: bool = False
    ) -> Iterator[Memory]:
        raise NotImplementedError

    def sweep_ttl(self, prefix: tuple[str, ...] = ()) -> int:
        """Erase the expired items; returns how many memories were erased.

        First hybridmem's ``purge_expired()``: it erases every expired memory of
        the store (these items and any other; they are invisible to every read
        already), as one coordinated erasure. Then the items whose expiry is only
        in their metadata (written by versions before the core expiry). Finding
        those reads every item under ``prefix``, so it is done once per prefix by
        this store object; the ones not yet expired are remembered and erased by
        a later sweep."""
        erased = int(self.store.purge_expired()["memories"])
        with self._legacy_lock:
            if not any(prefix[: len(done)] == done for done in self._legacy_scanned):
                for memory in self._matching(prefix, None, expired_too=True):
                    # Items without a TTL (NEVER) are not held: that would be every
                    # such item of the store, in memory, checked on each sweep.
                    expires = float(memory.metadata.get(EXPIRES_KEY, NEVER))
                    if expires < NEVER and (memory.expires_at is None or not alive(memory)):
                        self._legacy[memory.id] = expires
                self._legacy_scanned.append(prefix)
            now = time.time()
            for memory_id, expires in list(self._legacy.items()):
                if expires > now:
                    continue
                del self._legacy[memory_id]
                # Read again: a put since the scan wrote a new expiry.
                now_stored = self.store.get(memory_id)
                if now_stored is not None and not alive(now_stored):
                    self.store.delete(memory_id)
                    erased += 1
        return erased

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> Future[None]:
        """Run :meth:`sweep_ttl` every ``sweep_interval_minutes`` (default: the TTL
        config's ``sweep_interval_minutes``) in a daemon thread, as LangGraph's
        server stores do, until :meth:`stop_ttl_sweeper`. The future ends when the
        sweeper stops, with the error that stopped it if one did."""
        minutes = sweep_interval_minutes
        if minutes is None:
            minutes = (self.ttl_config or {}).get("sweep_interval_minutes")
        if minutes is None or not minutes > 0:
            raise ValueError(
                "start_ttl_sweeper needs sweep_interval_minutes > 0, given here or in"
                " ttl={'sweep_interval_minutes': …}"
            )
        if self._sweeper is not None and not self._sweeper[1].done():
            raise RuntimeError("the TTL sweeper is running already")
        stop = threading.Event()
        done: Future[None] = Future()

        def run() -> None:
            try:
                while not stop.wait(60.0 * float(minutes)):
                    self.sweep_ttl()
            except BaseException as exc:  # handed to the future's owner
                done.set_exception(exc)
            else:
                done.set_result(None)

        threading.Thread(target=run, name="hybridmem-ttl-sweeper", daemon=True).start()
        self._sweeper = (stop, done)
        return done

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper; True once it has stopped (within ``timeout`` seconds)."""
        if self._sweeper is None:
            return True
        stop, done = self._sweeper
        stop.set()
        try:
            done.exception(timeout=timeout)
        except TimeoutError:
            return False
        self._sweeper = None
        return True
