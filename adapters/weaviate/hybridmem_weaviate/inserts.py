"""How a batch of objects goes to Weaviate: split into requests, some at once.

The defaults were chosen by benchmarks/ingest.py (docs/benchmarks.md, 2026-12-05):
Weaviate's batch insert is bound by its HNSW build, which already uses every
core inside one request, so splitting a batch pays only where the client's
encoding overlaps the server's indexing; the HNSW construction settings move
the rate most, at a recall@10 measured beside it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: HNSW construction of a collection this adapter creates (Weaviate's own: 128 / 32).
#: maxConnections 16 built faster but lost recall on hard vectors (0.81 against 0.94).
DEFAULT_EF_CONSTRUCTION = 64
DEFAULT_MAX_CONNECTIONS = 32
#: Objects per insert request, and requests in flight at once for one upsert.
DEFAULT_INSERT_BATCH = 1000
DEFAULT_INSERT_CONCURRENCY = 1


class Inserts:
    """Sends one upsert's objects as requests of at most ``batch`` objects,
    ``concurrency`` at a time. Every request is waited for before the upsert
    returns or raises, so a failure never leaves a request still writing behind
    the caller's rollback."""

    def __init__(self, batch: int, concurrency: int) -> None:
        if batch < 1 or concurrency < 1:
            raise ValueError("insert_batch and insert_concurrency must be at least 1")
        self.batch = batch
        self.concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self, objects: Sequence[Any], send: Callable[[list[Any]], None]) -> None:
        parts = [list(objects[at : at + self.batch]) for at in range(0, len(objects), self.batch)]
        if self.concurrency == 1 or len(parts) == 1:
            for part in parts:
                send(part)
            return
        futures = [self._executor().submit(send, part) for part in parts]
        errors = [f.exception() for f in futures]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.concurrency, thread_name_prefix="hybridmem-weaviate-insert"
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
