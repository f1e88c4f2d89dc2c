"""The step sequence of every mutating operation, executed against both stores.

Every mutation: claim its scope (``hybridmem.scope_locks``) → journal ``begin``
→ store steps (each followed by a fault point, ``hybridmem.faults``) → journal
``finish`` with its history, atomically. A failure leaves the operation
pending; ``recover()`` completes deletions and rolls back adds, and the store
steps are idempotent, so repeating any of them is safe.

The order of the steps is decided here; the counting, the loop guard, progress
and results of an erasure are ``hybridmem.plan``'s (pure, unit-tested alone).
``delete_all`` takes batches of at most ``batch_size`` memory ids from the
graph and deletes their vectors first (so a half-finished erasure is already
invisible to search), then the memory nodes with their relations and the
entities left orphaned, then checkpoints the journal with the batch's history.
After the last batch a sweep removes vectors of the scope that had no memory
node (orphans of an earlier crash or of outside interference), and the journal
marks the operation done. Resuming from any point repeats at most one batch.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hybridmem.errors import (
    HybridMemError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from hybridmem.faults import FaultHook, InjectedFault
from hybridmem.journal import ExpiryRow, HistoryEntry, PendingOperation, now
from hybridmem.journal_port import JournalPort
from hybridmem.models import (
    NO_OPERATION,
    DeleteResult,
    OperationKind,
    OrphanCounts,
    ProgressCallback,
    ReconcileReport,
    RecoveredOperation,
    Scope,
)
from hybridmem.plan import (
    DELETE_MESSAGE,
    PURGE_MESSAGE,
    DeletionPlan,
    DeletionTally,
    preview,
)
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.records import MemoryGraph, NewMemory, VectorRecord, text_hash
from hybridmem.scope_locks import Claims, ScopeLocks

_log = logging.getLogger(__name__)

#: ``within`` of a caller that may touch every scope.
_ANY_SCOPE = Scope()


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
        self.graph = graph
        self.vector = vector
        self.journal = journal
        self.batch_size = batch_size
        self._fault = fault
        # Operations running in this process: recover() must not roll them back.
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        # Per process, unless the graph store shares leases among processes.
        self.locks: Claims = claims if claims is not None else ScopeLocks()

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
        # Claimed with its id: a delete(id) of a half-written add waits for it to finish.
        with self.locks.records(record.scope, record.id):
            if caller_id:
                existing = self._existing(record)
                if existing is not None:
                    return self._rewrite(existing, record, graph)
            self._add(record, graph, fresh=not caller_id)
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
        # Only a new expiry (a renewed ttl) leaves the graph as it is: allowed.
        renewed = _same_content(old, replace(new, expires_at=old.expires_at))
        if (graph.entities or graph.relations) and not renewed:
            raise ValidationError(
                f"memory {old.id} exists: its entities and relations are fixed when it is"
                " first added; delete it to add it anew"
            )
        kept = replace(new, created_at=old.created_at)
        self._update(old, kept)
        return kept

    def _add(self, record: VectorRecord, graph: MemoryGraph, *, fresh: bool) -> None:
        op_id = self.journal.begin(
            "add", scope=record.scope, memory_id=record.id, expiring=_expiring([record])
        )
        with self._operation(op_id):
            self._fault("add.journaled")
            try:
                self.vector.upsert([record], fresh=fresh)
                self._fault("add.vector_written")
                self.graph.add_memories([graph], fresh=fresh)
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

    # -- add_many -------------------------------------------------------------------

    def add_batch(self, batch: Sequence[NewMemory]) -> BatchOutcome:
        """Write a batch of new memories as one journaled operation, all or nothing.

        The whole batch is claimed first. A caller-chosen id whose whole memory is
        stored with the same scope and content is left as it is (``unchanged``): so
        an import can run again. Any other clash refuses the batch before a write."""
        with self.locks.batch((m.record.scope, m.record.id) for m in batch):
            fresh = self._not_yet_stored(batch)
            if not fresh:
                return BatchOutcome(NO_OPERATION, 0, len(batch))
            op_id = self._add_fresh(fresh)
            return BatchOutcome(op_id, len(fresh), len(batch) - len(fresh))

    def _not_yet_stored(self, batch: Sequence[NewMemory]) -> list[NewMemory]:
        chosen = [m.record.id for m in batch if m.caller_id]
        if not chosen:
            return list(batch)
        vectors = {r.id: r for r in self.vector.get(chosen)}
        nodes = self.graph.existing_memory_ids(chosen)
        fresh = []
        for item in batch:
            new, old = item.record, vectors.get(item.record.id)
            if old is not None and old.scope != new.scope:
                raise ValidationError(f"memory_id {new.id} is taken by a memory of another scope")
            if old is None and new.id in nodes:
                node = self.graph.get_memory_node(new.id)
                if node is not None and node.scope != new.scope:
                    raise ValidationError(
                        f"memory_id {new.id} is taken by a memory of another scope"
                    )
            if old is None or new.id not in nodes:
                # Absent, or half-written by a crash: a fresh write completes it.
                fresh.append(item)
            elif not _same_content(old, new):
                raise ValidationError(
                    f"memory_id {new.id} exists with other text, embedding or metadata;"
                    " add_many does not replace memories: update it, or delete it first"
                )
        return fresh

    def _add_fresh(self, fresh: Sequence[NewMemory]) -> str:
        ids = [m.record.id for m in fresh]
        scopes = {m.record.scope for m in fresh}
        op_id = self.journal.begin(
            "add_many",
            scope=next(iter(scopes)) if len(scopes) == 1 else None,
            payload={"ids": ids},
            expiring=_expiring([m.record for m in fresh]),
        )
        with self._operation(op_id):
            self._fault("add_many.journaled")
            try:
                self.vector.upsert([m.record for m in fresh])
                self._fault("add_many.vector_written")
                self.graph.add_memories([m.graph for m in fresh])
                self._fault("add_many.graph_written")
            except HybridMemError:
                try:
                    self._roll_back_batch(op_id, ids)
                except HybridMemError:
                    pass
                raise
            self.journal.finish(
                op_id,
                {"added": len(ids)},
                events=[
                    HistoryEntry("ADD", r.id, r.scope, new_text=r.text, hash=r.hash)
                    for r in (m.record for m in fresh)
                ],
            )
        return op_id

    def _roll_back_batch(self, op_id: str, ids: Sequence[str]) -> None:
        if ids:
            self.vector.delete(ids)
            self._fault("add_many.rollback.vector_deleted")
            self.graph.delete_memories(ids)
            self._fault("add_many.rollback.graph_deleted")
        self.journal.finish(op_id, {"rolled_back": len(ids)})

    # -- update -----------------------------------------------------------------------

    def update(
        self,
        memory_id: str,
        scope: Scope,
        change: Callable[[VectorRecord], VectorRecord],
        *,
        within: Scope = _ANY_SCOPE,
    ) -> VectorRecord:
        """Apply ``change`` to the memory as it is *under the claim* and write the result.

        The caller looked ``scope`` up without the claim (a memory's scope never
        changes); what it read may have been erased since, so the memory is read
        again here. Gone, or outside the caller's scope ``within``: NotFoundError
        (the same answer for both), and nothing is written anywhere.
        """
        with self.locks.records(scope, memory_id):
            # Erasures delete the vector first, so a memory they touched has none.
            found = self.vector.get([memory_id])
            if not found or found[0].expired(now()) or not within.matches(found[0].scope):
                # Expired: invisible to every read, so not there to update either.
                raise NotFoundError(f"memory {memory_id} not found")
            new = change(found[0])
            self._update(found[0], new)
            return new

    def _update(self, old: VectorRecord, new: VectorRecord) -> None:
        payload = {
            "old_text": old.text,
            "text": new.text,
            "embedding": new.embedding,
            "metadata": new.metadata,
            "updated_at": new.updated_at.isoformat(),
            "expires_at": new.expires_at.isoformat() if new.expires_at else None,
        }
        # A rewrite (add of a caller id) may give the memory another expiry.
        changed = [new] if new.expires_at != old.expires_at else []
        op_id = self.journal.begin(
            "update",
            scope=old.scope,
            memory_id=old.id,
            payload=payload,
            expiring=_expiring(changed),
        )
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

    def delete(self, memory_id: str, scope: Scope, *, within: Scope = _ANY_SCOPE) -> DeleteResult:
        """Erase one memory. ``scope`` is the memory's (looked up without the claim:
        it never changes); ``within`` the caller's: a memory outside it is treated
        exactly as an unknown id."""
        started = time.monotonic()
        with self.locks.records(scope, memory_id):
            # The graph first: on the embedded graph it is a local lookup, and when the
            # node is there the vector store (a network round trip) need not be asked.
            if not within.matches(scope) or (
                not self.graph.existing_memory_ids([memory_id])
                and not self.vector.existing_ids([memory_id])
            ):
                # Already gone (maybe erased while we waited for the claim), or not the
                # caller's: nothing to journal, no store write, no history event, and
                # an answer that names only the caller's scope (the memory's would
                # tell another scope's id from an unknown one).
                plan = DeletionPlan(NO_OPERATION, within, 1)
                return plan.result(time.monotonic() - started, message=DELETE_MESSAGE)
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
        noted_batch: Sequence[str] = (),
    ) -> DeleteResult:
        started = time.monotonic()
        report = progress or (lambda _: None)
        plan = DeletionPlan(op_id, scope, self.batch_size, tally=tally)
        plan.total = tally.memories + self.vector.count_scope(scope)
        self._fault("delete_all.counted")
        report(plan.progress("counting"))
        # A store that keeps the scope apart (a Weaviate tenant per user) erases its
        # vectors in one call; the batches below then have none left to delete.
        vectors_gone = (dropped := self.vector.drop_scope(scope)) is not None
        if dropped:
            with_nodes = sum(
                len(self.graph.existing_memory_ids(dropped[at : at + self.batch_size]))
                for at in range(0, len(dropped), self.batch_size)
            )
            plan.tally.vectors += with_nodes
            # A dropped vector without a memory node was a memory of its own.
            plan.tally.add_swept_vectors(len(dropped) - with_nodes)
        self._fault("delete_all.scope_dropped")
        while True:
            # A batch noted before a crash comes first: its nodes may be gone already.
            resumed, noted = bool(noted_batch), list(noted_batch)
            noted_batch = []
            ids = noted or self.graph.scope_memory_ids(scope, self.batch_size)
            if not ids:
                break
            plan.next_batch_guard(ids)
            self._erase_batch(
                "delete_all", plan, ids, {}, resumed=resumed, vectors_gone=vectors_gone
            )
            report(plan.progress("deleting"))
        plan.tally.add_swept_vectors(self.vector.delete_scope(scope, self.batch_size))
        self._fault("delete_all.vectors_swept")
        report(plan.progress("cleanup"))
        totals = plan.tally.counts()
        self.journal.finish(
            op_id,
            totals,
            events=[HistoryEntry("DELETE_ALL", None, scope, counts=plan.tally.public_counts())],
            erase_scope=scope,
        )
        report(plan.progress("done"))
        return plan.result(time.monotonic() - started)

    def _erase_batch(
        self,
        kind: OperationKind,
        plan: DeletionPlan,
        ids: Sequence[str],
        scopes: Mapping[str, Scope],
        *,
        resumed: bool,
        vectors_gone: bool = False,
    ) -> None:
        """One batch of an erasure of many memories (delete_all, purge_expired): note
        the ids, delete their vectors (so the batch is invisible to search at once),
        then their memory nodes with their relations and the entities left orphaned,
        then checkpoint the counts with a DELETE event per memory, erasing its texts
        from history and its row from the time index. ``scopes`` gives each id's
        scope when they differ (a purge); otherwise they are the plan's scope.
        A ``resumed`` batch was noted before a crash and is not noted again; with
        ``vectors_gone`` the vector store dropped the whole scope already."""
        op_id = plan.operation_id
        if not resumed:
            self.journal.note_batch(op_id, ids, [scopes[m] for m in ids] if scopes else ())
        self._fault(f"{kind}.batch_fetched")
        vectors = 0 if vectors_gone else self.vector.delete(ids)
        self._fault(f"{kind}.vectors_deleted")
        counts = self.graph.delete_memories(ids)
        self._fault(f"{kind}.graph_deleted")
        if resumed:
            # Each noted id was a memory when noted, and this operation erased it.
            counts = replace(counts, memory_nodes=len(ids))
        plan.tally.add_batch(vectors, counts)
        self.journal.checkpoint(
            op_id,
            plan.tally.counts(),
            events=[HistoryEntry("DELETE", m, scopes.get(m, plan.scope)) for m in ids],
            erase_ids=ids,
        )
        self._fault(f"{kind}.batch_journaled")

    # -- purge_expired --------------------------------------------------------------

    def purge_expired(self, progress: ProgressCallback | None) -> DeleteResult:
        """Erase every memory expired by now, found through the journal's time index.

        Each batch of due index rows is claimed (as add_many claims its ids) before
        the stores are read, and checked again under the claim: a memory written
        again since with a later expiry (or none) survives, and a row that points
        at nothing is dropped. The batches are then erased like delete_all's."""
        op_id = self.journal.begin("purge_expired")
        with self._operation(op_id):
            self._fault("purge_expired.journaled")
            return self._run_purge(op_id, DeletionTally(), progress, [], [])

    def _run_purge(
        self,
        op_id: str,
        tally: DeletionTally,
        progress: ProgressCallback | None,
        noted_batch: Sequence[str],
        noted_scopes: Sequence[Scope],
    ) -> DeleteResult:
        started = time.monotonic()
        report = progress or (lambda _: None)
        plan = DeletionPlan(op_id, Scope(), self.batch_size, tally=tally)
        if noted_batch:
            # Noted before a crash: erase it again (idempotent), under its claim.
            scopes = dict(zip(noted_batch, noted_scopes, strict=True))
            with self.locks.batch((scopes[m], m) for m in noted_batch):
                self._erase_batch("purge_expired", plan, noted_batch, scopes, resumed=True)
        # Memories that expire while this runs are left to the next purge: it ends.
        at = now()
        while rows := self.journal.expired(at, self.batch_size):
            plan.next_batch_guard([r.memory_id for r in rows])
            with self.locks.batch((r.scope, r.memory_id) for r in rows):
                due, stale, live = self._due(rows, at)
                self.journal.forget_expiry(stale, reindex=_expiring(live))
                if due:
                    scopes = {r.memory_id: r.scope for r in due}
                    self._erase_batch("purge_expired", plan, list(scopes), scopes, resumed=False)
            report(plan.progress("deleting"))
        self.journal.finish(op_id, plan.tally.counts())
        report(plan.progress("done"))
        return plan.result(time.monotonic() - started, message=PURGE_MESSAGE)

    def _due(
        self, rows: Sequence[ExpiryRow], at: datetime
    ) -> tuple[list[ExpiryRow], list[ExpiryRow], list[VectorRecord]]:
        """Under the claim: the rows whose memory is expired at ``at`` (its vector
        says so, or only its memory node is left); the rows with nothing to erase
        (an add rolled back, a memory written again since); and, of the latter, the
        memories that still expire later (their row is written again from them)."""
        ids = [r.memory_id for r in rows]
        vectors = {v.id: v for v in self.vector.get(ids)}
        nodes = self.graph.existing_memory_ids([m for m in ids if m not in vectors])
        due, stale, live = [], [], []
        for row in rows:
            found = vectors.get(row.memory_id)
            if (found is not None and found.expired(at)) or (
                found is None and row.memory_id in nodes
            ):
                due.append(row)
            else:
                stale.append(row)
                if found is not None:
                    live.append(found)
        return due, stale, live

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
        protected = self.journal.pending_added_ids()
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
        found.dangling_relations = self.graph.count_dangling_relations(sorted(protected))
        if fix:
            removed.dangling_relations = self.graph.delete_dangling_relations(sorted(protected))
            self._fault("reconcile.relations_fixed")
        found.orphan_entities = self.graph.count_orphan_entities() + removed.orphan_entities
        if fix:
            removed.orphan_entities += self.graph.delete_orphan_entities()
        if op_id is not None:
            self.journal.finish(op_id, removed.model_dump())
        return ReconcileReport(found=found, removed=removed, fixed=fix)

    def recover(self) -> list[RecoveredOperation]:
        """Finish or roll back every pending operation. A store error (a store down
        or failing) stops the pass (the operations stay pending); any other failure is that
        operation's alone: it is noted, the pass goes on, and after
        ``MAX_RECOVERY_ATTEMPTS`` failed passes the operation is set aside (reported
        by ``stats()``, never retried on open), so the store still opens."""
        finished: list[RecoveredOperation] = []
        for op in self.journal.pending():
            with self._in_flight_lock:
                if op.id in self._in_flight:
                    continue
            if op.kind == "migrate_graph_labels":
                # Resumed by `hybridmem migrate-neo4j-labels`, never by recover().
                continue
            try:
                recovered = self._recover_one(op)
            except (StoreError, InjectedFault):
                # A store that fails is no fault of the operation's (it stays pending
                # and counts no attempt); an injected fault stands for the process
                # dying here.
                raise
            except Exception as exc:  # one operation must not block the others
                error = f"{type(exc).__name__}: {exc}"
                _log.exception("recovery of operation %s (%s) failed", op.id, op.kind)
                aside = self.journal.recovery_failed(op.id, error)
                recovered = RecoveredOperation(
                    operation_id=op.id,
                    kind=op.kind,
                    outcome="set_aside" if aside else "failed",
                    error=error,
                )
            if recovered is not None:
                finished.append(recovered)
        return finished

    def _pending_now(self, op_id: str) -> PendingOperation | None:
        return next(iter(self.journal.pending(op_id)), None)

    def _claim_for(self, op: PendingOperation) -> AbstractContextManager[None]:
        if op.kind == "purge_expired":
            # It claims each batch itself (a claim of everything would block them).
            return nullcontext()
        if op.kind in ("add", "update", "delete"):
            return self.locks.records(op.scope, op.memory_id)
        if op.kind == "add_many" and not op.scope.is_empty():
            return self.locks.batch((op.scope, m) for m in op.payload.get("ids", ()))
        if op.kind == "delete_all":
            return self.locks.erase(op.scope)
        return self.locks.everything()

    def _recover_one(self, op: PendingOperation) -> RecoveredOperation | None:
        with self._claim_for(op), self._operation(op.id):
            # Read again under the claim: another recover() may have finished the
            # operation, or moved it on, while this one waited for the claim.
            current = self._pending_now(op.id)
            if current is None:
                return None
            op = current
            if op.kind == "add" and op.memory_id is not None:
                self._roll_back_add(op.id, op.memory_id)
                return RecoveredOperation(operation_id=op.id, kind=op.kind, outcome="rolled_back")
            if op.kind == "add_many":
                self._roll_back_batch(op.id, list(op.payload.get("ids", ())))
                return RecoveredOperation(operation_id=op.id, kind=op.kind, outcome="rolled_back")
            if op.kind == "update" and op.memory_id is not None:
                self._complete_update(op, op.memory_id)
            elif op.kind == "delete" and op.memory_id is not None:
                self._run_delete(op.id, op.memory_id, op.scope, time.monotonic())
            elif op.kind == "delete_all":
                self._run_delete_all(
                    op.id,
                    op.scope,
                    DeletionTally.from_counts(op.counts),
                    None,
                    list(op.payload.get("batch", ())),
                )
            elif op.kind == "purge_expired":
                self._run_purge(
                    op.id,
                    DeletionTally.from_counts(op.counts),
                    None,
                    list(op.payload.get("batch", ())),
                    [
                        Scope(user_id=u, agent_id=a, run_id=r)
                        for u, a, r in op.payload.get("scopes", ())
                    ],
                )
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
        if "expires_at" in payload:
            stamp = payload["expires_at"]
            new = replace(new, expires_at=datetime.fromisoformat(stamp) if stamp else None)
        self._apply_update(op.id, payload.get("old_text", ""), new)


@dataclass(frozen=True)
class BatchOutcome:
    operation_id: str
    added: int
    unchanged: int


#: Expiries this close are one: a store may keep a date at millisecond precision.
_EXPIRY_TOLERANCE = timedelta(milliseconds=1)


def _expiring(records: Sequence[VectorRecord]) -> list[tuple[str, Scope, datetime]]:
    """The time-index rows of ``records`` that expire."""
    return [(r.id, r.scope, r.expires_at) for r in records if r.expires_at is not None]


def _same_content(old: VectorRecord, new: VectorRecord) -> bool:
    """Same text, metadata, expiry and embedding — the stored one read back as float32."""
    if (old.text, old.metadata, len(old.embedding)) != (new.text, new.metadata, len(new.embedding)):
        return False
    if (old.expires_at is None) != (new.expires_at is None) or (
        old.expires_at is not None
        and new.expires_at is not None
        and abs(old.expires_at - new.expires_at) > _EXPIRY_TOLERANCE
    ):
        return False
    return all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
        for a, b in zip(old.embedding, new.embedding, strict=True)
    )
