"""SQLiteVectorStore: the vector port on one SQLite file (the standard library's).

Search is exact and pre-filtered: the scope's rows are found through an index
on the scope part's digest (see ``_rows``), ranked by cosine in numpy
(``_scope_cache``: a scope searched before is one matrix product), filters run
in SQLite before the limit, and only the returned rows are read whole.

Erasure: ``secure_delete`` zeroes every deleted cell and freed page, the
indexes hold digests only, and each delete ends with a truncating WAL
checkpoint, so after ``delete``, ``delete_scope`` or ``reset`` returns no
erased value is in the file or its WAL (when another process holds a read
open, the truncation waits for the next delete or the compaction).

Several processes may open the file (WAL, ``busy_timeout``); each empties its
search cache when another has committed (``PRAGMA data_version``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hybridmem.errors import DimensionMismatchError, MissingScopeError
from hybridmem.filters import Filters
from hybridmem.models import Scope
from hybridmem.records import VectorRecord, decode_rows
from hybridmem_sqlite._file import SQLiteFile, Synchronous
from hybridmem_sqlite._rows import (
    CHUNK,
    FIELDS,
    INSERT,
    KEY_COLUMN,
    METADATA_FIELDS,
    UPDATE,
    Digests,
    MetadataRow,
    decode,
    instant_micros,
    metadata_rows,
    micros,
    row_id,
    row_values,
    scope_key,
    scope_of,
    to_text,
    vectors,
)
from hybridmem_sqlite._scope_cache import ScopeCache, ScopeVectors, as_int64
from hybridmem_sqlite.mem0_lookup import SQLiteMem0Lookup


def _cosine(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    """In float64 and within [-1, 1], as a score is reported."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    norms = float(np.linalg.norm(a64) * np.linalg.norm(b64))
    return max(-1.0, min(1.0, float(a64 @ b64) / norms)) if norms > 0 else 0.0


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _marks(count: int) -> str:
    return ",".join("?" * count)


