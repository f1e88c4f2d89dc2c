"""reconcile: find (and with ``fix`` remove) every kind of cross-store orphan.

A read-only scan runs beside other operations, leaving adds in flight alone
through the journal; a fix is journaled and claims everything."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from hybridmem.journal import PendingOperation
from hybridmem.models import OrphanCounts, ReconcileReport
from hybridmem.operations.context import OperationContext, Resumed
from hybridmem.operations.payload import NoPayload


@dataclass(frozen=True)
class ReconcilePayload(NoPayload):
    """None: a fix scans again from the start; each removal is idempotent."""


def run(ctx: OperationContext, fix: bool) -> ReconcileReport:
    if not fix:
        # A read-only scan: adds in flight are protected through the journal.
        return scan(ctx, None)
    with ctx.locks.everything():
        op_id = ctx.journal.begin("reconcile")
        ctx.fault("reconcile.journaled")
        return scan(ctx, op_id)


def scan(ctx: OperationContext, op_id: str | None) -> ReconcileReport:
    """Count the orphans; with an operation (a fix), remove them too."""
    fix = op_id is not None
    protected = ctx.journal.pending_added_ids()
    found = OrphanCounts()
    removed = OrphanCounts()
    # Vectors without nodes, then nodes without vectors; entities last, because
    # removing orphan memory nodes can orphan their entities.
    for batch in ctx.vector.iter_ids(ctx.batch_size):
        missing = sorted(set(batch) - ctx.graph.existing_memory_ids(batch) - protected)
        found.orphan_vectors += len(missing)
        if fix and missing:
            removed.orphan_vectors += ctx.vector.delete(missing)
            ctx.fault("reconcile.vectors_fixed")
    for batch in ctx.graph.iter_memory_ids(ctx.batch_size):
        missing = sorted(set(batch) - ctx.vector.existing_ids(batch) - protected)
        found.orphan_memory_nodes += len(missing)
        if fix and missing:
            counts = ctx.graph.delete_memories(missing)
            removed.orphan_memory_nodes += counts.memory_nodes
            removed.orphan_entities += counts.orphan_entities
            if op_id is not None:
                ctx.journal.checkpoint(op_id, {}, erase_ids=missing)
                ctx.fault("reconcile.nodes_fixed")
    found.dangling_relations = ctx.graph.count_dangling_relations(sorted(protected))
    if fix:
        removed.dangling_relations = ctx.graph.delete_dangling_relations(sorted(protected))
        ctx.fault("reconcile.relations_fixed")
    found.orphan_entities = ctx.graph.count_orphan_entities() + removed.orphan_entities
    if fix:
        removed.orphan_entities += ctx.graph.delete_orphan_entities()
    if op_id is not None:
        ctx.journal.finish(op_id, removed.model_dump())
    return ReconcileReport(found=found, removed=removed, fixed=fix)


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    return ctx.locks.everything()


def resume(ctx: OperationContext, op: PendingOperation) -> Resumed:
    scan(ctx, op.id)
    return "completed"
