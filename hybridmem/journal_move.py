"""Moving a data directory's SQLite journal into a shared journal: once, resumably.

A store that kept its journal in ``journal.sqlite3`` (the per-process journal)
and is opened with a shared one (``[graph] shared_journal``, the default on
Neo4j) would otherwise leave its pending operations, history and expiry index
behind, where no other process sees them. On open, ``move_local_journal``
carries them over, with the embedder record:

- in batches keyed by the local ids (operations by ``seq``, history by ``id``,
  expiry rows by memory id), each written to the shared state in one
  transaction together with how far the move got (``MoveProgress``, kept in the
  shared state under the local file's own id): a move cut short anywhere resumes
  after its last batch, and nothing is written twice;
- under a claim of everything, so no erasure runs meanwhile;
- never copying erased text: a history row erased locally stays erased, and the
  texts of a memory neither store holds any more (erased by another process
  since) are dropped on the way (``erased_by`` then names this move);
- moved operations belong to the moving process (its ``recover()`` finishes
  them, or another process's once its lease has run out);
- only when the shared state says the move is done is the local file emptied
  (SQLite ``secure_delete``: freed pages are zeroed), overwritten and removed,
  with its WAL: the data directory keeps nothing a guarantee depends on.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from hybridmem.store_meta import StoreMetaPort

#: Rows per shared transaction.
MOVE_BATCH = 500
#: The fault point reached after each batch (tests cut a move short there).
BATCH_MOVED = "journal_move.batch_moved"
#: ``erased_by`` of texts dropped because their memory is gone from the stores.
DROPPED_BY_MOVE = "journal-move"

_OPERATION_COLUMNS = (
    "id",
    "seq",
    "kind",
    "state",
    "user_id",
    "agent_id",
    "run_id",
    "memory_id",
    "payload",
    "counts",
    "error",
    "attempts",
    "created_at",
    "updated_at",
)
_HISTORY_COLUMNS = (
    "id",
    "kind",
    "memory_id",
    "operation_id",
    "old_text",
    "new_text",
    "hash",
    "user_id",
    "agent_id",
    "run_id",
    "counts",
    "erased_by",
    "created_at",
)
_EXPIRY_COLUMNS = ("memory_id", "expires_at", "user_id", "agent_id", "run_id")


@dataclass(frozen=True)
class MoveProgress:
    """How far the move of one local file got: the last local key of each table."""

    operation_seq: int = 0
    history_id: int = 0
    expiry_memory_id: str = ""
    done: bool = False


@dataclass(frozen=True)
class MoveReport:
    operations: int
    history: int
    expiry: int
    texts_dropped: int


class JournalIntake(Protocol):
    """What a shared journal offers to take a local journal's rows."""

    def progress(self, source: str) -> MoveProgress | None:
        """The progress of the move of the local file ``source`` (its id), if begun."""
        ...

    def take(
        self,
        source: str,
        progress: MoveProgress,
        *,
        operations: Sequence[dict[str, Any]] = (),
        history: Sequence[dict[str, Any]] = (),
        expiry: Sequence[dict[str, Any]] = (),
    ) -> None:
        """In one transaction: the rows (as the local tables name their columns;
        operations become this process's, history rows get new ids in the order
        given, an expiry row never replaces one the shared state has) and
        ``progress``."""
        ...


@runtime_checkable
class TakesMovedJournal(Protocol):
    intake: JournalIntake


Exists = Callable[[Sequence[str]], set[str]]


