"""What a journal takes and hands back: pending operations, history entries to
record, rows of the time index of expiring memories, and the journal's clock.

Every journal (the SQLite one in ``hybridmem.journal``, a shared one an adapter
offers) uses these, so recovery reads the same records from either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hybridmem.models import HistoryKind, Scope


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PendingOperation:
    id: str
    #: An OperationKind, or a kind only a newer version knows (recover() closes it).
    kind: str
    scope: Scope
    memory_id: str | None
    payload: dict[str, Any]
    counts: dict[str, int]


def expiry_text(value: datetime) -> str:
    """Fixed-width UTC text: the index sorts and compares it as time."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@dataclass(frozen=True)
class ExpiryRow:
    """A row of the time index: a memory that expires at ``expires_at``."""

    memory_id: str
    expires_at: str
    scope: Scope


@dataclass(frozen=True)
class HistoryEntry:
    """A history event to record; ``memory_id`` is None for delete_all/reset."""

    kind: HistoryKind
    memory_id: str | None
    scope: Scope
    old_text: str | None = None
    new_text: str | None = None
    hash: str | None = None
    counts: dict[str, int] | None = None
