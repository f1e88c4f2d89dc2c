"""Named points between store steps, where tests inject a failure or a SIGKILL.

The coordinator calls ``reach(point)`` at every step boundary. In production the
hook is a no-op. Tests pass a hook that raises, or set
``HYBRIDMEM_FAULT_KILL_AT=point[:n]`` in a child process to be killed with
SIGKILL the n-th time (default first) it reaches that point.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from hybridmem.models import OperationKind

FaultHook = Callable[[str], None]

#: Every point the coordinator reaches, per operation kind, in the order it reaches them.
#: An erasure's batch deletes its vectors and its graph at once: ``vectors_deleted``
#: is reached on the vector delete's thread and ``graph_deleted`` on the graph's,
#: each while the other delete may still run; ``batch_deleted`` once both are done.
#: ``delete_all.queued`` is reached once the erasure is journaled, before its claim.
FAULT_POINTS: dict[OperationKind, tuple[str, ...]] = {
    "add": ("add.journaled", "add.vector_written", "add.graph_written"),
    "add_many": ("add_many.journaled", "add_many.vector_written", "add_many.graph_written"),
    "update": ("update.journaled", "update.vector_written", "update.graph_written"),
    "delete": ("delete.journaled", "delete.vector_deleted", "delete.graph_deleted"),
    "delete_all": (
        "delete_all.queued",
        "delete_all.journaled",
        "delete_all.counted",
        "delete_all.scope_dropped",
        "delete_all.batch_fetched",
        "delete_all.vectors_deleted",
        "delete_all.graph_deleted",
        "delete_all.batch_deleted",
        "delete_all.batch_journaled",
        "delete_all.vectors_swept",
    ),
    "purge_expired": (
        "purge_expired.journaled",
        "purge_expired.batch_fetched",
        "purge_expired.vectors_deleted",
        "purge_expired.graph_deleted",
        "purge_expired.batch_deleted",
        "purge_expired.batch_journaled",
    ),
    "reset": ("reset.journaled", "reset.vector_reset", "reset.graph_reset"),
    "reconcile": (
        "reconcile.journaled",
        "reconcile.vectors_fixed",
        "reconcile.nodes_fixed",
        "reconcile.relations_fixed",
    ),
}

#: Points reached while undoing an add, right after a store error or in recover().
ROLLBACK_POINTS: tuple[str, ...] = ("add.rollback.vector_deleted", "add.rollback.graph_deleted")
BATCH_ROLLBACK_POINTS: tuple[str, ...] = (
    "add_many.rollback.vector_deleted",
    "add_many.rollback.graph_deleted",
)


class InjectedFault(RuntimeError):
    """Raised by test hooks; never by the library itself."""


def _no_fault(point: str) -> None:
    return None


def kill_hook_from_environment() -> FaultHook | None:
    spec = os.environ.get("HYBRIDMEM_FAULT_KILL_AT")
    if not spec:
        return None
    point, _, nth = spec.partition(":")
    target = int(nth or "1")
    seen = 0

    def hook(reached: str) -> None:
        nonlocal seen
        if reached == point:
            seen += 1
            if seen == target:
                os.kill(os.getpid(), signal.SIGKILL)

    return hook


def resolve(hook: FaultHook | None) -> FaultHook:
    return hook or kill_hook_from_environment() or _no_fault
