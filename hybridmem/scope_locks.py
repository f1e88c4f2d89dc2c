"""Admission control between mutating operations whose records may overlap.

Without it, an ``add`` that lands while a ``delete_all`` of its scope runs can
lose its vector to the erasure's final sweep after its node is written (a
half-memory), and two overlapping erasures race each other's counts. So each
mutation claims what it may touch before it starts:

* ``records(scope, memory_id)`` — add, update or delete of one memory of one
  scope. Two such claims conflict only when they name the same memory id: an
  update and a delete of one memory run one after the other (otherwise the
  update, having read the memory, could write it back after the delete), while
  adds and changes of different memories run together.
* ``batch(items)`` — add_many: a records claim on many (scope, memory id) pairs
  at once, taken whole, so two batches never hold half of each other's ids.
* ``erase(filter)`` — delete_all. Conflicts with a records claim whose scope the
  filter matches, and with an erase whose filter could match a common record.
* ``everything()`` — reset and reconcile(fix): conflicts with every claim.

Claims are granted in arrival order among conflicting ones, so a stream of adds
cannot starve an erasure, nor an erasure the adds to other scopes. These
claims are per process (per ``HybridStore``). A graph adapter that offers shared
coordination (``[graph] shared_journal = true`` on Neo4j) wraps them in leases
every process sees: the ``Claims`` protocol below is what the coordinator uses
of either, and ``conflicts`` is the one rule both apply.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

from hybridmem.models import Scope

ClaimKind = Literal["records", "erase", "everything"]


# eq=False: claims are compared by identity, so list.remove() drops this claim
# and never an equal one of another thread (whose ticket decides fairness).
@dataclass(frozen=True, eq=False)
class Claim:
    kind: ClaimKind
    #: The filter of an erase; the scopes of the records a records claim names.
    scopes: frozenset[Scope]
    ticket: int
    memory_ids: frozenset[str] = frozenset()


def _overlap(a: Scope, b: Scope) -> bool:
    """Could one record match both filters? Only if no part they both give differs."""
    a_parts, b_parts = a.parts(), b.parts()
    return all(b_parts[name] == value for name, value in a_parts.items() if name in b_parts)


_Claim = Claim


def conflicts(a: Claim, b: Claim) -> bool:
    if "everything" in (a.kind, b.kind):
        return True
    if a.kind == "records" and b.kind == "records":
        return not a.memory_ids.isdisjoint(b.memory_ids)
    if a.kind == "erase" and b.kind == "erase":
        return _overlap(next(iter(a.scopes)), next(iter(b.scopes)))
    erase, records = (a, b) if a.kind == "erase" else (b, a)
    erased = next(iter(erase.scopes))
    return any(erased.matches(scope) for scope in records.scopes)


def records_claim(scope: Scope, memory_id: str | None) -> tuple[frozenset[Scope], frozenset[str]]:
    return frozenset((scope,)), frozenset() if memory_id is None else frozenset((memory_id,))


def batch_claim(items: Iterable[tuple[Scope, str]]) -> tuple[frozenset[Scope], frozenset[str]]:
    pairs = list(items)
    return frozenset(s for s, _ in pairs), frozenset(m for _, m in pairs)


class Claims(Protocol):
    """What the coordinator claims before it touches a store."""

    def records(
        self, scope: Scope, memory_id: str | None = None
    ) -> AbstractContextManager[None]: ...

    def batch(self, items: Iterable[tuple[Scope, str]]) -> AbstractContextManager[None]: ...

    def erase(self, scope: Scope) -> AbstractContextManager[None]: ...

    def everything(self) -> AbstractContextManager[None]: ...


class ScopeLocks:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._tickets = itertools.count()
        self._active: list[Claim] = []
        self._waiting: list[Claim] = []

    def _admissible(self, claim: Claim) -> bool:
        if any(conflicts(claim, held) for held in self._active):
            return False
        # Fairness: an earlier conflicting request goes first.
        return not any(
            earlier.ticket < claim.ticket and conflicts(claim, earlier) for earlier in self._waiting
        )

    @contextmanager
    def _claim(
        self, kind: ClaimKind, scopes: frozenset[Scope], memory_ids: frozenset[str] = frozenset()
    ) -> Iterator[None]:
        with self._cond:
            claim = Claim(kind, scopes, next(self._tickets), memory_ids)
            self._waiting.append(claim)
            try:
                self._cond.wait_for(lambda: self._admissible(claim))
            finally:
                self._waiting.remove(claim)
            self._active.append(claim)
            # Leaving the queue may unblock a later, non-conflicting request.
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._active.remove(claim)
                self._cond.notify_all()

    def records(self, scope: Scope, memory_id: str | None = None) -> AbstractContextManager[None]:
        return self._claim("records", *records_claim(scope, memory_id))

    def batch(self, items: Iterable[tuple[Scope, str]]) -> AbstractContextManager[None]:
        return self._claim("records", *batch_claim(items))

    def erase(self, scope: Scope) -> AbstractContextManager[None]:
        return self._claim("erase", frozenset((scope,)))

    def everything(self) -> AbstractContextManager[None]:
        return self._claim("everything", frozenset((Scope(),)))
