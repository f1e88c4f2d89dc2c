"""One batch of an erasure of many memories: the step both ``erase`` (delete_all)
and ``purge`` (purge_expired) repeat until nothing is left."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hybridmem.journal import HistoryEntry
from hybridmem.models import OperationKind, Scope
from hybridmem.operations.context import OperationContext
from hybridmem.plan import DeletionPlan


def erase_batch(
    ctx: OperationContext,
    kind: OperationKind,
    plan: DeletionPlan,
    ids: Sequence[str],
    scopes: Mapping[str, Scope],
    *,
    resumed: bool,
    vectors_gone: bool = False,
) -> None:
    """Note the ids, delete their vectors (so the batch is invisible to search at
    once), then their memory nodes with their relations and the entities left
    orphaned, then checkpoint the counts with a DELETE event per memory, erasing
    its texts from history and its row from the time index. ``scopes`` gives each
    id's scope when they differ (a purge); otherwise they are the plan's scope.
    A ``resumed`` batch was noted before a crash and is not noted again; with
    ``vectors_gone`` the vector store dropped the whole scope already."""
    op_id = plan.operation_id
    if not resumed:
        ctx.journal.note_batch(op_id, ids, [scopes[m] for m in ids] if scopes else ())
    ctx.fault(f"{kind}.batch_fetched")
    vectors = 0 if vectors_gone else ctx.vector.delete(ids)
    ctx.fault(f"{kind}.vectors_deleted")
    counts = ctx.graph.delete_memories(ids)
    ctx.fault(f"{kind}.graph_deleted")
    if resumed:
        plan.tally.add_resumed_batch(vectors, counts, noted=len(ids))
    else:
        plan.tally.add_batch(vectors, counts)
    ctx.journal.checkpoint(
        op_id,
        plan.tally.counts(),
        events=[HistoryEntry("DELETE", m, scopes.get(m, plan.scope)) for m in ids],
        erase_ids=ids,
    )
    ctx.fault(f"{kind}.batch_journaled")