class SQLiteVectorStore(SQLiteMem0Lookup, SQLiteFile):
    name = "SQLite vector store"

    def __init__(
        self,
        path: Path,
        search_cache_mb: int = 256,
        synchronous: Synchronous = "full",
        busy_timeout_ms: int = 10_000,
    ) -> None:
        self._cache = ScopeCache(search_cache_mb * 2**20)
        self._search_cache_mb = search_cache_mb
        super().__init__(path, synchronous, busy_timeout_ms)

    def _opened(self, meta: dict[str, str]) -> None:
        self._digests = Digests(bytes.fromhex(meta["salt"]))
        self._dimension: int | None = int(meta["dimension"]) if "dimension" in meta else None
        self._data_version = self._version()

    def _forget(self) -> None:
        self._cache.clear()

    def blank_twin(self, path: Path) -> SQLiteVectorStore:
        # The twin is only written and counted: no search cache.
        return SQLiteVectorStore(path, 0, self._synchronous, self._busy_timeout_ms)

    def __repr__(self) -> str:
        return f"SQLiteVectorStore({self.address!r})"

    def live_scopes(self) -> list[tuple[str | None, str | None, str | None]]:
        """The distinct scope parts of the rows (what a compaction's journal scrub keeps)."""
        with self._lock, self._guard():
            query = "SELECT DISTINCT user_id, agent_id, run_id FROM vec"
            return [(u, a, r) for u, a, r in self._db.execute(query)]

    # -- scope clauses ------------------------------------------------------------

    def _where(self, scope: Scope) -> tuple[str, list[Any]]:
        """A WHERE clause selecting ``scope`` through its narrowest part's index; the
        values compared too (a digest can collide). Column names are fixed."""
        if scope.is_empty():
            raise MissingScopeError("a vector scope needs a user_id, agent_id or run_id")
        part, value = scope.narrowest()
        clauses = [f"{KEY_COLUMN[part]} = ?"]
        params: list[Any] = [scope_key(self._digests, part, value)]
        for name, given in scope.terms():
            clauses.append(f"{name} = ?")
            params.append(given)
        return " AND ".join(clauses), params

    def _filtered(self, scope: Scope, filters: Filters | None) -> tuple[str, list[Any]]:
        where, params = self._where(scope)
        if filters is not None and filters.alive_at is not None:
            where += " AND (expires_at IS NULL OR expires_at > ?)"
            params.append(to_text(filters.alive_at))
        if filters is not None and filters.conditions:
            where += " AND hm_filter(metadata, created_at, updated_at, ?)"
            params.append(filters.to_json())
        return where, params

    def _check_dimension(self, embedding: Sequence[float]) -> None:
        if self._dimension is not None and len(embedding) != self._dimension:
            raise DimensionMismatchError(
                f"embedding has {len(embedding)} dimensions; this store holds {self._dimension}"
            )

    def _find(self, ids: Sequence[str]) -> dict[str, tuple[int, Scope]]:
        """The row id and scope of each of ``ids`` that exists."""
        wanted = set(ids)
        found: dict[str, tuple[int, Scope]] = {}
        keys = list(dict.fromkeys(self._digests.id(i) for i in wanted))
        for chunk in _chunks(keys):
            query = (
                "SELECT rid, id, user_id, agent_id, run_id FROM vec"  # noqa: S608
                f" WHERE id_key IN ({_marks(len(chunk))})"
            )
            for rid, id_, user, agent, run in self._db.execute(query, list(chunk)):
                if id_ in wanted:
                    found[id_] = (rid, scope_of(user, agent, run))
        return found

    # -- writes ---------------------------------------------------------------------

    def upsert(self, records: Sequence[VectorRecord], *, fresh: bool = False) -> None:
        if not records:
            return
        for record in records:
            self._check_dimension(record.embedding)
        dimension = len(records[0].embedding)
        if any(len(r.embedding) != dimension for r in records):
            raise DimensionMismatchError("embeddings of one batch differ in dimension")
        # The last record of an id wins.
        batch = list({r.id: r for r in records}.values())
        with self._lock, self._guard(), self._transaction() as conn:
            if self._dimension is None:
                # Another process may have set it since this one looked.
                found = conn.execute("SELECT value FROM meta WHERE key = 'dimension'").fetchone()
                if found is not None and int(found[0]) != dimension:
                    self._dimension = int(found[0])
                    self._check_dimension(batch[0].embedding)
                conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('dimension', ?)",
                    (str(dimension),),
                )
            existing = {} if fresh else self._find([r.id for r in batch])
            next_rid = int(conn.execute("SELECT coalesce(max(rid), 0) FROM vec").fetchone()[0])
            inserts, updates, placed = [], [], []
            for record in batch:
                old = existing.get(record.id)
                if old is None:
                    next_rid += 1
                    rid = next_rid
                    inserts.append(row_values(rid, record, self._digests))
                else:
                    rid = old[0]
                    updates.append((*row_values(rid, record, self._digests)[1:], rid))
                placed.append((record, rid))
            conn.executemany(INSERT, inserts)
            conn.executemany(UPDATE, updates)
        self._dimension = dimension
        moved = [(old[1], old[0]) for old in existing.values()]
        self._cache.deleted(moved)
        self._cache.written(
            [
                (
                    record.scope,
                    rid,
                    np.asarray(record.embedding, dtype=np.float32),
                    micros(to_text(record.expires_at) if record.expires_at else None),
                )
                for record, rid in placed
            ]
        )

    def _delete_rows(self, conn: sqlite3.Connection, rows: Sequence[tuple[int, Scope]]) -> int:
        count = 0
        for chunk in _chunks([rid for rid, _ in rows]):
            query = f"DELETE FROM vec WHERE rid IN ({_marks(len(chunk))})"  # noqa: S608
            count += conn.execute(query, list(chunk)).rowcount
        return count

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        with self._lock, self._guard():
            with self._transaction() as conn:
                rows = list(self._find(ids).values())
                count = self._delete_rows(conn, rows)
            self._cache.deleted([(scope, rid) for rid, scope in rows])
            self._erase_wal()
            return count

    def delete_scope(self, scope: Scope, batch_size: int) -> int:
        where, params = self._where(scope)
        query = f"SELECT rid, user_id, agent_id, run_id FROM vec WHERE {where} LIMIT ?"  # noqa: S608
        total = 0
        with self._lock, self._guard():
            while True:
                with self._transaction() as conn:
                    rows = [
                        (rid, scope_of(u, a, r))
                        for rid, u, a, r in conn.execute(query, [*params, batch_size])
                    ]
                    total += self._delete_rows(conn, rows)
                self._cache.deleted([(s, rid) for rid, s in rows])
                if len(rows) < batch_size:
                    break
            self._erase_wal()
        return total

    def drop_scope(self, scope: Scope) -> list[str] | None:
        """None: one table holds every scope."""
        return None

    def reset(self) -> None:
        with self._lock, self._guard():
            with self._transaction() as conn:
                conn.execute("DELETE FROM vec")
                conn.execute("DELETE FROM meta WHERE key = 'dimension'")
            self._cache.clear()
            self._dimension = None
            self._erase_wal()

    # -- reads ------------------------------------------------------------------------

    def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        if not ids:
            return []
        with self._lock, self._guard():
            rids = [rid for rid, _ in self._find(ids).values()]
            return decode_rows(self.name, self._rows_by_rid(rids), decode, row_id)

    def _rows_by_rid(self, rids: Sequence[int]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks(rids):
            query = f"SELECT {FIELDS}, rid FROM vec WHERE rid IN ({_marks(len(chunk))})"  # noqa: S608
            rows.extend(self._db.execute(query, list(chunk)).fetchall())
        return rows

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        with self._lock, self._guard():
            return set(self._find(ids))

    def count_scope(self, scope: Scope) -> int:
        where, params = self._where(scope)
        with self._lock, self._guard():
            query = f"SELECT count(*) FROM vec WHERE {where}"  # noqa: S608
            return int(self._db.execute(query, params).fetchone()[0])

    def list_scope(
        self,
        scope: Scope,
        limit: int | None,
        *,
        filters: Filters | None = None,
        offset: int = 0,
    ) -> list[VectorRecord]:
        where, params = self._filtered(scope, filters)
        query = (
            f"SELECT {FIELDS} FROM vec WHERE {where}"  # noqa: S608
            " ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
        )
        with self._lock, self._guard():
            rows = self._db.execute(query, [*params, -1 if limit is None else limit, offset])
            return decode_rows(self.name, rows.fetchall(), decode, row_id)

    def list_scope_metadata(
        self, scope: Scope, limit: int | None, *, offset: int = 0
    ) -> list[MetadataRow]:
        """``list_scope`` without filters, as (id, metadata, created_at): neither
        vector nor text is read (the LangGraph namespace index lists its markers
        with this on every ``list_namespaces``)."""
        where, params = self._where(scope)
        query = (
            f"SELECT {METADATA_FIELDS} FROM vec WHERE {where}"  # noqa: S608
            " ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
        )
        with self._lock, self._guard():
            rows = self._db.execute(query, [*params, -1 if limit is None else limit, offset])
            return metadata_rows(self.name, rows.fetchall())

    def search(
        self,
        embedding: Sequence[float],
        scope: Scope,
        limit: int,
        *,
        filters: Filters | None = None,
    ) -> list[tuple[VectorRecord, float]]:
        self._check_dimension(embedding)
        where, params = self._where(scope)
        with self._lock, self._guard():
            if self._dimension is None:
                return []
            if self._cache.enabled and self._version() != self._data_version:
                # Another process committed: what this one cached may be stale.
                self._cache.clear()
                self._data_version = self._version()
            entry = self._cache.get(scope) or self._load(scope, where, params)
            alive_after = None
            if filters is not None and filters.alive_at is not None:
                alive_after = instant_micros(filters.alive_at)
            allowed = None
            if filters is not None and filters.conditions:
                condition = f"SELECT rid FROM vec WHERE {where} AND hm_filter(metadata, created_at, updated_at, ?)"  # noqa: S608, E501
                found = self._db.execute(condition, [*params, filters.to_json()]).fetchall()
                allowed = as_int64([rid for (rid,) in found])
            query = np.asarray(embedding, dtype=np.float32)
            picked = dict(entry.candidates(query, limit, alive_after, allowed))
            rows = self._rows_by_rid(list(picked))
        rows.sort(key=lambda row: (-picked[row[-1]], row[0]))

        def scored(row: tuple[Any, ...]) -> tuple[VectorRecord, float]:
            record = decode(row)
            return record, _cosine(np.frombuffer(row[1], dtype="<f4"), query)

        return decode_rows(self.name, rows[:limit], scored, row_id)

    def _load(self, scope: Scope, where: str, params: list[Any]) -> ScopeVectors:
        """The scope's vectors read from the file; kept when the cache has room."""
        query = f"SELECT rid, embedding, expires_at FROM vec WHERE {where}"  # noqa: S608
        rows = self._db.execute(query, params).fetchall()
        dimension = int(self._dimension or 0)
        entry = ScopeVectors.of(
            dimension,
            as_int64([r[0] for r in rows]),
            vectors([r[1] for r in rows], dimension),
            as_int64([micros(r[2]) for r in rows]),
        )
        if self._cache.enabled:
            self._cache.keep(scope, entry)
        return entry

    # -- whole-store scans ------------------------------------------------------------

    def iter_ids(self, batch_size: int) -> Iterator[list[str]]:
        after = 0
        while True:
            with self._lock, self._guard():
                rows = self._db.execute(
                    "SELECT rid, id FROM vec WHERE rid > ? ORDER BY rid LIMIT ?",
                    (after, batch_size),
                ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield [row[1] for row in rows]

    def count(self) -> int:
        with self._lock, self._guard():
            return int(self._db.execute("SELECT count(*) FROM vec").fetchone()[0])
