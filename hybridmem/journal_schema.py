"""The SQLite journal's tables and indexes, its schema version and the migration of
an older file, and how a row is read back by column name.

The version is SQLite's ``PRAGMA user_version``; ``migrate`` brings a file of an
older version up to ``SCHEMA_VERSION`` in place, inside the caller's transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from hybridmem.models import HistoryEvent

SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    memory_id TEXT,
    payload TEXT,
    counts TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS operations_pending ON operations(state, seq);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    memory_id TEXT,
    operation_id TEXT NOT NULL,
    old_text TEXT, new_text TEXT,
    hash TEXT,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    counts TEXT,
    erased_by TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_memory ON history(memory_id);
CREATE INDEX IF NOT EXISTS history_user ON history(user_id);
CREATE INDEX IF NOT EXISTS history_agent ON history(agent_id);
CREATE INDEX IF NOT EXISTS history_run ON history(run_id);
CREATE TABLE IF NOT EXISTS expiry (
    memory_id TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT
);
CREATE INDEX IF NOT EXISTS expiry_due ON expiry(expires_at);
"""

#: The journal's schema version (``PRAGMA user_version``). 2 added ``attempts`` and
#: the ``set_aside`` state; opening a version-1 file migrates it in place.
SCHEMA_VERSION = 2

# Read back by name: a row becomes the model of the same field names.
HISTORY_COLUMNS = (
    "id, kind, memory_id, operation_id, old_text, new_text, hash, user_id,"
    " agent_id, run_id, counts, erased_by, created_at"
)
HISTORY_SELECT = f"SELECT {HISTORY_COLUMNS} FROM history"  # noqa: S608
OPERATION_COLUMNS = (
    "id, kind, state, user_id, agent_id, run_id, memory_id, counts, error, created_at, updated_at"
)


def migrate(db: sqlite3.Connection) -> None:
    """Bring a journal file written by an older version up to ``SCHEMA_VERSION``
    (the caller holds an immediate transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION:
        return
    columns = {row[1] for row in db.execute("PRAGMA table_info(operations)")}
    if "attempts" not in columns:
        db.execute("ALTER TABLE operations ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def row_fields(columns: str, row: Sequence[Any]) -> dict[str, Any]:
    """A row as ``{column: value}``, with its JSON counts decoded."""
    fields = dict(zip(columns.split(", "), row, strict=True))
    fields["counts"] = json.loads(fields["counts"]) if fields["counts"] else None
    return fields


def history_event(row: Sequence[Any]) -> HistoryEvent:
    return HistoryEvent.model_validate(row_fields(HISTORY_COLUMNS, row))
