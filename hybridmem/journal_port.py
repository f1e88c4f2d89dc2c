"""The journal port: what the coordinator and the store ask of a journal.

Two journals implement it. ``hybridmem.journal.Journal`` keeps operations,
history and the expiry index in a SQLite file of the data directory: one
process's view. A graph adapter may offer a shared one through its optional
``coordination`` hook (``hybridmem.ports.Coordinating``): every process that
opens the same configuration then sees the same operations, history and
expiry index, and ``pending()`` answers only the operations this process may
take over (its own, and those whose owner's lease ran out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path, PosixPath
from typing import Any, Protocol, TypeVar, runtime_checkable

from hybridmem.journal import ExpiryRow, HistoryEntry, PendingOperation
from hybridmem.models import HistoryEvent, OperationInfo, OperationKind, Scope

T = TypeVar("T")


class SharedJournalPath(PosixPath):
    """The ``path`` of a shared journal: the data directory's journal file it keeps
    nothing in (a journal there from before is moved in on open), carrying the
    shared journal itself (``shared``), so that a witness that reads a store's
    journal by its path (``hybridmem.testing.journal_file``) reads the shared one."""

    shared: Any

    @classmethod
    def of(cls, local: Path, journal: Any) -> SharedJournalPath:
        path = cls(local)
        path.shared = journal
        return path


class JournalPort(Protocol):
    """Operations (pending until both stores are done), history, the expiry index.

    ``begin`` → ``checkpoint``* → ``finish`` is an operation's life; every
    method is atomic (one transaction) and thread-safe.
    """

    #: The local SQLite file beside which the store keeps facts about itself
    #: (``StoreMeta``: the embedder); a shared journal keeps none of its own there.
    path: Path

    def begin(
        self,
        kind: OperationKind,
        *,
        scope: Scope | None = None,
        memory_id: str | None = None,
        payload: dict[str, Any] | None = None,
        expiring: Sequence[tuple[str, Scope, datetime]] = (),
    ) -> str: ...

    def fail(self, op_id: str, error: str) -> None: ...

    def withdraw(self, op_id: str) -> bool:
        """Delete a pending operation that never started (an erasure whose claim
        never came): no process will run it. False when it was not found pending
        (or, on a shared journal, is no longer this process's)."""
        ...

    def recovery_failed(self, op_id: str, error: str) -> bool: ...

    def set_aside(self) -> list[OperationInfo]: ...

    def retry_set_aside(self) -> int: ...

    def checkpoint(
        self,
        op_id: str,
        counts: dict[str, int],
        *,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
    ) -> None: ...

    def note_batch(
        self, op_id: str, memory_ids: Sequence[str], scopes: Sequence[Scope] = ()
    ) -> None: ...

    def expired(self, at: datetime, limit: int) -> list[ExpiryRow]: ...

    def forget_expiry(
        self,
        rows: Sequence[ExpiryRow],
        *,
        reindex: Sequence[tuple[str, Scope, datetime]] = (),
    ) -> None: ...

    def expiry_of(self, memory_id: str) -> str | None: ...

    def expiries(self, memory_ids: Sequence[str]) -> dict[str, str]:
        """The index rows' expiry texts of those of ``memory_ids`` that have one:
        one read for all of them (a read that checks many memories' liveness must
        not pay a round trip per memory on a shared journal)."""
        ...

    def finish(
        self,
        op_id: str,
        counts: dict[str, int] | None = None,
        *,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
        erase_scope: Scope | None = None,
        erase_everything: bool = False,
    ) -> None: ...

    def pending(self, op_id: str | None = None) -> list[PendingOperation]: ...

    def pending_memory_ids(self, kind: OperationKind = "add") -> set[str]: ...

    def pending_added_ids(self) -> set[str]: ...

    def operation(self, op_id: str) -> OperationInfo | None: ...

    def history(self, memory_id: str) -> list[HistoryEvent]: ...

    def close(self) -> None: ...


@runtime_checkable
class BeginsClaimed(Protocol):
    """Optional: a journal that holds the claims too (the shared journal in Neo4j)
    claims one memory and begins its operation in one transaction, and releases
    the claim in the transaction that finishes the operation. Without it the
    coordinator claims (``Claims.records``), then calls ``begin``: two round trips
    where each is a commit on a server."""

    def begin_claimed(
        self,
        kind: OperationKind,
        *,
        scope: Scope,
        memory_id: str,
        payload: dict[str, Any] | None = None,
        expiring: Sequence[tuple[str, Scope, datetime]] = (),
        if_node: bool = False,
    ) -> AbstractContextManager[str | None]:
        """Hold ``records(scope, memory_id)`` and begin the operation under it; yields
        its id. With ``if_node``, only if the graph in the journal's database holds
        the memory's node: else nothing is claimed nor begun, and None is yielded."""
        ...


@runtime_checkable
class FinishesGraphWrites(Protocol):
    """Optional: a journal in the graph store's own database writes an operation's
    graph part in the transaction that finishes the operation, so that the graph
    write and the operation's end commit together (one round trip fewer; a crash
    before that commit leaves the operation pending with the graph untouched, the
    state its fault point after the graph write names)."""

    def joins(self, graph: object) -> bool:
        """Whether ``graph`` writes in this journal's database (its transactions)."""
        ...

    def finish_writing(
        self,
        op_id: str,
        write: Callable[[], T],
        *,
        reached: Callable[[], None],
        counts: Callable[[T], dict[str, int]] | None = None,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
    ) -> T:
        """In one transaction: ``write()`` (calls of the joined graph store), then
        ``reached()`` (the fault point after the graph write, before the commit),
        then ``finish(op_id, counts(result), events=..., erase_ids=...)``. May run
        ``write`` more than once (a transient error retries the transaction): it
        and ``counts`` must not change anything outside the transaction."""
        ...


@runtime_checkable
class Leased(Protocol):
    """Optional: a shared journal whose operations belong to their process while
    its lease lasts. ``hybridmem serve`` runs ``recover()`` once every lease to take
    over a dead process's operations (``hybridmem.takeover_loop``)."""

    @property
    def lease_seconds(self) -> float: ...
