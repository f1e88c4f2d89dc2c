"""The vector table's layout, and how a record becomes a row and back.

Why the indexes hold digests, not values: SQLite's ``secure_delete`` zeroes a
deleted row's bytes in its leaf page and every page it frees, but an index's
interior pages keep copies of keys as dividers for as long as the index lives
(issue 24's study found an erased user id there until ``VACUUM``). So the id
and the scope parts are indexed by a salted 64-bit digest (``*_key`` columns);
the values themselves sit only in the table's leaf cells, whose interior pages
hold row ids (integers). A lookup matches the digest through the index and
then the value itself, so a digest collision costs a row read, never a wrong
answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from hybridmem.models import Scope, ScopeField
from hybridmem.records import VectorRecord, decode_rows

#: Column of each scope part's digest (names fixed here, never from a caller).
KEY_COLUMN: dict[ScopeField, str] = {"user_id": "u_key", "agent_id": "a_key", "run_id": "r_key"}

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS vec("
    " rid INTEGER PRIMARY KEY,"
    " id_key INTEGER NOT NULL, u_key INTEGER, a_key INTEGER, r_key INTEGER,"
    " id TEXT NOT NULL, user_id TEXT, agent_id TEXT, run_id TEXT,"
    " text TEXT NOT NULL, hash TEXT NOT NULL, metadata TEXT NOT NULL,"
    # Fixed-width UTC text: sorts as time. NULL: never expires.
    " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, expires_at TEXT,"
    # float32, little-endian, dimension * 4 bytes.
    " embedding BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS vec_id ON vec(id_key)",
    "CREATE INDEX IF NOT EXISTS vec_user ON vec(u_key) WHERE u_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS vec_agent ON vec(a_key) WHERE a_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS vec_run ON vec(r_key) WHERE r_key IS NOT NULL",
)

#: The columns a record is read from, in ``decode``'s order.
FIELDS = (
    "id, embedding, text, hash, user_id, agent_id, run_id,"
    " created_at, updated_at, metadata, expires_at"
)
INSERT = (
    "INSERT INTO vec(rid, id_key, u_key, a_key, r_key, id, user_id, agent_id, run_id,"
    " text, hash, metadata, created_at, updated_at, expires_at, embedding)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPDATE = (
    "UPDATE vec SET id_key = ?, u_key = ?, a_key = ?, r_key = ?, id = ?, user_id = ?,"
    " agent_id = ?, run_id = ?, text = ?, hash = ?, metadata = ?, created_at = ?,"
    " updated_at = ?, expires_at = ?, embedding = ? WHERE rid = ?"
)
#: SQLite's default limit on a statement's parameters is 32,766; stay far below.
CHUNK = 500
NEVER = np.iinfo(np.int64).max


class Digests:
    """Salted 64-bit digests of ids and scope values (the salt is the file's own)."""

    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    def of(self, kind: str, value: str) -> int:
        digest = hashlib.blake2b(
            f"{kind}\x1f{value}".encode(), digest_size=8, key=self._salt
        ).digest()
        return int.from_bytes(digest, "little", signed=True)

    def id(self, value: str) -> int:
        return self.of("id", value)


def to_text(value: datetime) -> str:
    """Always 32 characters (the year zero-padded), so text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def micros(value: str | None) -> int:
    """An expiry as microseconds since the epoch; ``NEVER`` for None. Exact, unlike a float."""
    if value is None:
        return int(NEVER)
    delta = datetime.fromisoformat(value) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def instant_micros(value: datetime) -> int:
    return micros(to_text(value))


def blob(embedding: Sequence[float]) -> bytes:
    return np.asarray(embedding, dtype="<f4").tobytes()


def vectors(blobs: Sequence[bytes], dimension: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The rows' embeddings as one (n, dimension) float32 matrix."""
    if not blobs:
        return np.zeros((0, dimension), dtype=np.float32)
    flat = np.frombuffer(b"".join(blobs), dtype="<f4")
    return flat.reshape(len(blobs), dimension).astype(np.float32, copy=False)


def row_values(rid: int, record: VectorRecord, digests: Digests) -> tuple[Any, ...]:
    """The INSERT parameters of ``record`` at row ``rid`` (UPDATE takes ``[1:]`` and the rid)."""
    keys = [
        digests.of(column, value) if value is not None else None
        for column, value in (
            ("u", record.user_id),
            ("a", record.agent_id),
            ("r", record.run_id),
        )
    ]
    return (
        rid,
        digests.id(record.id),
        *keys,
        record.id,
        record.user_id,
        record.agent_id,
        record.run_id,
        record.text,
        record.hash,
        json.dumps(record.metadata),
        to_text(record.created_at),
        to_text(record.updated_at),
        to_text(record.expires_at) if record.expires_at is not None else None,
        blob(record.embedding),
    )


def scope_key(digests: Digests, part: ScopeField, value: str) -> int:
    return digests.of(KEY_COLUMN[part][0], value)


def decode(row: Sequence[Any]) -> VectorRecord:
    """A record from a row read as ``FIELDS``."""
    return VectorRecord(
        id=row[0],
        embedding=np.frombuffer(row[1], dtype="<f4").astype(float).tolist(),
        text=row[2],
        hash=row[3],
        user_id=row[4],
        agent_id=row[5],
        run_id=row[6],
        created_at=datetime.fromisoformat(row[7]),
        updated_at=datetime.fromisoformat(row[8]),
        metadata=json.loads(row[9]),
        expires_at=datetime.fromisoformat(row[10]) if row[10] is not None else None,
    )


def row_id(row: Sequence[Any]) -> object:
    return row[0]


#: A record as the narrow listing returns it: id, metadata, created_at.
MetadataRow = tuple[str, dict[str, Any], datetime]
#: The columns a ``MetadataRow`` is read from.
METADATA_FIELDS = "id, metadata, created_at"


def _metadata_row(row: Sequence[Any]) -> MetadataRow:
    metadata = json.loads(row[1])
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not a JSON object")
    return row[0], metadata, datetime.fromisoformat(row[2])


def metadata_rows(store: str, rows: Sequence[Sequence[Any]]) -> list[MetadataRow]:
    """Rows read as ``METADATA_FIELDS`` decoded; a damaged row is logged and left
    out (``decode_rows``). The metadata texts are parsed as one JSON array (one
    C-level parse, not one per row: several times faster at 1,000 rows), unless a
    row is damaged."""
    try:
        texts = [row[1] for row in rows]
        if not all(isinstance(text, str) for text in texts):
            raise TypeError("a metadata value is not text")
        parsed = json.loads("[" + ",".join(texts) + "]")
        # A row that is not one JSON object would change the count or the types.
        if len(parsed) != len(rows) or not all(isinstance(m, dict) for m in parsed):
            raise ValueError("a metadata value is not one JSON object")
        return [
            (row[0], found, datetime.fromisoformat(row[2]))
            for row, found in zip(rows, parsed, strict=True)
        ]
    except (ValueError, TypeError):
        return decode_rows(store, rows, _metadata_row, row_id)


def scope_of(user_id: str | None, agent_id: str | None, run_id: str | None) -> Scope:
    return Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
