"""An operation's id, chosen before the operation runs.

The REST server answers 202 with an operation's URL (``GET /operations/{id}``)
when a ``delete_all`` or a compaction outlasts the request, and it may have to
answer while the operation still waits for another one's claim: nothing is
journaled yet. So the server chooses the id first, in the thread that runs the
operation (:func:`reserved`), and the journal's ``begin`` takes it
(:func:`operation_id`) instead of a fresh one. The URL then names the record
every process reading the journal will find once the operation begins: with a
shared journal, any worker of ``hybridmem serve --workers N``.

An erasure is journaled before it waits for its scope's claim, so the record
alone does not say whether it runs or waits: it calls :func:`claimed` once it
holds the claim, and the server (:func:`watching`) answers ``queued`` until then.

Context variables rather than parameters: they reach the journal through the
store, the coordinator and the operation's module untouched, and they are
confined to the thread (and context) that set them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_RESERVED: ContextVar[tuple[str, str] | None] = ContextVar(
    "hybridmem_reserved_operation_id", default=None
)
_ON_CLAIMED: ContextVar[Callable[[], None] | None] = ContextVar(
    "hybridmem_on_claimed", default=None
)


def new_operation_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def reserved(kind: str, op_id: str) -> Iterator[None]:
    """The first operation of ``kind`` begun inside this block takes ``op_id``."""
    token = _RESERVED.set((kind, op_id))
    try:
        yield
    finally:
        _RESERVED.reset(token)


def operation_id(kind: str) -> str:
    """The id for an operation of ``kind`` a journal begins now: the reserved one,
    once, when it is for this kind; otherwise a fresh one."""
    held = _RESERVED.get()
    if held is not None and held[0] == kind:
        _RESERVED.set(None)
        return held[1]
    return new_operation_id()


@contextmanager
def watching(on_claimed: Callable[[], None]) -> Iterator[None]:
    """``on_claimed`` is called when an operation begun inside this block holds
    its claim (:func:`claimed`)."""
    token = _ON_CLAIMED.set(on_claimed)
    try:
        yield
    finally:
        _ON_CLAIMED.reset(token)


def claimed() -> None:
    """The operation running in this context now holds its claim."""
    notify = _ON_CLAIMED.get()
    if notify is not None:
        notify()
