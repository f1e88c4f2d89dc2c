"""The journal of mutating operations and the history of memories, in one SQLite file.

An operation is written here (state ``pending``) before it touches a store and
marked ``done`` only after both stores are done, so a crash at any point leaves
it pending for ``recover()``. WAL mode with synchronous=FULL: a ``begin`` that
returned is on disk before the first store is touched.

History keeps one event per memory added, updated or deleted and one per
delete_all/reset. Erasing a memory nulls its texts here too and records the
erasing operation: proof of erasure without the erased data.

The time index of expiring memories (``expiry``) lives here too: a row per
memory that has an ``expires_at``, written in the same transaction as the
``begin`` of the add that writes the memory (so no crash leaves an expiring
memory unindexed), and deleted with the memory's erasure (so no scope id
lingers). ``purge_expired`` reads the due rows through the ``expires_at`` index:
its cost follows what expired, never the store's size. A row may point at
nothing (an add rolled back) or at a memory since written again with another
expiry; the purge checks each row against the store and drops such rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from hybridmem.journal_records import (
    ExpiryRow,
    HistoryEntry,
    PendingOperation,
    expiry_text,
    now,
)
from hybridmem.journal_schema import (
    HISTORY_SELECT,
    OPERATION_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    history_event,
    migrate,
    row_fields,
)
from hybridmem.models import HistoryEvent, OperationInfo, OperationKind, Scope
from hybridmem.operation_ids import operation_id

# The records and the schema version live in their own modules; every name stays
# importable from here, where the journal's users have always found it.
__all__ = [
    "MAX_RECOVERY_ATTEMPTS",
    "SCHEMA_VERSION",
    "ExpiryRow",
    "HistoryEntry",
    "Journal",
    "PendingOperation",
    "expiry_text",
    "now",
]

#: A pending operation that failed this many recoveries is set aside: reported, and
#: no longer retried on open, so one bad operation cannot keep the store shut.
MAX_RECOVERY_ATTEMPTS = 3


class Journal:
    """The SQLite file of operations (pending until both stores are done) and of
    memory history. Thread-safe; every write is one immediate transaction.

    ``begin`` → ``checkpoint``* → ``finish`` is an operation's life; ``fail``
    notes why one stopped; ``pending`` is what ``recover()`` finishes.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # Erased history text must not linger in freed pages of the file.
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        with self._tx() as db:
            migrate(db)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- operations ---------------------------------------------------------------

    def begin(
        self,
        kind: OperationKind,
        *,
        scope: Scope | None = None,
        memory_id: str | None = None,
        payload: dict[str, Any] | None = None,
        expiring: Sequence[tuple[str, Scope, datetime]] = (),
    ) -> str:
        """Journal an operation as pending; ``expiring`` (memory id, scope, expiry)
        are written to the time index in the same transaction."""
        op_id = operation_id(kind)  # one the caller reserved, if any
        stamp = now().isoformat()
        parts = (scope or Scope()).parts()
        with self._tx() as db:
            seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM operations").fetchone()[0]
            db.execute(
                "INSERT INTO operations (id, seq, kind, state, user_id, agent_id, run_id,"
                " memory_id, payload, created_at, updated_at)"
                " VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
                (
                    op_id,
                    seq,
                    kind,
                    parts.get("user_id"),
                    parts.get("agent_id"),
                    parts.get("run_id"),
                    memory_id,
                    json.dumps(payload) if payload is not None else None,
                    stamp,
                    stamp,
                ),
            )
            self._index(db, expiring)
        return op_id

    def fail(self, op_id: str, error: str) -> None:
        """Note why an operation stopped; it stays pending for recover()."""
        with self._tx() as db:
            db.execute(
                "UPDATE operations SET error = ?, updated_at = ? WHERE id = ?",
                (error[:2000], now().isoformat(), op_id),
            )

    def withdraw(self, op_id: str) -> bool:
        """Delete a pending operation that never started; see ``JournalPort``."""
        with self._tx() as db:
            gone = db.execute(
                "DELETE FROM operations WHERE id = ? AND state = 'pending'", (op_id,)
            ).rowcount
        return gone == 1

    def recovery_failed(self, op_id: str, error: str) -> bool:
        """Count a failed recovery of a pending operation; at MAX_RECOVERY_ATTEMPTS it
        is set aside. Returns True when it has been set aside."""
        with self._tx() as db:
            db.execute(
                "UPDATE operations SET attempts = attempts + 1, error = ?, updated_at = ?,"
                " state = CASE WHEN attempts + 1 >= ? THEN 'set_aside' ELSE state END"
                " WHERE id = ? AND state = 'pending'",
                (error[:2000], now().isoformat(), MAX_RECOVERY_ATTEMPTS, op_id),
            )
            row = db.execute("SELECT state FROM operations WHERE id = ?", (op_id,)).fetchone()
        return row is not None and row[0] == "set_aside"

    def set_aside(self) -> list[OperationInfo]:
        """The operations recovery gave up on, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {OPERATION_COLUMNS} FROM operations"  # noqa: S608
                " WHERE state = 'set_aside' ORDER BY seq"
            ).fetchall()
        return [OperationInfo.model_validate(row_fields(OPERATION_COLUMNS, row)) for row in rows]

    def retry_set_aside(self) -> int:
        """Make every set-aside operation pending again, with its attempts reset."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE operations SET state = 'pending', attempts = 0, updated_at = ?"
                " WHERE state = 'set_aside'",
                (now().isoformat(),),
            )
        return cursor.rowcount

    def checkpoint(
        self,
        op_id: str,
        counts: dict[str, int],
        *,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
    ) -> None:
        """Record progress of a long operation with the history of what it finished."""
        with self._tx() as db:
            self._write_history(db, op_id, events)
            self._erase(db, op_id, erase_ids)
            # The batch noted by note_batch() is now counted: forget it.
            db.execute(
                "UPDATE operations SET counts = ?, payload = NULL, updated_at = ? WHERE id = ?",
                (json.dumps(counts), now().isoformat(), op_id),
            )

    def note_batch(
        self, op_id: str, memory_ids: Sequence[str], scopes: Sequence[Scope] = ()
    ) -> None:
        """Remember the ids a batch is about to erase (and, for an erasure of many
        scopes, each one's scope), so that a crash before its checkpoint still lets
        recovery count them, claim them and write their history."""
        payload: dict[str, Any] = {"batch": list(memory_ids)}
        if scopes:
            payload["scopes"] = [[s.user_id, s.agent_id, s.run_id] for s in scopes]
        with self._tx() as db:
            db.execute(
                "UPDATE operations SET payload = ?, updated_at = ? WHERE id = ?",
                (json.dumps(payload), now().isoformat(), op_id),
            )

    # -- the time index of expiring memories ---------------------------------------

    def expired(self, at: datetime, limit: int) -> list[ExpiryRow]:
        """The index rows due at ``at`` (expires_at <= at), the oldest first, at most
        ``limit``: a range read of the ``expiry_due`` index."""
        with self._lock:
            rows = self._db.execute(
                "SELECT memory_id, expires_at, user_id, agent_id, run_id FROM expiry"
                " WHERE expires_at <= ? ORDER BY expires_at LIMIT ?",
                (expiry_text(at), limit),
            ).fetchall()
        return [
            ExpiryRow(r[0], r[1], Scope(user_id=r[2], agent_id=r[3], run_id=r[4])) for r in rows
        ]

    def forget_expiry(
        self,
        rows: Sequence[ExpiryRow],
        *,
        reindex: Sequence[tuple[str, Scope, datetime]] = (),
    ) -> None:
        """Drop index rows that point at nothing to erase (a row written again since
        it was read, with a later expiry of the same id, stays), and write the rows
        of ``reindex`` (memories that expire later than their old row said)."""
        if not rows and not reindex:
            return
        with self._tx() as db:
            db.executemany(
                "DELETE FROM expiry WHERE memory_id = ? AND expires_at = ?",
                [(r.memory_id, r.expires_at) for r in rows],
            )
            self._index(db, reindex)

    @staticmethod
    def _index(db: sqlite3.Connection, expiring: Sequence[tuple[str, Scope, datetime]]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO expiry (memory_id, expires_at, user_id, agent_id,"
            " run_id) VALUES (?, ?, ?, ?, ?)",
            [(m, expiry_text(at), s.user_id, s.agent_id, s.run_id) for m, s, at in expiring],
        )

    def expiry_of(self, memory_id: str) -> str | None:
        """The index row's expiry text of a memory (None: no row)."""
        return self.expiries([memory_id]).get(memory_id)

    def expiries(self, memory_ids: Sequence[str]) -> dict[str, str]:
        """The expiry texts of those of ``memory_ids`` that have an index row."""
        found: dict[str, str] = {}
        ids = list(dict.fromkeys(memory_ids))
        with self._lock:
            # SQLite binds at most 32,766 parameters per statement.
            for at in range(0, len(ids), 10_000):
                chunk = ids[at : at + 10_000]
                marks = ", ".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT memory_id, expires_at FROM expiry WHERE memory_id IN ({marks})",  # noqa: S608
                    chunk,
                ).fetchall()
                found.update((str(m), str(e)) for m, e in rows)
        return found

    def finish(
        self,
        op_id: str,
        counts: dict[str, int] | None = None,
        *,
        events: Sequence[HistoryEntry] = (),
        erase_ids: Sequence[str] = (),
        erase_scope: Scope | None = None,
        erase_everything: bool = False,
    ) -> None:
        """Mark done, drop the payload (it may hold text), and write history — atomically."""
        with self._tx() as db:
            self._write_history(db, op_id, events)
            self._erase(db, op_id, erase_ids)
            if erase_scope is not None and not erase_scope.is_empty():
                # Column names from Scope.terms() (a fixed set); values are parameters.
                where = " AND ".join(f"{name} = :{name}" for name, _ in erase_scope.terms())
                db.execute(
                    "UPDATE history SET old_text = NULL, new_text = NULL,"  # noqa: S608
                    f" erased_by = coalesce(erased_by, :op) WHERE {where}"
                    " AND memory_id IS NOT NULL",
                    {**erase_scope.parts(), "op": op_id},
                )
                db.execute(f"DELETE FROM expiry WHERE {where}", erase_scope.parts())  # noqa: S608
            if erase_everything:
                db.execute(
                    "UPDATE history SET old_text = NULL, new_text = NULL,"
                    " erased_by = coalesce(erased_by, ?) WHERE memory_id IS NOT NULL",
                    (op_id,),
                )
                db.execute("UPDATE operations SET payload = NULL WHERE id != ?", (op_id,))
                db.execute("DELETE FROM expiry")
            db.execute(
                "UPDATE operations SET state = 'done', payload = NULL, error = NULL,"
                " counts = coalesce(?, counts), updated_at = ? WHERE id = ?",
                (json.dumps(counts) if counts is not None else None, now().isoformat(), op_id),
            )

    def pending(self, op_id: str | None = None) -> list[PendingOperation]:
        """Every pending operation in the order begun, or only ``op_id`` if it still is."""
        select = (
            "SELECT id, kind, user_id, agent_id, run_id, memory_id, payload, counts"
            " FROM operations WHERE state = 'pending'"
        )
        with self._lock:
            if op_id is None:
                rows = self._db.execute(f"{select} ORDER BY seq").fetchall()
            else:
                rows = self._db.execute(f"{select} AND id = ?", (op_id,)).fetchall()
        return [
            PendingOperation(
                id=row[0],
                kind=row[1],
                scope=Scope(user_id=row[2], agent_id=row[3], run_id=row[4]),
                memory_id=row[5],
                payload=json.loads(row[6]) if row[6] else {},
                counts=json.loads(row[7]),
            )
            for row in rows
        ]

    def pending_memory_ids(self, kind: OperationKind = "add") -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT memory_id FROM operations WHERE state = 'pending' AND kind = ?"
                " AND memory_id IS NOT NULL",
                (kind,),
            ).fetchall()
        return {row[0] for row in rows}

    def pending_added_ids(self) -> set[str]:
        """The memories that pending adds (single or batched) may have half-written:
        reconcile must leave them to recover(), which rolls them back whole."""
        with self._lock:
            rows = self._db.execute(
                "SELECT payload FROM operations WHERE state = 'pending' AND kind = 'add_many'"
                " AND payload IS NOT NULL"
            ).fetchall()
        batched = {memory_id for row in rows for memory_id in json.loads(row[0]).get("ids", ())}
        return self.pending_memory_ids("add") | batched

    def operation(self, op_id: str) -> OperationInfo | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {OPERATION_COLUMNS} FROM operations WHERE id = ?",  # noqa: S608
                (op_id,),
            ).fetchone()
        if row is None:
            return None
        return OperationInfo.model_validate(row_fields(OPERATION_COLUMNS, row))

    # -- history ------------------------------------------------------------------

    def _write_history(
        self, db: sqlite3.Connection, op_id: str, events: Sequence[HistoryEntry]
    ) -> None:
        if not events:
            return
        stamp = now().isoformat()
        db.executemany(
            "INSERT INTO history (kind, memory_id, operation_id, old_text, new_text, hash,"
            " user_id, agent_id, run_id, counts, created_at)"
            " VALUES (?, ?, ?, ?, ?,"
            " coalesce(?, (SELECT h.hash FROM history h WHERE h.memory_id = ?"
            "  AND h.hash IS NOT NULL ORDER BY h.id DESC LIMIT 1)),"
            " ?, ?, ?, ?, ?)",
            [
                (
                    e.kind,
                    e.memory_id,
                    op_id,
                    e.old_text,
                    e.new_text,
                    e.hash,
                    e.memory_id,
                    e.scope.user_id,
                    e.scope.agent_id,
                    e.scope.run_id,
                    json.dumps(e.counts) if e.counts is not None else None,
                    stamp,
                )
                for e in events
            ],
        )

    @staticmethod
    def _erase(db: sqlite3.Connection, op_id: str, memory_ids: Sequence[str]) -> None:
        if not memory_ids:
            return
        db.executemany(
            "UPDATE history SET old_text = NULL, new_text = NULL,"
            " erased_by = coalesce(erased_by, ?) WHERE memory_id = ?",
            [(op_id, memory_id) for memory_id in memory_ids],
        )
        # An erased memory leaves no row (and no scope id) in the time index.
        db.executemany(
            "DELETE FROM expiry WHERE memory_id = ?", [(memory_id,) for memory_id in memory_ids]
        )

    def history(self, memory_id: str) -> list[HistoryEvent]:
        with self._lock:
            rows = self._db.execute(
                f"{HISTORY_SELECT} WHERE memory_id = ? ORDER BY id",
                (memory_id,),
            ).fetchall()
        return [history_event(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
