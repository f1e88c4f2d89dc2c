"""purge (``purge_expired``): every memory expired by now, found through the
journal's time index, erased in batches like ``delete_all``'s.

Each batch of due index rows is claimed (as add_many claims its ids) before the
stores are read, and checked again under the claim: a memory written again
since with a later expiry (or none) survives, and a row that points at nothing
is dropped."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from hybridmem.journal import ExpiryRow, PendingOperation, now
from hybridmem.models import DeleteResult, ProgressCallback, Scope
from hybridmem.operations.batches import erase_batch, erasure_workers
from hybridmem.operations.context import OperationContext, Resumed, expiring
from hybridmem.operations.payload import PayloadError, scope_from_json, scope_to_json, strings
from hybridmem.plan import PURGE_MESSAGE, DeletionPlan, DeletionTally
from hybridmem.records import VectorRecord


@dataclass(frozen=True)
class PurgePayload:
    """The batch being erased when the process stopped, with each id's scope
    (``note_batch`` writes it; each checkpoint drops it)."""

    batch: tuple[str, ...] = ()
    scopes: tuple[Scope, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"batch": list(self.batch)}
        if self.scopes:
            data["scopes"] = [scope_to_json(s) for s in self.scopes]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        scopes = data.get("scopes", ())
        if not isinstance(scopes, list | tuple):
            raise PayloadError(f"payload field 'scopes' is not a list: {scopes!r}")
        return cls(batch=strings(data, "batch"), scopes=tuple(scope_from_json(s) for s in scopes))


def run(ctx: OperationContext, progress: ProgressCallback | None) -> DeleteResult:
    op_id = ctx.journal.begin("purge_expired")
    with ctx.running(op_id):
        ctx.fault("purge_expired.journaled")
        return purge(ctx, op_id, DeletionTally(), progress, PurgePayload())


def purge(
    ctx: OperationContext,
    op_id: str,
    tally: DeletionTally,
    progress: ProgressCallback | None,
    noted: PurgePayload,
) -> DeleteResult:
    started = time.monotonic()
    report = progress or (lambda _: None)
    plan = DeletionPlan(op_id, Scope(), ctx.batch_size, tally=tally)
    with erasure_workers() as workers:
        if noted.batch:
            # Noted before a crash: erase it again (idempotent), under its claim.
            scopes = dict(zip(noted.batch, noted.scopes, strict=True))
            with ctx.locks.batch((scopes[m], m) for m in noted.batch):
                erase_batch(
                    ctx,
                    "purge_expired",
                    plan,
                    list(noted.batch),
                    scopes,
                    workers=workers,
                    resumed=True,
                )
        # Memories that expire while this runs are left to the next purge: it ends.
        at = now()
        rows = ctx.journal.expired(at, ctx.batch_size)
        while rows:
            plan.next_batch_guard([r.memory_id for r in rows])
            with ctx.locks.batch((r.scope, r.memory_id) for r in rows):
                found_due, stale, live = due(ctx, rows, at)
                ctx.journal.forget_expiry(stale, reindex=expiring(live))
                if found_due:
                    scopes = {r.memory_id: r.scope for r in found_due}
                    erase_batch(
                        ctx,
                        "purge_expired",
                        plan,
                        list(scopes),
                        scopes,
                        workers=workers,
                        resumed=False,
                    )
            report(plan.progress("deleting"))
            # Read after the checkpoint, not beside it: a read of the time index
            # while the checkpoint deletes this batch's rows may see a row half
            # gone (Neo4j reads committed, so its properties read as null).
            rows = ctx.journal.expired(at, ctx.batch_size)
    ctx.journal.finish(op_id, plan.tally.counts())
    report(plan.progress("done"))
    return plan.result(time.monotonic() - started, message=PURGE_MESSAGE)


def due(
    ctx: OperationContext, rows: Sequence[ExpiryRow], at: datetime
) -> tuple[list[ExpiryRow], list[ExpiryRow], list[VectorRecord]]:
    """Under the claim: the rows whose memory is expired at ``at`` (its vector
    says so, or only its memory node is left); the rows with nothing to erase
    (an add rolled back, a memory written again since); and, of the latter, the
    memories that still expire later (their row is written again from them)."""
    ids = [r.memory_id for r in rows]
    vectors = {v.id: v for v in ctx.vector.get(ids)}
    nodes = ctx.graph.existing_memory_ids([m for m in ids if m not in vectors])
    found_due, stale, live = [], [], []
    for row in rows:
        found = vectors.get(row.memory_id)
        if (found is not None and found.expired(at)) or (found is None and row.memory_id in nodes):
            found_due.append(row)
        else:
            stale.append(row)
            if found is not None:
                live.append(found)
    return found_due, stale, live


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    # It claims each batch itself (a claim of everything would block them).
    return nullcontext()


def resume(ctx: OperationContext, op: PendingOperation) -> Resumed:
    noted = PurgePayload.from_json(op.payload)
    purge(ctx, op.id, DeletionTally.from_counts(op.counts), None, noted)
    return "completed"
