"""The facade the store calls for every mutating operation.

Each operation kind is a module of ``hybridmem.operations`` (its run, its
claim, its resume and its typed payload); this class holds what they run
against (``OperationContext``) and hands each call to its module. Every
mutation: claim its scope (``hybridmem.scope_locks``) → journal ``begin`` →
store steps (each followed by a fault point, ``hybridmem.faults``) → journal
``finish`` with its history, atomically. A failure leaves the operation
pending; ``recover()`` (``hybridmem.operations.recovery``) completes deletions
and rolls back adds, and the store steps are idempotent, so repeating any of
them is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hybridmem.faults import FaultHook
from hybridmem.journal_port import JournalPort
from hybridmem.models import (
    DeleteResult,
    ProgressCallback,
    ReconcileReport,
    RecoveredOperation,
    Scope,
)
from hybridmem.operations import (
    add,
    add_many,
    delete,
    erase,
    purge,
    reconcile,
    recovery,
    reset,
    update,
)
from hybridmem.operations.add_many import BatchOutcome
from hybridmem.operations.context import ANY_SCOPE, OperationContext
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.records import MemoryGraph, NewMemory, VectorRecord
from hybridmem.scope_locks import Claims, ScopeLocks

__all__ = ["BatchOutcome", "Coordinator"]


class Coordinator:
    """Runs add, update, delete, delete_all, reset, reconcile and recover on one
    graph + vector pair, journaled, with the fault hook called between steps.

    ``HybridStore`` validates and builds the records, then hands them here; this
    class never validates input. Thread-safe: scope claims order conflicting
    operations, and ``recover()`` skips operations still running in this process.
    """

    def __init__(
        self,
        graph: GraphStore,
        vector: VectorStore,
        journal: JournalPort,
        *,
        batch_size: int,
        fault: FaultHook,
        claims: Claims | None = None,
    ) -> None:
        # Per process, unless the graph store shares leases among processes.
        locks: Claims = claims if claims is not None else ScopeLocks()
        self.context = OperationContext(
            graph, vector, journal, batch_size=batch_size, fault=fault, locks=locks
        )

    @property
    def graph(self) -> GraphStore:
        return self.context.graph

    @property
    def vector(self) -> VectorStore:
        return self.context.vector

    @property
    def journal(self) -> JournalPort:
        return self.context.journal

    @property
    def locks(self) -> Claims:
        return self.context.locks

    def add(
        self, record: VectorRecord, graph: MemoryGraph, *, caller_id: bool = False
    ) -> VectorRecord:
        return add.run(self.context, record, graph, caller_id=caller_id)

    def add_batch(self, batch: Sequence[NewMemory]) -> BatchOutcome:
        return add_many.run(self.context, batch)

    def update(
        self,
        memory_id: str,
        scope: Scope,
        change: Callable[[VectorRecord], VectorRecord],
        *,
        within: Scope = ANY_SCOPE,
    ) -> VectorRecord:
        return update.run(self.context, memory_id, scope, change, within=within)

    def delete(self, memory_id: str, scope: Scope, *, within: Scope = ANY_SCOPE) -> DeleteResult:
        return delete.run(self.context, memory_id, scope, within=within)

    def preview(self, scope: Scope) -> DeleteResult:
        return erase.dry_run(self.context, scope)

    def delete_all(self, scope: Scope, progress: ProgressCallback | None) -> DeleteResult:
        return erase.run(self.context, scope, progress)

    def purge_expired(self, progress: ProgressCallback | None) -> DeleteResult:
        return purge.run(self.context, progress)

    def reset(self) -> dict[str, int]:
        return reset.run(self.context)

    def reconcile(self, fix: bool) -> ReconcileReport:
        return reconcile.run(self.context, fix)

    def recover(self) -> list[RecoveredOperation]:
        return recovery.recover(self.context)
