"""``recover()``: finish or roll back every pending operation, each through the
module of its kind (``RECOVERY``), under that module's claim."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Protocol, cast

from hybridmem import compaction
from hybridmem.errors import ClaimTimeoutError, StoreError
from hybridmem.faults import InjectedFault
from hybridmem.journal import PendingOperation
from hybridmem.models import OperationKind, RecoveredOperation
from hybridmem.operations import (
    add,
    add_many,
    delete,
    erase,
    purge,
    reconcile,
    reset,
    update,
)
from hybridmem.operations.context import OperationContext, Resumed, close_unknown

_log = logging.getLogger(__name__)


class Recoverable(Protocol):
    """What recovery asks of an operation's module."""

    def claim(self, ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
        """What the operation claims again before it is resumed."""
        ...

    def resume(self, ctx: OperationContext, op: PendingOperation) -> Resumed:
        """Finish it (or roll it back) from wherever the process stopped."""
        ...


#: The module that resumes each kind the journal records.
RECOVERY: Mapping[OperationKind, Recoverable] = {
    "add": add,
    "add_many": add_many,
    "update": update,
    "delete": delete,
    "delete_all": erase,
    "purge_expired": purge,
    "reset": reset,
    "reconcile": reconcile,
    "compact": compaction,
}


class _Unknown:
    """A kind only a newer version knows (or one an older version left, such as
    the pre-release ``migrate_graph_labels``): claimed whole, and closed."""

    def claim(self, ctx: OperationContext, op: PendingOperation) -> AbstractContextManager[None]:
        return ctx.locks.everything()

    def resume(self, ctx: OperationContext, op: PendingOperation) -> Resumed:
        return close_unknown(ctx, op)


_UNKNOWN = _Unknown()


def handler(kind: str) -> Recoverable:
    """The module of ``kind``; for a kind it does not know, one that closes it."""
    return RECOVERY.get(cast(OperationKind, kind), _UNKNOWN)


def recover(ctx: OperationContext) -> list[RecoveredOperation]:
    """Finish or roll back every pending operation. A store error (a store down
    or failing) stops the pass (the operations stay pending); any other failure is that
    operation's alone: it is noted, the pass goes on, and after
    ``MAX_RECOVERY_ATTEMPTS`` failed passes the operation is set aside (reported
    by ``stats()``, never retried on open), so the store still opens. An operation
    whose claim another live process holds past the claim wait is left for a
    later pass, with no attempt counted."""
    finished: list[RecoveredOperation] = []
    for op in ctx.journal.pending():
        if ctx.in_flight(op.id):
            continue
        try:
            recovered = recover_one(ctx, op)
        except (StoreError, InjectedFault):
            # A store that fails is no fault of the operation's (it stays pending
            # and counts no attempt); an injected fault stands for the process
            # dying here.
            raise
        except ClaimTimeoutError:
            # A live process holds a conflicting claim (an erasure that died while
            # queued waits behind the erasure it queued for): no fault of the
            # operation's. It stays pending, counts no attempt; a later pass runs it.
            _log.warning("recovery of operation %s (%s) waits: its claim is held", op.id, op.kind)
            continue
        except Exception as exc:  # one operation must not block the others
            error = f"{type(exc).__name__}: {exc}"
            _log.exception("recovery of operation %s (%s) failed", op.id, op.kind)
            aside = ctx.journal.recovery_failed(op.id, error)
            recovered = RecoveredOperation(
                operation_id=op.id,
                kind=op.kind,
                outcome="set_aside" if aside else "failed",
                error=error,
            )
        if recovered is not None:
            finished.append(recovered)
    return finished


def recover_one(ctx: OperationContext, op: PendingOperation) -> RecoveredOperation | None:
    resumer = handler(op.kind)
    with resumer.claim(ctx, op), ctx.running(op.id):
        # Read again under the claim: another recover() may have finished the
        # operation, or moved it on, while this one waited for the claim.
        current = ctx.pending_now(op.id)
        if current is None:
            return None
        outcome = resumer.resume(ctx, current)
    return RecoveredOperation(operation_id=op.id, kind=op.kind, outcome=outcome)