def local_journal_holds_data(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def move_local_journal(
    path: Path,
    intake: JournalIntake,
    meta: StoreMetaPort,
    *,
    exists: Exists,
    fault: Callable[[str], None] = lambda point: None,
    batch: int = MOVE_BATCH,
) -> MoveReport | None:
    """Move the SQLite journal at ``path`` into the shared journal, then remove it.
    None when there is no file. The caller holds a claim of everything."""
    if not local_journal_holds_data(path):
        return None
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("PRAGMA secure_delete=ON")
        source = _source_id(db)
        _move_embedder(db, meta)
        progress = intake.progress(source) or MoveProgress()
        report = MoveReport(0, 0, 0, 0)
        if not progress.done:
            report = _move_rows(db, source, progress, intake, exists, fault, batch)
        _empty(db)
    finally:
        db.close()
    _remove(path)
    return report


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _source_id(db: sqlite3.Connection) -> str:
    """The local file's own id: the key of its move's progress in the shared state."""
    db.execute("CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT OR IGNORE INTO store_meta VALUES ('journal_id', ?)", (str(uuid.uuid4()),))
    row = db.execute("SELECT value FROM store_meta WHERE key = 'journal_id'").fetchone()
    return str(row[0])


def _move_embedder(db: sqlite3.Connection, meta: StoreMetaPort) -> None:
    """The local record of the embedder joins the shared one; another embedder
    recorded in the shared state refuses the open (ConfigurationError), before
    anything is moved."""
    rows = dict(
        db.execute(
            "SELECT key, value FROM store_meta WHERE key IN ('embedder_name', 'embedder_dimension')"
        ).fetchall()
    )
    if "embedder_name" in rows:
        meta.record_embedder(rows["embedder_name"], int(rows["embedder_dimension"]))


def _rows(
    db: sqlite3.Connection, table: str, columns: Sequence[str], key: str, after: Any, limit: int
) -> list[dict[str, Any]]:
    present = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
    select = ", ".join(c if c in present else f"NULL AS {c}" for c in columns)
    found = db.execute(
        f"SELECT {select} FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT ?",  # noqa: S608
        (after, limit),
    ).fetchall()
    return [dict(zip(columns, row, strict=True)) for row in found]


def _move_rows(
    db: sqlite3.Connection,
    source: str,
    progress: MoveProgress,
    intake: JournalIntake,
    exists: Exists,
    fault: Callable[[str], None],
    batch: int,
) -> MoveReport:
    tables = _tables(db)
    counts = {"operations": 0, "history": 0, "expiry": 0, "dropped": 0}
    if "operations" in tables:
        while rows := _rows(
            db, "operations", _OPERATION_COLUMNS, "seq", progress.operation_seq, batch
        ):
            progress = replace(progress, operation_seq=int(rows[-1]["seq"]))
            intake.take(source, progress, operations=rows)
            counts["operations"] += len(rows)
            fault(BATCH_MOVED)
    if "history" in tables:
        while rows := _rows(db, "history", _HISTORY_COLUMNS, "id", progress.history_id, batch):
            counts["dropped"] += _drop_erased_texts(rows, exists)
            progress = replace(progress, history_id=int(rows[-1]["id"]))
            intake.take(source, progress, history=rows)
            counts["history"] += len(rows)
            fault(BATCH_MOVED)
    if "expiry" in tables:
        while rows := _rows(
            db, "expiry", _EXPIRY_COLUMNS, "memory_id", progress.expiry_memory_id, batch
        ):
            progress = replace(progress, expiry_memory_id=str(rows[-1]["memory_id"]))
            intake.take(source, progress, expiry=rows)
            counts["expiry"] += len(rows)
            fault(BATCH_MOVED)
    intake.take(source, replace(progress, done=True))
    return MoveReport(counts["operations"], counts["history"], counts["expiry"], counts["dropped"])


def _drop_erased_texts(rows: list[dict[str, Any]], exists: Exists) -> int:
    """Null the texts of rows erased locally, and of memories the stores no longer
    hold (another process erased them; this file never heard of it)."""
    with_text = {
        r["memory_id"]
        for r in rows
        if r["memory_id"] is not None and (r["old_text"] is not None or r["new_text"] is not None)
    }
    alive = exists(sorted(with_text)) if with_text else set()
    dropped = 0
    for r in rows:
        if r["old_text"] is None and r["new_text"] is None:
            continue
        if r["erased_by"] is not None or r["memory_id"] not in alive:
            r["old_text"] = r["new_text"] = None
            r["erased_by"] = r["erased_by"] or DROPPED_BY_MOVE
            dropped += 1
    return dropped


def _empty(db: sqlite3.Connection) -> None:
    """Delete every row (secure_delete zeroes the freed pages) and fold the WAL in."""
    for table in _tables(db) - {"sqlite_sequence"}:
        db.execute(f"DELETE FROM {table}")  # noqa: S608
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")


def _remove(path: Path) -> None:
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if not part.exists():
            continue
        size = part.stat().st_size
        with part.open("r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        part.unlink()
