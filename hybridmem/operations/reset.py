"""reset: wipe both stores and the whole history's text — the only way to erase
everything, under a claim of everything."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from hybridmem.journal import HistoryEntry, PendingOperation
from hybridmem.models import Scope
from hybridmem.operations.context import OperationContext, Resumed
from hybridmem.operations.payload import NoPayload


@dataclass(frozen=True)
class ResetPayload(NoPayload):
    """None: a reset is the same from any point."""


def run(ctx: OperationContext) -> dict[str, int]:
    with ctx.locks.everything():
        op_id = ctx.journal.begin("reset")
        with ctx.running(op_id):
            ctx.fault("reset.journaled")
            return wipe(ctx, op_id)


def wipe(ctx: OperationContext, op_id: str) -> dict[str, int]:
    counts = {"vectors": ctx.vector.count(), **ctx.graph.stats()}
    ctx.vector.reset()
    ctx.fault("reset.vector_reset")
    ctx.graph.reset()
    ctx.fault("reset.graph_reset")
    ctx.journal.finish(
        op_id,
        counts,
        events=[HistoryEntry("RESET", None, Scope(), counts=counts)],
        erase_everything=True,
    )
    return counts


def claim(ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
    return ctx.locks.everything()


def resume(ctx: OperationContext, op: PendingOperation) -> Resumed:
    wipe(ctx, op.id)
    return "completed"
