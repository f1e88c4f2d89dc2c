"""Executes mutating operations against both stores, journaled, resumable.

Every mutation: journal ``begin`` → store steps (each followed by a fault
point) → journal ``finish`` with its history, atomically. A failure leaves the
operation pending; ``recover()`` completes deletions and rolls back adds, and
the store steps are idempotent, so repeating any of them is safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime

from hybridmem.errors import HybridMemError, ValidationError
from hybridmem.faults import FaultHook
from hybridmem.journal import HistoryEntry, Journal, PendingOperation, now
from hybridmem.models import (
    DeleteProgress,
    DeleteResult,
    OrphanCounts,
    ReconcileReport,
    RecoveredOperation,
    Scope,
)
from hybridmem.plan import DELETE_MESSAGE, DeletionPlan, DeletionTally, preview
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.records import MemoryGraph, VectorRecord, text_hash
from hybridmem.scope_locks import ScopeLocks

ProgressCallback = Callable[[DeleteProgress], None]


class Coordinator:
    def __init__(
        self,
        graph: GraphStore,
        vector: VectorStore,
        journal: Journal,
        *,
        batch_size: int,
        fault: FaultHook,
    ) -> None:
        self.graph = graph
        self.vector = vector
        self.journal = journal
        self.batch_size = batch_size
        self._fault = fault
        # Operations running in this process: recover() must not roll them back.
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        self.locks = ScopeLocks()

    @contextmanager
    def _operation(self, op_id: str) -> Iterator[None]:
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

    # -- add / update / delete ----------------------------------------------------

    def add(
        self, record: VectorRecord, graph: MemoryGraph, *, caller_id: bool = False
    ) -> VectorRecord:
        """Write a new memory; returns what is stored.

        With ``caller_id`` (the caller chose ``record.id``) the write is idempotent:
        if a whole memory of that id exists in the same scope, writing it again
        leaves one record — unchanged when text, embedding and metadata are the
        same, else replaced by a journaled update (created_at kept). The lookup
        runs under the claim, so a racing erasure is either before it (nothing
        exists: a fresh add) or after it (the erasure sees the result)."""
        with self.locks.records(record.scope):
            if caller_id:
                existing = self._existing(record)
                if existing is not None:
                    return self._rewrite(existing, record, graph)
            self._add(record, graph)
            return record

    def _existing(self, record: VectorRecord) -> VectorRecord | None:
        """The whole memory stored under ``record.id``, if any (None for none or a half)."""
        found = self.vector.get([record.id])
        node = self.graph.get_memory_node(record.id)
        for scope in [r.scope for r in found] + ([node.scope] if node is not None else []):
            if scope != record.scope:
                raise ValidationError(
                    f"memory_id {record.id} is taken by a memory of another scope"
                )
        # A half memory (left by a crash) is completed by a fresh add: both steps are
        # idempotent, and a rollback removes only what reconcile would remove anyway.
        return found[0] if found and node is not None else None

    def _rewrite(self, old: VectorRecord, new: VectorRecord, graph: MemoryGraph) -> VectorRecord:
        if _same_content(old, new):
            return old
        if graph.entities or graph.relations:
            raise ValidationError(
                f"memory {old.id} exists: its entities and relations are fixed when it is"
                " first added; delete it to add it anew"
            )
        kept = replace(new, created_at=old.created_at)
        self._update(old, kept)
        return kept

    def _add(self, record: VectorRecord, graph: MemoryGraph) -> None:
        op_id = self.journal.begin("add", scope=record.scope, memory_id=record.id)
        with self._operation(op_id):
            self._fault("add.journaled")
            try:
                self.vector.upsert([record])
                self._fault("add.vector_written")
                self.graph.add_memories([graph])
                self._fault("add.graph_written")
            except HybridMemError:
                # Undo now if the stores let us; otherwise recover() will.
                self._try_roll_back_add(op_id, record.id)
                raise
            self.journal.finish(
                op_id,
                events=[
                    HistoryEntry(
                        "ADD", record.id, record.scope, new_text=record.text, hash=record.hash
                    )
                ],
            )

    def _try_roll_back_add(self, op_id: str, memory_id: str) -> None:
        try:
            self._roll_back_add(op_id, memory_id)
        except HybridMemError:
            pass

    def _roll_back_add(self, op_id: str, memory_id: str) -> None:
        self.vector.delete([memory_id])
        self._fault("add.rollback.vector_deleted")
        self.graph.delete_memories([memory_id])
        self._fault("add.rollback.graph_deleted")
        self.journal.finish(op_id, {"rolled_back": 1})

    def update(self, old: VectorRecord, new: VectorRecord) -> None:
        with self.locks.records(old.scope):
            self._update(old, new)

    def _update(self, old: VectorRecord, new: VectorRecord) -> None:
        payload = {
            "old_text": old.text,
            "text": new.text,
            "embedding": new.embedding,
            "metadata": new.metadata,
            "updated_at": new.updated_at.isoformat(),
        }
        op_id = self.journal.begin("update", scope=old.scope, memory_id=old.id, payload=payload)
        with self._operation(op_id):
            self._fault("update.journaled")
            self._apply_update(op_id, old.text, new)

    def _apply_update(self, op_id: str, old_text: str, new: VectorRecord) -> None:
        self.vector.upsert([new])
        self._fault("update.vector_written")
        self.graph.touch_memory(new.id, new.updated_at)
        self._fault("update.graph_written")
        self.journal.finish(
            op_id,
            events=[
                HistoryEntry(
                    "UPDATE", new.id, new.scope, old_text=old_text, new_text=new.text, hash=new.hash
                )
            ],
        )

    def delete(self, memory_id: str, scope: Scope) -> DeleteResult:
        started = time.monotonic()
        with self.locks.records(scope):
            op_id = self.journal.begin("delete", scope=scope, memory_id=memory_id)
            with self._operation(op_id):
                self._fault("delete.journaled")
                return self._run_delete(op_id, memory_id, scope, started)

    def _run_delete(self, op_id: str, memory_id: str, scope: Scope, started: float) -> DeleteResult:
        plan = DeletionPlan(op_id, scope, 1)
        vectors = self.vector.delete([memory_id])
        self._fault("delete.vector_deleted")
        counts = self.graph.delete_memories([memory_id])
        self._fault("delete.graph_deleted")
        plan.tally.add_batch(vectors, counts)
        if counts.memory_nodes == 0 and vectors:
            # Only the vector was left (an orphan): it is still one memory erased.
            plan.tally.memories = vectors
        self.journal.finish(
            op_id,
            plan.tally.counts(),
            events=[HistoryEntry("DELETE", memory_id, scope)],
            erase_ids=[memory_id],
        )
        return plan.result(time.monotonic() - started, message=DELETE_MESSAGE)

    # -- delete_all -----------------------------------------------------------------

    def preview(self, scope: Scope) -> DeleteResult:
        started = time.monotonic()
        return preview(
            "dry-run",
            scope,
            self.vector.count_scope(scope),
            self.graph.count_scope(scope),
            time.monotonic() - started,
        )

    def delete_all(self, scope: Scope, progress: ProgressCallback | None) -> DeleteResult:
        with self.locks.erase(scope):
            op_id = self.journal.begin("delete_all", scope=scope)
            with self._operation(op_id):
                self._fault("delete_all.journaled")
                return self._run_delete_all(op_id, scope, DeletionTally(), progress)

    def _run_delete_all(
        self,
        op_id: str,
        scope: Scope,
        tally: DeletionTally,
        progress: ProgressCallback | None,
    ) -> DeleteResult:
        started = time.monotonic()
        report = progress or (lambda _: None)
        plan = DeletionPlan(op_id, scope, self.batch_size, tally=tally)
        plan.total = tally.memories + self.vector.count_scope(scope)
        self._fault("delete_all.counted")
        report(plan.progress("counting"))
        while True:
            ids = self.graph.scope_memory_ids(scope, self.batch_size)
            if not ids:
                break
            plan.next_batch_guard(ids)
            self._fault("delete_all.batch_fetched")
            vectors = self.vector.delete(ids)
            self._fault("delete_all.vectors_deleted")
            counts = self.graph.delete_memories(ids)
            self._fault("delete_all.graph_deleted")
            plan.tally.add_batch(vectors, counts)
            self.journal.checkpoint(
                op_id,
                plan.tally.counts(),
                events=[HistoryEntry("DELETE", memory_id, scope) for memory_id in ids],
                erase_ids=ids,
            )
            self._fault("delete_all.batch_journaled")
            report(plan.progress("deleting"))
        plan.tally.add_swept_vectors(self.vector.delete_scope(scope, self.batch_size))
        self._fault("delete_all.vectors_swept")
        report(plan.progress("cleanup"))
        totals = plan.tally.counts()
        self.journal.finish(
            op_id,
            totals,
            events=[HistoryEntry("DELETE_ALL", None, scope, counts=_public(totals))],
            erase_scope=scope,
        )
        report(plan.progress("done"))
        return plan.result(time.monotonic() - started)

    # -- reset ------------------------------------------------------------------------

    def reset(self) -> dict[str, int]:
        with self.locks.everything():
            op_id = self.journal.begin("reset")
            with self._operation(op_id):
                self._fault("reset.journaled")
                return self._run_reset(op_id)

    def _run_reset(self, op_id: str) -> dict[str, int]:
        counts = {"vectors": self.vector.count(), **self.graph.stats()}
        self.vector.reset()
        self._fault("reset.vector_reset")
        self.graph.reset()
        self._fault("reset.graph_reset")
        self.journal.finish(
            op_id,
            counts,
            events=[HistoryEntry("RESET", None, Scope(), counts=counts)],
            erase_everything=True,
        )
        return counts

    # -- reconcile and recover ----------------------------------------------------------

    def reconcile(self, fix: bool) -> ReconcileReport:
        if not fix:
            # A read-only scan: adds in flight are protected through the journal.
            return self._reconcile(None)
        with self.locks.everything():
            op_id = self.journal.begin("reconcile")
            self._fault("reconcile.journaled")
            return self._reconcile(op_id)

    def _reconcile(self, op_id: str | None) -> ReconcileReport:
        fix = op_id is not None
        protected = self.journal.pending_memory_ids("add")
        found = OrphanCounts()
        removed = OrphanCounts()
        # Vectors without nodes, then nodes without vectors; entities last, because
        # removing orphan memory nodes can orphan their entities.
        for batch in self.vector.iter_ids(self.batch_size):
            missing = sorted(set(batch) - self.graph.existing_memory_ids(batch) - protected)
            found.orphan_vectors += len(missing)
            if fix and missing:
                removed.orphan_vectors += self.vector.delete(missing)
                self._fault("reconcile.vectors_fixed")
        for batch in self.graph.iter_memory_ids(self.batch_size):
            missing = sorted(set(batch) - self.vector.existing_ids(batch) - protected)
            found.orphan_memory_nodes += len(missing)
            if fix and missing:
                counts = self.graph.delete_memories(missing)
                removed.orphan_memory_nodes += counts.memory_nodes
                removed.orphan_entities += counts.orphan_entities
                if op_id is not None:
                    self.journal.checkpoint(op_id, {}, erase_ids=missing)
                    self._fault("reconcile.nodes_fixed")
        found.dangling_relations = self.graph.reconcile_relations(False, sorted(protected))
        if fix:
            removed.dangling_relations = self.graph.reconcile_relations(True, sorted(protected))
            self._fault("reconcile.relations_fixed")
        found.orphan_entities = self.graph.reconcile_entities(False) + removed.orphan_entities
        if fix:
            removed.orphan_entities += self.graph.reconcile_entities(True)
        if op_id is not None:
            self.journal.finish(op_id, removed.model_dump())
        return ReconcileReport(found=found, removed=removed, fixed=fix)

    def recover(self) -> list[RecoveredOperation]:
        finished: list[RecoveredOperation] = []
        for op in self.journal.pending():
            with self._in_flight_lock:
                if op.id in self._in_flight:
                    continue
            finished.append(self._recover_one(op))
        return finished

    def _claim_for(self, op: PendingOperation) -> AbstractContextManager[None]:
        if op.kind in ("add", "update", "delete"):
            return self.locks.records(op.scope)
        if op.kind == "delete_all":
            return self.locks.erase(op.scope)
        return self.locks.everything()

    def _recover_one(self, op: PendingOperation) -> RecoveredOperation:
        with self._claim_for(op), self._operation(op.id):
            if op.kind == "add" and op.memory_id is not None:
                self._roll_back_add(op.id, op.memory_id)
                return RecoveredOperation(operation_id=op.id, kind=op.kind, outcome="rolled_back")
            if op.kind == "update" and op.memory_id is not None:
                self._complete_update(op, op.memory_id)
            elif op.kind == "delete" and op.memory_id is not None:
                self._run_delete(op.id, op.memory_id, op.scope, time.monotonic())
            elif op.kind == "delete_all":
                self._run_delete_all(op.id, op.scope, DeletionTally.from_counts(op.counts), None)
            elif op.kind == "reset":
                self._run_reset(op.id)
            elif op.kind == "reconcile":
                self._reconcile(op.id)
            else:
                self.journal.finish(op.id, {"unknown_kind": 1})
        return RecoveredOperation(operation_id=op.id, kind=op.kind, outcome="completed")

    def _complete_update(self, op: PendingOperation, memory_id: str) -> None:
        current = self.vector.get([memory_id])
        if not current or self.graph.get_memory_node(memory_id) is None:
            # Deleted since (or never whole): nothing to bring up to date.
            self.journal.finish(op.id, {"skipped": 1})
            return
        payload = op.payload
        new = replace(
            current[0],
            text=payload["text"],
            hash=text_hash(payload["text"]),
            embedding=list(payload["embedding"]),
            metadata=dict(payload["metadata"]),
            updated_at=datetime.fromisoformat(payload.get("updated_at") or now().isoformat()),
        )
        self._apply_update(op.id, payload.get("old_text", ""), new)


def _same_content(old: VectorRecord, new: VectorRecord) -> bool:
    """Same text, metadata and embedding — the stored one read back as float32."""
    if (old.text, old.metadata, len(old.embedding)) != (new.text, new.metadata, len(new.embedding)):
        return False
    return all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
        for a, b in zip(old.embedding, new.embedding, strict=True)
    )


def _public(counts: dict[str, int]) -> dict[str, int]:
    return {name: value for name, value in counts.items() if name != "batches"}
