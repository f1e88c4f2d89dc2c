"""Reads straight from a store's SQLite journal file, an independent witness of history.

A check that went through ``history()`` would trust the code under test; these
read the rows the journal wrote.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _journal_rows(path: Path, query: str, params: tuple[Any, ...]) -> list[Any]:
    shared = getattr(path, "shared", None)
    if shared is not None:
        return _shared_rows(shared, query, params)
    with closing(sqlite3.connect(path)) as db, db:
        return db.execute(query, params).fetchall()


#: The same reads, in plain Cypher, on a shared journal in Neo4j
#: (``hybridmem.journal_port.SharedJournalPath``): labels filled in per store.
_CYPHER = {
    "SELECT count(*) FROM history WHERE memory_id = ?"
    " AND (old_text IS NOT NULL OR new_text IS NOT NULL)": (
        "MATCH (h:{history} {{memory_id: $p0}})"
        " WHERE h.old_text IS NOT NULL OR h.new_text IS NOT NULL RETURN count(h)"
    ),
    "SELECT id, memory_id FROM operations WHERE kind = ? ORDER BY seq": (
        "MATCH (o:{operation} {{kind: $p0}}) RETURN o.id, o.memory_id ORDER BY o.seq"
    ),
    "SELECT operation_id, counts FROM history WHERE memory_id IS NULL AND kind = ? ORDER BY id": (
        "MATCH (h:{history} {{kind: $p0}}) WHERE h.memory_id IS NULL"
        " RETURN h.operation_id, h.counts ORDER BY h.id"
    ),
    "SELECT memory_id, user_id FROM expiry": "MATCH (x:{expiry}) RETURN x.memory_id, x.user_id",
    "UPDATE expiry SET expires_at = ? WHERE memory_id = ?": (
        "MATCH (x:{expiry} {{memory_id: $p1}}) SET x.expires_at = $p0"
    ),
}


def _shared_rows(journal: Any, query: str, params: tuple[Any, ...]) -> list[Any]:
    names = journal._n
    cypher = _CYPHER[query].format(
        history=names.history, operation=names.operation, expiry=names.expiry
    )
    values = {f"p{i}": value for i, value in enumerate(params)}
    run = journal._bolt.write if query.startswith("UPDATE") else journal._bolt.read
    return list(run(lambda tx: tx.run(cypher, values).values()))


def history_texts(journal_path: Path, memory_ids: Iterable[str]) -> int:
    """History rows of these memories that still hold text, read from the journal file."""
    return sum(
        _journal_rows(
            journal_path,
            "SELECT count(*) FROM history WHERE memory_id = ?"
            " AND (old_text IS NOT NULL OR new_text IS NOT NULL)",
            (memory_id,),
        )[0][0]
        for memory_id in memory_ids
    )


def operation_ids(journal_path: Path, kind: str, memory_id: str | None = None) -> list[str]:
    """The journaled operations of this kind (on this memory, if given), oldest first."""
    rows = _journal_rows(
        journal_path,
        "SELECT id, memory_id FROM operations WHERE kind = ? ORDER BY seq",
        (kind,),
    )
    return [row[0] for row in rows if memory_id is None or row[1] == memory_id]


@dataclass(frozen=True)
class OperationEvent:
    """A delete_all or reset event (no memory id) as the journal file holds it."""

    operation_id: str
    counts: dict[str, int] | None


def operation_events(journal_path: Path, kind: str) -> list[OperationEvent]:
    rows = _journal_rows(
        journal_path,
        "SELECT operation_id, counts FROM history WHERE memory_id IS NULL AND kind = ? ORDER BY id",
        (kind,),
    )
    return [OperationEvent(row[0], json.loads(row[1]) if row[1] else None) for row in rows]


def expiry_rows(journal_path: Path) -> list[tuple[Any, ...]]:
    """The expiry index: (memory_id, user_id) rows."""
    return [
        tuple(row)
        for row in _journal_rows(journal_path, "SELECT memory_id, user_id FROM expiry", ())
    ]


def set_expiry_row(journal_path: Path, memory_id: str, expires_at: str) -> None:
    """Rewrite a memory's expiry index row behind the journal's back (a stale row)."""
    _journal_rows(
        journal_path,
        "UPDATE expiry SET expires_at = ? WHERE memory_id = ?",
        (expires_at, memory_id),
    )
