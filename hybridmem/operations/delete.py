"""delete: one memory erased from both stores, its text erased from history."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

from hybridmem.journal import HistoryEntry, PendingOperation
from hybridmem.models import NO_OPERATION, DeleteResult, Scope
from hybridmem.operations.context import ANY_SCOPE, OperationContext, Resumed, close_unknown
from hybridmem.operations.payload import NoPayload
from hybridmem.plan import DELETE_MESSAGE, DeletionPlan
from hybridmem.records import GraphDeleteCounts


@dataclass(frozen=True)
class DeletePayload(NoPayload):
    """None: the journal row's memory id and scope are what a resume needs."""


def run(
    ctx: OperationContext, memory_id: str, scope: Scope, *, within: Scope = ANY_SCOPE
) -> DeleteResult:
    """Erase one memory. ``scope`` is the memory's (looked up without the claim:
    it never changes); ``within`` the caller's: a memory outside it is treated
    exactly as an unknown id."""
    started = time.monotonic()
    if not within.matches(scope):
        return _nothing(within, started)
    # Where the journal holds the claims: the claim, the check that the memory's node
    # is still there (an erasure may have won the claim first) and the begin, in one
    # round trip. No node (gone, or a half memory with only a vector): the usual path.
    with ctx.claimed_begin("delete", scope, memory_id, if_node=True) as op_id:
        if op_id is not None:
            with ctx.running(op_id):
                ctx.fault("delete.journaled")
                return erase(ctx, op_id, memory_id, scope, started)
    with ctx.locks.records(scope, memory_id):
        # The graph first: on the embedded graph it is a local lookup, and when the
        # node is there the vector store (a network round trip) need not be asked.
        if not ctx.graph.existing_memory_ids([memory_id]) and not ctx.vector.existing_ids(
            [memory_id]
        ):
            return _nothing(within, started)
        op_id = ctx.journal.begin("delete", scope=scope, memory_id=memory_id)
        with ctx.running(op_id):
            ctx.fault("delete.journaled")
            return erase(ctx, op_id, memory_id, scope, started)


def _nothing(within: Scope, started: float) -> DeleteResult:
    """Already gone (maybe erased while we waited for the claim), or not the caller's:
    nothing to journal, no store write, no history event, and an answer that names
    only the caller's scope (the memory's would tell another scope's id from an
    unknown one)."""
    plan = DeletionPlan(NO_OPERATION, within, 1)
    return plan.result(time.monotonic() - started, message=DELETE_MESSAGE)


def erase(
    ctx: OperationContext, op_id: str, memory_id: str, scope: Scope, started: float
) -> DeleteResult:
    plan = DeletionPlan(op_id, scope, 1)
    vectors = ctx.vector.delete([memory_id])
    ctx.fault("delete.vector_deleted")

    def counted(graph: GraphDeleteCounts) -> dict[str, int]:
        # On a copy: a retried transaction counts again from the same start.
        tally = replace(plan.tally)
        tally.add_one(vectors, graph)
        return tally.counts()

    graph = ctx.write_then_finish(
        op_id,
        lambda: ctx.graph.delete_memories([memory_id]),
        "delete.graph_deleted",
        counts=counted,
        events=[HistoryEntry("DELETE", memory_id, scope)],
        erase_ids=[memory_id],
    )
    plan.tally.add_one(vectors, graph)
    return plan.result(time.monotonic() - started, message=DELETE_MESSAGE)


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    return ctx.locks.records(op.scope, op.memory_id)


def resume(ctx: OperationContext, op: PendingOperation) -> Resumed:
    if op.memory_id is None:
        return close_unknown(ctx, op)
    erase(ctx, op.id, op.memory_id, op.scope, time.monotonic())
    return "completed"
