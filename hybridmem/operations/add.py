"""add: one new memory, vector first, then its node, entities and relations.

A store error undoes it at once when the stores let it; a crash leaves it
pending and ``recover()`` rolls it back, so a half-written memory never survives."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

from hybridmem.errors import HybridMemError, LeaseLostError, ValidationError
from hybridmem.journal import HistoryEntry, PendingOperation
from hybridmem.operations import update
from hybridmem.operations.content import same_content
from hybridmem.operations.context import OperationContext, Resumed, close_unknown, expiring
from hybridmem.operations.payload import NoPayload
from hybridmem.records import MemoryGraph, VectorRecord


@dataclass(frozen=True)
class AddPayload(NoPayload):
    """None: the journal row's memory id is what a rollback needs."""


def run(
    ctx: OperationContext, record: VectorRecord, graph: MemoryGraph, *, caller_id: bool = False
) -> VectorRecord:
    """Write a new memory; returns what is stored.

    With ``caller_id`` (the caller chose ``record.id``) the write is idempotent:
    if a whole memory of that id exists in the same scope, writing it again
    leaves one record — unchanged when text, embedding and metadata are the
    same, else replaced by a journaled update (created_at kept). The lookup
    runs under the claim, so a racing erasure is either before it (nothing
    exists: a fresh add) or after it (the erasure sees the result)."""
    if not caller_id:
        # A new id: nothing to look up under the claim, so the claim and the journal's
        # begin can be one round trip.
        with ctx.claimed_begin(
            "add", record.scope, record.id, expiring=expiring([record])
        ) as op_id:
            if op_id is not None:
                written(ctx, op_id, record, graph, fresh=True)
                return record
    # Claimed with its id: a delete(id) of a half-written add waits for it to finish.
    with ctx.locks.records(record.scope, record.id):
        if caller_id:
            found = existing(ctx, record)
            if found is not None:
                return rewrite(ctx, found, record, graph)
        write(ctx, record, graph, fresh=not caller_id)
        return record


def existing(ctx: OperationContext, record: VectorRecord) -> VectorRecord | None:
    """The whole memory stored under ``record.id``, if any (None for none or a half)."""
    found = ctx.vector.get([record.id])
    node = ctx.graph.get_memory_node(record.id)
    for scope in [r.scope for r in found] + ([node.scope] if node is not None else []):
        if scope != record.scope:
            raise ValidationError(f"memory_id {record.id} is taken by a memory of another scope")
    # A half memory (left by a crash) is completed by a fresh add: both steps are
    # idempotent, and a rollback removes only what reconcile would remove anyway.
    return found[0] if found and node is not None else None


def rewrite(
    ctx: OperationContext, old: VectorRecord, new: VectorRecord, graph: MemoryGraph
) -> VectorRecord:
    if same_content(old, new):
        return old
    # Only a new expiry (a renewed ttl) leaves the graph as it is: allowed.
    renewed = same_content(old, replace(new, expires_at=old.expires_at))
    if (graph.entities or graph.relations) and not renewed:
        raise ValidationError(
            f"memory {old.id} exists: its entities and relations are fixed when it is"
            " first added; delete it to add it anew"
        )
    kept = replace(new, created_at=old.created_at)
    update.write(ctx, old, kept)
    return kept


def write(ctx: OperationContext, record: VectorRecord, graph: MemoryGraph, *, fresh: bool) -> None:
    op_id = ctx.journal.begin(
        "add", scope=record.scope, memory_id=record.id, expiring=expiring([record])
    )
    written(ctx, op_id, record, graph, fresh=fresh)


def written(
    ctx: OperationContext, op_id: str, record: VectorRecord, graph: MemoryGraph, *, fresh: bool
) -> None:
    """Write the add journaled as ``op_id``: the vector, then the graph and the
    journal's finish (one transaction where the journal is in the graph's database)."""
    with ctx.running(op_id):
        ctx.fault("add.journaled")
        try:
            ctx.vector.upsert([record], fresh=fresh)
            ctx.fault("add.vector_written")
            ctx.write_then_finish(
                op_id,
                lambda: ctx.graph.add_memories([graph], fresh=fresh),
                "add.graph_written",
                events=[
                    HistoryEntry(
                        "ADD", record.id, record.scope, new_text=record.text, hash=record.hash
                    )
                ],
            )
        except LeaseLostError:
            # Another process took the operation over (and rolled it back) while
            # this one stalled: what it wrote since is not acknowledged, so it goes.
            if fresh:
                ctx.vector.delete([record.id])
                ctx.graph.delete_memories([record.id])
            raise
        except HybridMemError:
            # Undo now if the stores let us; otherwise recover() will.
            try_roll_back(ctx, op_id, record.id)
            raise


def try_roll_back(ctx: OperationContext, op_id: str, memory_id: str) -> None:
    try:
        roll_back(ctx, op_id, memory_id)
    except HybridMemError:
        pass


def roll_back(ctx: OperationContext, op_id: str, memory_id: str) -> None:
    ctx.vector.delete([memory_id])
    ctx.fault("add.rollback.vector_deleted")
    ctx.graph.delete_memories([memory_id])
    ctx.fault("add.rollback.graph_deleted")
    ctx.journal.finish(op_id, {"rolled_back": 1})


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    return ctx.locks.records(op.scope, op.memory_id)


def resume(ctx: OperationContext, op: PendingOperation) -> Resumed:
    if op.memory_id is None:
        return close_unknown(ctx, op)
    roll_back(ctx, op.id, op.memory_id)
    return "rolled_back"
