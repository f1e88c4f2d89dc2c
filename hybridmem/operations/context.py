"""What every operation runs against: the stores, the journal, the claims, the
fault hook, and the operations running in this process."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Literal

from hybridmem.errors import HybridMemError
from hybridmem.faults import FaultHook
from hybridmem.journal import PendingOperation
from hybridmem.journal_port import JournalPort
from hybridmem.models import Scope
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.records import VectorRecord
from hybridmem.scope_locks import Claims

#: ``within`` of a caller that may touch every scope.
ANY_SCOPE = Scope()

#: What ``resume`` did with a pending operation.
Resumed = Literal["completed", "rolled_back"]


class OperationContext:
    """One graph + vector pair with its journal and claims. Thread-safe."""

    def __init__(
        self,
        graph: GraphStore,
        vector: VectorStore,
        journal: JournalPort,
        *,
        batch_size: int,
        fault: FaultHook,
        locks: Claims,
    ) -> None:
        self.graph = graph
        self.vector = vector
        self.journal = journal
        self.batch_size = batch_size
        self.fault = fault
        self.locks = locks
        # Operations running in this process: recover() must not roll them back.
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()

    @contextmanager
    def running(self, op_id: str) -> Iterator[None]:
        """Mark ``op_id`` in flight; a hybridmem error inside is noted on it."""
        with self._in_flight_lock:
            self._in_flight.add(op_id)
        try:
            yield
        except HybridMemError as exc:
            self.journal.fail(op_id, str(exc))
            raise
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(op_id)

    def in_flight(self, op_id: str) -> bool:
        with self._in_flight_lock:
            return op_id in self._in_flight

    def pending_now(self, op_id: str) -> PendingOperation | None:
        return next(iter(self.journal.pending(op_id)), None)


def expiring(records: Sequence[VectorRecord]) -> list[tuple[str, Scope, datetime]]:
    """The time-index rows of ``records`` that expire."""
    return [(r.id, r.scope, r.expires_at) for r in records if r.expires_at is not None]


def close_unknown(ctx: OperationContext, op: PendingOperation) -> Resumed:
    """Close an operation this version cannot run: a kind only a newer version
    knows, or a row that lacks what its kind needs (a memory id)."""
    ctx.journal.finish(op.id, {"unknown_kind": 1})
    return "completed"
