"""The journal's part of a compaction: no erased scope id left in the SQLite file.

Erasures null the texts in history at once (``secure_delete`` zeroes the freed
bytes), but the journal keeps the scope of every operation and history event
(a delete_all's event records the scope it erased), its indexes keep copies of
those ids in interior pages, and the WAL keeps the page images written before
the erasure. A compaction therefore replaces every scope id that no live memory
holds any more by a digest (``erased:`` and the SHA-256 of the id: whoever
holds the id can still match the proof of its erasure, nobody can read it back),
then VACUUMs the file and truncates its WAL.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

#: A digest's prefix; values that carry it are digests already.
DIGEST_PREFIX = "erased:"
SCOPE_COLUMNS = ("user_id", "agent_id", "run_id")
#: Operations after which erased values may remain in a file's free pages.
ERASING_KINDS = ("delete", "delete_all", "purge_expired", "reset", "reconcile", "update")
_CHECKPOINT_TRIES = 50


def digest(value: str | None) -> str | None:
    if value is None or value.startswith(DIGEST_PREFIX):
        return value
    return DIGEST_PREFIX + hashlib.sha256(value.encode("utf-8")).hexdigest()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=10000")
    db.execute("PRAGMA secure_delete=ON")
    return db


def scrub(path: Path, live: Iterable[tuple[str, str]]) -> int:
    """Replace, in history and in finished operations, every scope id that is not
    ``live`` (pairs of column and value) by its digest; then VACUUM the file and
    truncate its WAL. Returns the number of values replaced."""
    db = _connect(path)
    try:
        db.create_function("hm_digest", 1, digest, deterministic=True)
        db.execute(
            "CREATE TEMP TABLE live_scope (kind TEXT, value TEXT, PRIMARY KEY (kind, value))"
        )
        db.executemany("INSERT OR IGNORE INTO live_scope VALUES (?, ?)", live)
        replaced = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            for table, only in (("history", ""), ("operations", " AND state = 'done'")):
                for column in SCOPE_COLUMNS:
                    # Names from the fixed tuples above; values are parameters.
                    cursor = db.execute(
                        f"UPDATE {table} SET {column} = hm_digest({column})"  # noqa: S608
                        f" WHERE {column} IS NOT NULL AND substr({column}, 1, ?) != ?{only}"
                        f" AND NOT EXISTS (SELECT 1 FROM live_scope l"
                        f" WHERE l.kind = ? AND l.value = {table}.{column})",
                        (len(DIGEST_PREFIX), DIGEST_PREFIX, column),
                    )
                    replaced += cursor.rowcount
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        db.execute("DROP TABLE live_scope")
        vacuum(db)
        return replaced
    finally:
        db.close()


def vacuum(db: sqlite3.Connection) -> None:
    """Rewrite the file (index pages too) and empty its WAL."""
    db.execute("VACUUM")
    for _ in range(_CHECKPOINT_TRIES):
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if not busy:
            return
        # A reader holds a snapshot; it ends within its statement.
        time.sleep(0.1)
    raise TimeoutError("the journal's WAL could not be truncated: a reader kept it busy")


def erased_since_compaction(path: Path) -> bool:
    """Has an operation that may leave erased bytes behind finished since the last
    finished compaction?"""
    db = _connect(path)
    try:
        marks = ", ".join("?" * len(ERASING_KINDS))
        row = db.execute(
            f"SELECT 1 FROM operations WHERE kind IN ({marks}) AND state = 'done'"  # noqa: S608
            " AND seq > coalesce((SELECT max(seq) FROM operations"
            " WHERE kind = 'compact' AND state = 'done'), 0) LIMIT 1",
            ERASING_KINDS,
        ).fetchone()
        return row is not None
    finally:
        db.close()
