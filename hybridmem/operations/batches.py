"""One batch of an erasure of many memories: the step both ``erase`` (delete_all)
and ``purge`` (purge_expired) repeat until nothing is left.

The two store deletes of a batch run at once (the vectors on a worker thread,
the memory nodes on the caller's), and the read of the next batch starts on the
worker as soon as the graph delete has committed, so it overlaps the rest of
the batch (the vector delete, the journal checkpoint). The crash model allows
both: the batch is noted in the journal before either delete starts, and a
resumed erasure deletes a noted batch again whatever either store already did
with it. Each delete's fault point is reached on its own thread as soon as it
returns (the other may still be running: a kill there leaves one store done and
the other cut off anywhere); ``batch_deleted`` once both are done."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from hybridmem.journal import HistoryEntry
from hybridmem.models import OperationKind, Scope
from hybridmem.operations.context import OperationContext
from hybridmem.plan import DeletionPlan
from hybridmem.records import GraphDeleteCounts

T = TypeVar("T")


def erasure_workers() -> ThreadPoolExecutor:
    """The threads of one erasure: the vector delete, and the next batch's read."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="hybridmem-erase")


def erase_batch(
    ctx: OperationContext,
    kind: OperationKind,
    plan: DeletionPlan,
    ids: Sequence[str],
    scopes: Mapping[str, Scope],
    *,
    workers: ThreadPoolExecutor,
    resumed: bool,
    vectors_gone: bool = False,
    read_next: Callable[[], T] | None = None,
) -> Future[T] | None:
    """Note the ids, delete their vectors and their memory nodes with their
    relations and the entities left orphaned (at once), then checkpoint the
    counts with a DELETE event per memory, erasing its texts from history and
    its row from the time index. ``scopes`` gives each id's scope when they
    differ (a purge); otherwise they are the plan's scope. A ``resumed`` batch
    was noted before a crash and is not noted again; with ``vectors_gone`` the
    vector store dropped the whole scope already. ``read_next`` (the next
    batch's read) starts once the graph delete has committed; its future is
    returned, and is done (or failed) whenever this raises."""
    op_id = plan.operation_id
    if not resumed:
        ctx.journal.note_batch(op_id, ids, [scopes[m] for m in ids] if scopes else ())
    ctx.fault(f"{kind}.batch_fetched")
    vectors, counts, upcoming = _delete_both(ctx, kind, ids, workers, vectors_gone, read_next)
    try:
        ctx.fault(f"{kind}.batch_deleted")
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
    except BaseException:
        _settle(upcoming)
        raise
    return upcoming


def _delete_both(
    ctx: OperationContext,
    kind: OperationKind,
    ids: Sequence[str],
    workers: ThreadPoolExecutor,
    vectors_gone: bool,
    read_next: Callable[[], T] | None,
) -> tuple[int, GraphDeleteCounts, Future[T] | None]:
    """Both stores' deletes of ``ids`` at once. Neither outlives this call: when
    one fails, the other is waited for before the error is raised, so the state
    a caller (or a test's fault point) sees is settled."""
    vector_delete = workers.submit(_delete_vectors, ctx, kind, ids, vectors_gone)
    upcoming: Future[T] | None = None
    try:
        counts = ctx.graph.delete_memories(ids)
        ctx.fault(f"{kind}.graph_deleted")
        if read_next is not None:
            upcoming = workers.submit(read_next)
    except BaseException:
        _settle(vector_delete)
        raise
    try:
        vectors = vector_delete.result()
    except BaseException:
        _settle(upcoming)
        raise
    return vectors, counts, upcoming


def _delete_vectors(
    ctx: OperationContext, kind: OperationKind, ids: Sequence[str], vectors_gone: bool
) -> int:
    vectors = 0 if vectors_gone else ctx.vector.delete(ids)
    ctx.fault(f"{kind}.vectors_deleted")
    return vectors


def _settle(future: Future[T] | None) -> None:
    """Wait for ``future`` and drop its outcome: an error is already on its way."""
    if future is not None:
        future.exception()
