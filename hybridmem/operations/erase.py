"""erase (``delete_all``): every memory of a scope, from both stores, in batches.

The operation is journaled first, then it waits for its scope's claim (queued
behind another erasure, it is already pending: any process can finish it).
Batches of at most ``batch_size`` memory ids come from the graph, each read once
while the batch before it finishes; each is noted in the journal, then its
vectors and its memory nodes (with their relations and the entities left
orphaned) are deleted at once, then the journal is checkpointed with the
batch's history (``batches.erase_batch``).
After the last batch a sweep removes vectors of the scope that had no memory
node (orphans of an earlier crash or of outside interference), and the journal
marks the operation done. Resuming from any point repeats at most one batch:
the one noted in the payload."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any, Self

from hybridmem.errors import ClaimTimeoutError
from hybridmem.journal import HistoryEntry, PendingOperation
from hybridmem.models import DeleteResult, ProgressCallback, Scope
from hybridmem.operation_ids import claimed, operation_id, reserved
from hybridmem.operations.batches import erase_batch, erasure_workers
from hybridmem.operations.context import OperationContext, Resumed
from hybridmem.operations.payload import strings
from hybridmem.plan import DeletionPlan, DeletionTally, preview


@dataclass(frozen=True)
class ErasePayload:
    """The batch being erased when the process stopped (``note_batch`` writes it;
    each checkpoint drops it): empty between batches."""

    batch: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"batch": list(self.batch)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(batch=strings(data, "batch"))


def dry_run(ctx: OperationContext, scope: Scope) -> DeleteResult:
    started = time.monotonic()
    return preview(
        "dry-run",
        scope,
        ctx.vector.count_scope(scope),
        ctx.graph.count_scope(scope),
        time.monotonic() - started,
    )


def run(ctx: OperationContext, scope: Scope, progress: ProgressCallback | None) -> DeleteResult:
    # The intent is journaled before the claim is waited for. An erasure queued
    # behind another one's claim is then a pending operation that every process
    # reading the journal sees: should this process die while it waits, the
    # erasure is not lost with its memory, and recover() runs it. Nothing is read
    # or changed before the claim.
    op_id = operation_id("delete_all")
    with ctx.running(op_id):
        with reserved("delete_all", op_id):
            ctx.journal.begin("delete_all", scope=scope)
        ctx.fault("delete_all.queued")
        with ExitStack() as claim:
            try:
                claim.enter_context(ctx.locks.erase(scope))
            except ClaimTimeoutError:
                # Never started: withdrawn, so that no process runs it later
                # behind the back of a caller told that it did not start.
                ctx.journal.withdraw(op_id)
                raise
            claimed()
            ctx.fault("delete_all.journaled")
            return erase_scope(ctx, op_id, scope, DeletionTally(), progress)


def erase_scope(
    ctx: OperationContext,
    op_id: str,
    scope: Scope,
    tally: DeletionTally,
    progress: ProgressCallback | None,
    noted_batch: Sequence[str] = (),
) -> DeleteResult:
    started = time.monotonic()
    report = progress or (lambda _: None)
    plan = DeletionPlan(op_id, scope, ctx.batch_size, tally=tally)
    plan.total = tally.memories + ctx.vector.count_scope(scope)
    ctx.fault("delete_all.counted")
    report(plan.progress("counting"))
    # A store that keeps the scope apart (a Weaviate tenant per user) erases its
    # vectors in one call; the batches below then have none left to delete.
    vectors_gone = (dropped := ctx.vector.drop_scope(scope)) is not None
    if dropped:
        with_nodes = sum(
            len(ctx.graph.existing_memory_ids(dropped[at : at + ctx.batch_size]))
            for at in range(0, len(dropped), ctx.batch_size)
        )
        plan.tally.add_dropped_scope(len(dropped), with_nodes)
    ctx.fault("delete_all.scope_dropped")
    # A batch noted before a crash comes first: its nodes may be gone already.
    resumed = bool(noted_batch)
    ids = list(noted_batch) or ctx.graph.scope_memory_ids(scope, ctx.batch_size)
    with erasure_workers() as workers:
        while ids:
            plan.next_batch_guard(ids)
            # Each batch's ids are read once, while the batch before finishes.
            upcoming = erase_batch(
                ctx,
                "delete_all",
                plan,
                ids,
                {},
                workers=workers,
                resumed=resumed,
                vectors_gone=vectors_gone,
                read_next=partial(ctx.graph.scope_memory_ids, scope, ctx.batch_size),
            )
            report(plan.progress("deleting"))
            resumed = False
            ids = upcoming.result() if upcoming is not None else []
    plan.tally.add_swept_vectors(ctx.vector.delete_scope(scope, ctx.batch_size))
    ctx.fault("delete_all.vectors_swept")
    report(plan.progress("cleanup"))
    ctx.journal.finish(
        op_id,
        plan.tally.counts(),
        events=[HistoryEntry("DELETE_ALL", None, scope, counts=plan.tally.public_counts())],
        erase_scope=scope,
    )
    report(plan.progress("done"))
    return plan.result(time.monotonic() - started)


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    return ctx.locks.erase(op.scope)


def resume(ctx: OperationContext, op: PendingOperation) -> Resumed:
    noted = ErasePayload.from_json(op.payload).batch
    erase_scope(ctx, op.id, op.scope, DeletionTally.from_counts(op.counts), None, noted)
    return "completed"
