"""What every operation runs against: the stores, the journal, the claims, the
fault hook, and the operations running in this process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar

from hybridmem.errors import HybridMemError
from hybridmem.faults import FaultHook
from hybridmem.journal import HistoryEntry, PendingOperation
from hybridmem.journal_port import BeginsClaimed, FinishesGraphWrites, JournalPort
from hybridmem.models import OperationKind, Scope
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.records import VectorRecord
from hybridmem.scope_locks import Claims

#: ``within`` of a caller that may touch every scope.
ANY_SCOPE = Scope()

#: What ``resume`` did with a pending operation.
Resumed = Literal["completed", "rolled_back"]
T = TypeVar("T")


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

    @contextmanager
    def claimed_begin(
        self,
        kind: OperationKind,
        scope: Scope,
        memory_id: str,
        *,
        payload: dict[str, Any] | None = None,
        expiring: Sequence[tuple[str, Scope, datetime]] = (),
        if_node: bool = False,
    ) -> Iterator[str | None]:
        """The claim of one memory and the begin of its operation in one round trip,
        where the journal holds the claims (``BeginsClaimed``); yields the operation's
        id, or None when the journal cannot (or, with ``if_node``, when the graph has
        no node of the memory): the caller then takes the usual path, claim then begin."""
        journal = self.journal
        if not isinstance(journal, BeginsClaimed):
            yield None
            return
        with journal.begin_claimed(
            kind,
            scope=scope,
            memory_id=memory_id,
            payload=payload,
            expiring=expiring,
            if_node=if_node,
        ) as op_id:
            yield op_id

    def write_then_finish(
        self,
        op_id: str,
        write: Callable[[], T],
        point: str,
        *,
        counts: Callable[[T], dict[str, int]] | None = None,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
    ) -> T:
        """``write()`` (the graph's part), the fault ``point``, then the journal's
        finish: in one transaction where the journal is in the graph's database
        (``FinishesGraphWrites``), the point then reached before its commit. ``write``
        and ``counts`` may run twice there (a transient error retries): they must
        change nothing outside the graph's write."""
        journal = self.journal
        if isinstance(journal, FinishesGraphWrites) and journal.joins(self.graph):
            return journal.finish_writing(
                op_id,
                write,
                reached=lambda: self.fault(point),
                counts=counts,
                events=events,
                erase_ids=erase_ids,
            )
        result = write()
        self.fault(point)
        self.journal.finish(
            op_id,
            counts(result) if counts is not None else None,
            events=events,
            erase_ids=erase_ids,
        )
        return result


def expiring(records: Sequence[VectorRecord]) -> list[tuple[str, Scope, datetime]]:
    """The time-index rows of ``records`` that expire."""
    return [(r.id, r.scope, r.expires_at) for r in records if r.expires_at is not None]


def close_unknown(ctx: OperationContext, op: PendingOperation) -> Resumed:
    """Close an operation this version cannot run: a kind only a newer version
    knows, or a row that lacks what its kind needs (a memory id)."""
    ctx.journal.finish(op.id, {"unknown_kind": 1})
    return "completed"
