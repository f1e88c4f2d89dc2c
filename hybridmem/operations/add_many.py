"""add_many: a batch of new memories as one journaled operation, all or nothing.

The journal keeps the batch's ids (its payload), so that a crash mid-batch is
rolled back whole by ``recover()`` and ``reconcile`` leaves the half-written
records to it. That same model lets the batch's vector upsert and graph write run
at once: a rollback removes both whatever either did."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Self

from hybridmem.errors import HybridMemError, LeaseLostError, ValidationError
from hybridmem.journal import HistoryEntry, PendingOperation
from hybridmem.models import NO_OPERATION
from hybridmem.operations.content import same_content
from hybridmem.operations.context import OperationContext, Resumed, expiring
from hybridmem.operations.payload import strings
from hybridmem.records import NewMemory


@dataclass(frozen=True)
class AddManyPayload:
    """The ids the batch writes: what a rollback removes."""

    ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"ids": list(self.ids)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(ids=strings(data, "ids"))


@dataclass(frozen=True)
class BatchOutcome:
    operation_id: str
    added: int
    unchanged: int


def run(ctx: OperationContext, batch: Sequence[NewMemory]) -> BatchOutcome:
    """Write a batch of new memories as one journaled operation, all or nothing.

    The whole batch is claimed first. A caller-chosen id whose whole memory is
    stored with the same scope and content is left as it is (``unchanged``): so
    an import can run again. Any other clash refuses the batch before a write."""
    with ctx.locks.batch((m.record.scope, m.record.id) for m in batch):
        fresh = not_yet_stored(ctx, batch)
        if not fresh:
            return BatchOutcome(NO_OPERATION, 0, len(batch))
        op_id = write(ctx, fresh)
        return BatchOutcome(op_id, len(fresh), len(batch) - len(fresh))


def not_yet_stored(ctx: OperationContext, batch: Sequence[NewMemory]) -> list[NewMemory]:
    chosen = [m.record.id for m in batch if m.caller_id]
    if not chosen:
        return list(batch)
    vectors = {r.id: r for r in ctx.vector.get(chosen)}
    nodes = ctx.graph.existing_memory_ids(chosen)
    fresh = []
    for item in batch:
        new, old = item.record, vectors.get(item.record.id)
        if old is not None and old.scope != new.scope:
            raise ValidationError(f"memory_id {new.id} is taken by a memory of another scope")
        if old is None and new.id in nodes:
            node = ctx.graph.get_memory_node(new.id)
            if node is not None and node.scope != new.scope:
                raise ValidationError(f"memory_id {new.id} is taken by a memory of another scope")
        if old is None or new.id not in nodes:
            # Absent, or half-written by a crash: a fresh write completes it.
            fresh.append(item)
        elif not same_content(old, new):
            raise ValidationError(
                f"memory_id {new.id} exists with other text, embedding or metadata;"
                " add_many does not replace memories: update it, or delete it first"
            )
    return fresh


def write(ctx: OperationContext, fresh: Sequence[NewMemory]) -> str:
    ids = [m.record.id for m in fresh]
    scopes = {m.record.scope for m in fresh}
    op_id = ctx.journal.begin(
        "add_many",
        scope=next(iter(scopes)) if len(scopes) == 1 else None,
        payload=AddManyPayload(tuple(ids)).to_json(),
        expiring=expiring([m.record for m in fresh]),
    )
    with ctx.running(op_id):
        ctx.fault("add_many.journaled")
        try:
            write_both(ctx, fresh)
            ctx.fault("add_many.graph_written")
        except HybridMemError:
            try:
                roll_back(ctx, op_id, ids)
            except HybridMemError:
                pass
            raise
        try:
            ctx.journal.finish(
                op_id,
                {"added": len(ids)},
                events=[
                    HistoryEntry("ADD", r.id, r.scope, new_text=r.text, hash=r.hash)
                    for r in (m.record for m in fresh)
                ],
            )
        except LeaseLostError:
            # Taken over (and rolled back) by another process while this one
            # stalled: the batch was never acknowledged, so nothing of it stays.
            ctx.vector.delete(ids)
            ctx.graph.delete_memories(ids)
            raise
    return op_id


def write_both(ctx: OperationContext, fresh: Sequence[NewMemory]) -> None:
    """The vector upsert (on a worker thread) and the graph write, at once.
    ``vector_written`` is reached on the upsert's thread as soon as it returns (the
    graph write may still run: a kill there leaves the graph anywhere);
    ``graph_written`` is reached by the caller once both are done. Neither write
    outlives this call: when one fails, the other is waited for before the error
    is raised, so the state a rollback (or a test's fault point) sees is settled."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hybridmem-add-many") as worker:
        upsert = worker.submit(_upsert, ctx, fresh)
        try:
            ctx.graph.add_memories([m.graph for m in fresh])
        except BaseException:
            upsert.exception()
            raise
        upsert.result()


def _upsert(ctx: OperationContext, fresh: Sequence[NewMemory]) -> None:
    ctx.vector.upsert([m.record for m in fresh])
    ctx.fault("add_many.vector_written")


def roll_back(ctx: OperationContext, op_id: str, ids: Sequence[str]) -> None:
    if ids:
        ctx.vector.delete(ids)
        ctx.fault("add_many.rollback.vector_deleted")
        ctx.graph.delete_memories(ids)
        ctx.fault("add_many.rollback.graph_deleted")
    ctx.journal.finish(op_id, {"rolled_back": len(ids)})


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    if op.scope.is_empty():
        # A batch of many scopes (the journal row keeps none): claim everything.
        return ctx.locks.everything()
    ids = AddManyPayload.from_json(op.payload).ids
    return ctx.locks.batch((op.scope, m) for m in ids)


def resume(ctx: OperationContext, op: PendingOperation) -> Resumed:
    roll_back(ctx, op.id, list(AddManyPayload.from_json(op.payload).ids))
    return "rolled_back"
