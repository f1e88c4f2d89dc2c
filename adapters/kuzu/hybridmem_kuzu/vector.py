"""KuzuVectorStore: the vector port on a second, separate Kuzu database file.

Search is exact: the scope's records are found through their scope node (a
primary-key lookup) and ranked by cosine similarity. Every search carries a
scope, so the work follows the scope's size, and filtering happens before the
limit, which an approximate index with post-filtering cannot promise. A scope
searched before is ranked in memory from ``SearchCache`` (see there for why and
what keeps it equal to the file); a scope larger than the cache, inside Kuzu.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from hybridmem.errors import DimensionMismatchError
from hybridmem.filters import Filters
from hybridmem.models import Scope
from hybridmem.records import VectorRecord, decode_rows
from hybridmem_kuzu._database import KuzuFileStore, used
from hybridmem_kuzu._engine import DEFAULT_ENGINE
from hybridmem_kuzu._filters import FILTER_FUNCTION, matches_row, stored_row_matches
from hybridmem_kuzu._live import LiveVectors
from hybridmem_kuzu._scope import scope_keys, scope_match
from hybridmem_kuzu._scope_reads import MetadataRow, list_metadata, with_filters
from hybridmem_kuzu._search_cache import ScopeRows, SearchCache
from hybridmem_kuzu._time import from_text, to_text
from hybridmem_kuzu.mem0_lookup import KuzuMem0Lookup, lookup_keys

_META = "CREATE NODE TABLE IF NOT EXISTS VMeta(key STRING PRIMARY KEY, value STRING)"
# Stops at the first live member; skips stale edges Kuzu keeps after a crash.
_SCOPE_IN_USE = (
    "MATCH (s:VScope {key: $key})<-[:VIN_SCOPE]-(y:Vec) WHERE y.id IS NOT NULL RETURN y.id LIMIT 1",
)
_FIELDS = (
    "v.id, v.embedding, v.text, v.hash, v.user_id, v.agent_id, v.run_id,"
    " v.created_at, v.updated_at, v.metadata, v.expires_at"
)
#: The position of the score after _FIELDS in a search row.
_SCORE = 11
# _FIELDS but the embedding, as upsert writes them: what the search cache keeps.
_CACHED_FIELDS = (
    "id",
    "text",
    "hash",
    "user_id",
    "agent_id",
    "run_id",
    "created_at",
    "updated_at",
    "metadata",
    "expires_at",
)


def _record(row: Sequence[Any]) -> VectorRecord:
    return VectorRecord(
        id=row[0],
        embedding=[float(x) for x in row[1]],
        text=row[2],
        hash=row[3],
        user_id=row[4],
        agent_id=row[5],
        run_id=row[6],
        created_at=from_text(row[7]),
        updated_at=from_text(row[8]),
        metadata=json.loads(row[9]),
        expires_at=from_text(row[10]) if row[10] is not None else None,
    )


def _scored(row: Sequence[Any]) -> tuple[VectorRecord, float]:
    return _record(row), float(row[_SCORE])


def _row_id(row: Sequence[Any]) -> object:
    return row[0]


def array_literals(embeddings: Sequence[Sequence[float]]) -> list[str]:
    """Embeddings as Kuzu array literals ("[0.25,-1,…]"), cast to FLOAT[n] inside
    the query. A Python list parameter costs Kuzu's binding ~1 us a float and, in
    a list of structs, grows faster than the batch (2,000 rows of 256 floats: 13 s
    against 0.2 s for 200); one string a row costs 0.15 us a float to format and
    its parse is linear. Nine significant digits of the float32 value give back
    exactly that float32, which is what the column stores."""
    if not embeddings:
        return []
    matrix = np.asarray(embeddings, dtype=np.float32)
    pattern = "[" + ",".join(["%.9g"] * matrix.shape[1]) + "]"
    return [pattern % tuple(row) for row in matrix.tolist()]


def _cached_row_matches(filters: Filters, fields: tuple[Any, ...]) -> bool:
    # fields are in _CACHED_FIELDS order; expires_at compares as fixed-width text.
    if (
        filters.alive_at is not None
        and fields[9] is not None
        and fields[9] <= to_text(filters.alive_at)
    ):
        return False
    return not filters.conditions or stored_row_matches(filters, fields[8], fields[6], fields[7])


class KuzuVectorStore(KuzuMem0Lookup, LiveVectors, KuzuFileStore):
    name = "Kuzu vector store"

    def blank_twin(self, path: Path) -> KuzuVectorStore:
        db = self._db
        # The twin is only written and counted: no search cache.
        return KuzuVectorStore(path, db.engine, db.batch_plan, db.buffer_pool_mb, 0)

    def swap_in(self, replacement: Path) -> None:
        with self._db.lock:
            self._cache.clear()
            super().swap_in(replacement)

    def __init__(
        self,
        path: Path,
        engine: str = DEFAULT_ENGINE,
        batch_plan: str = "auto",
        buffer_pool_mb: int | None = None,
        search_cache_mb: int = 256,
    ) -> None:
        self._cache = SearchCache(search_cache_mb * 2**20)
        super().__init__(path, engine, batch_plan, buffer_pool_mb)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Holds the database lock across a write and its cache update, so no search
        sees one without the other; a write that fails leaves no cache to doubt."""
        with self._db.lock:
            try:
                yield
            except BaseException:
                self._cache.clear()
                raise

    def _prepare(self) -> None:
        self._db.rows(_META)
        # Filters run inside the query (before ORDER BY … LIMIT) as a function of
        # the row's metadata and timestamps; Kuzu has no JSON functions offline.
        self._db.create_function(FILTER_FUNCTION, matches_row, ["STRING"] * 4, "BOOL")
        rows = self._db.rows("MATCH (x:VMeta {key: 'dimension'}) RETURN x.value")
        # The vector column is a fixed-size array, so its table is created on the
        # first write, when the dimension is known.
        self._dimension: int | None = int(rows[0][0]) if rows else None
        if self._dimension is not None:
            self._add_expiry_column()

    def _add_expiry_column(self) -> None:
        """A Vec table made before expiry existed gets its (NULL: never) column."""
        columns = {row[1] for row in self._db.rows("CALL table_info('Vec') RETURN *")}
        if "expires_at" not in columns:
            self._db.rows("ALTER TABLE Vec ADD expires_at STRING")

    def _create_tables(self, dimension: int) -> None:
        with self._db.transaction():
            self._db.rows(
                "CREATE NODE TABLE IF NOT EXISTS Vec(id STRING PRIMARY KEY, user_id STRING,"
                " agent_id STRING, run_id STRING, text STRING, hash STRING, metadata STRING,"
                f" created_at STRING, updated_at STRING, embedding FLOAT[{int(dimension)}],"
                # Fixed-width UTC text (sorts as time); NULL: never expires.
                " expires_at STRING)"
            )
            self._db.rows("CREATE NODE TABLE IF NOT EXISTS VScope(key STRING PRIMARY KEY)")
            self._db.rows("CREATE REL TABLE IF NOT EXISTS VIN_SCOPE(FROM Vec TO VScope)")
            self._db.rows(
                "MERGE (x:VMeta {key: 'dimension'}) SET x.value = $d", {"d": str(dimension)}
            )
        self._dimension = dimension

    @property
    def _array(self) -> str:
        # An int we stored ourselves, never a caller's value.
        return f"FLOAT[{int(self._dimension or 0)}]"

    def _check_dimension(self, embedding: Sequence[float]) -> None:
        if self._dimension is not None and len(embedding) != self._dimension:
            raise DimensionMismatchError(
                f"embedding has {len(embedding)} dimensions; this store holds {self._dimension}"
            )

    # -- writes -----------------------------------------------------------------

    def upsert(self, records: Sequence[VectorRecord], *, fresh: bool = False) -> None:
        if not records:
            return
        if self._dimension is None:
            self._create_tables(len(records[0].embedding))
        for record in records:
            self._check_dimension(record.embedding)
        # The last record of an id wins; the batch statements join rows in no set order.
        records = list({r.id: r for r in records}.values())
        literals = array_literals([r.embedding for r in records])
        rows = [
            {
                "id": r.id,
                "user_id": r.user_id,
                "agent_id": r.agent_id,
                "run_id": r.run_id,
                "text": r.text,
                "hash": r.hash,
                "metadata": json.dumps(r.metadata),
                "created_at": to_text(r.created_at),
                "updated_at": to_text(r.updated_at),
                "expires_at": to_text(r.expires_at) if r.expires_at is not None else None,
                "embedding": literal,
            }
            for r, literal in zip(records, literals, strict=True)
        ]
        links = [
            {"id": r.id, "key": key}
            for r in records
            for key in (*scope_keys(r.scope), *lookup_keys(r.metadata))
        ]
        db = self._db
        with self._writing():
            if len(rows) == 1 and self._create_one(rows[0], [link["key"] for link in links], fresh):
                new = 1
            else:
                new = self._write_batch(rows, links)
            self._cache.written(
                [
                    (r.scope, tuple(row[f] for f in _CACHED_FIELDS), r.embedding)
                    for r, row in zip(records, rows, strict=True)
                ]
            )
        db.adjust("Vec", new)
        db.adjust("VScope", len({link["key"] for link in links}))

    def _write_batch(self, rows: list[dict[str, Any]], links: list[dict[str, str]]) -> int:
        """Merges the records and their scope links; the number that were new.
        Not COPY / UNWIND … CREATE for the records: on 0.11.3 a multi-row insert
        into a Vec table that had rows deleted stored some new rows with a deleted
        row's embedding (seen in test_kuzu_search_cache); the MERGE path does not.
        A new record's scope links cannot exist yet and are CREATEd (see
        ``create_edges``)."""
        db = self._db
        ids = [row["id"] for row in rows]
        new = set(ids) - db.existing("Vec", "id", ids)
        with db.transaction():
            db.each(f"MERGE (v:Vec {{id: x.id}}) {self._set_fields}", rows, "Vec")
            db.each("MERGE (s:VScope {key: x.key})", links, "VScope")
            db.create_edges(
                "VIN_SCOPE",
                ("Vec", "id", "id"),
                ("VScope", "key", "key"),
                [x for x in links if x["id"] in new],
            )
            db.each(
                "MATCH (v:Vec {id: x.id}), (s:VScope {key: x.key}) MERGE (v)-[:VIN_SCOPE]->(s)",
                [x for x in links if x["id"] not in new],
                "Vec",
            )
        return len(new)

    @property
    def _set_fields(self) -> str:
        # The embedding arrives as an array literal: see ``array_literals``.
        return (
            "SET v.user_id = x.user_id, v.agent_id = x.agent_id, v.run_id = x.run_id,"
            " v.text = x.text, v.hash = x.hash, v.metadata = x.metadata,"
            " v.created_at = x.created_at, v.updated_at = x.updated_at,"
            " v.expires_at = x.expires_at,"
            f" v.embedding = CAST(x.embedding AS {self._array})"
        )

    def _create_one(self, row: dict[str, Any], keys: list[str], fresh: bool) -> bool:
        """A new record and its scope links in one write statement, after one read of
        what exists; False (nothing written) when the record is there already. CREATE,
        because Kuzu checks a MERGEd edge by reading its scope node's adjacency, and
        one statement commits without BEGIN / COMMIT round trips. A ``fresh`` id is
        not looked for: it was just generated."""
        params = {**row, **{f"k{i}": key for i, key in enumerate(keys)}}
        probe = " ".join(
            ([] if fresh else ["OPTIONAL MATCH (v:Vec {id: $id})"])
            + [f"OPTIONAL MATCH (s{i}:VScope {{key: $k{i}}})" for i in range(len(keys))]
        )
        fields = ", ".join(
            f"{f} IS NOT NULL"
            for f in ([] if fresh else ["v.id"]) + [f"s{i}.key" for i in range(len(keys))]
        )
        db = self._db
        with db.lock:
            # The lock keeps the probe true until the write: only this connection writes.
            query = f"{probe} RETURN {fields}"
            found = [[False, *row] if fresh else row for row in db.rows(query, used(query, params))]
            if len(found) != 1 or found[0][0]:
                return False
            matched: list[str] = []
            created = [
                "(v:Vec {id: $id, user_id: $user_id, agent_id: $agent_id, run_id: $run_id,"
                " text: $text, hash: $hash, metadata: $metadata, created_at: $created_at,"
                " updated_at: $updated_at, expires_at: $expires_at,"
                f" embedding: CAST($embedding AS {self._array})}})"
            ]
            for i, exists in enumerate(found[0][1:]):
                (matched if exists else created).append(f"(s{i}:VScope {{key: $k{i}}})")
                created.append(f"(v)-[:VIN_SCOPE]->(s{i})")
            match = f"MATCH {', '.join(matched)} " if matched else ""
            query = f"{match}CREATE {', '.join(created)} RETURN v.id"
            return bool(db.rows(query, used(query, params)))

    def _delete_ids(self, ids: list[str]) -> int:
        rows = [{"id": i} for i in dict.fromkeys(ids)]
        db = self._db
        keys = sorted(
            {
                row[0]
                for row in db.each(
                    "MATCH (v:Vec {id: x.id})-[:VIN_SCOPE]->(s:VScope) RETURN s.key", rows, "Vec"
                )
            }
        )
        count = db.each_count(
            "MATCH (v:Vec {id: x.id}) DETACH DELETE v RETURN count(*)", rows, "Vec"
        )
        # Scope nodes are keyed by the ids themselves: erase the empty ones too.
        emptied = db.each_count(
            "MATCH (s:VScope {key: x.key}) DETACH DELETE s RETURN count(*)",
            [{"key": k} for k in db.unused(_SCOPE_IN_USE, keys)],
            "VScope",
        )
        db.adjust("Vec", -count)
        db.adjust("VScope", -emptied)
        self._cache.deleted(ids, keys)
        return count

    def delete(self, ids: Sequence[str]) -> int:
        if not ids or self._dimension is None:
            return 0
        with self._writing(), self._db.transaction():
            return self._delete_ids(list(ids))

    def drop_scope(self, scope: Scope) -> list[str] | None:
        """None: one Vec table holds every scope."""
        return None

    def delete_scope(self, scope: Scope, batch_size: int) -> int:
        if self._dimension is None:
            return 0
        clause, params = scope_match(scope, "v", "Vec", "VScope", "VIN_SCOPE")
        total = 0
        while True:
            with self._writing(), self._db.transaction():
                ids = [
                    row[0]
                    for row in self._db.rows(
                        f"{clause} RETURN v.id LIMIT $n", {**params, "n": batch_size}
                    )
                ]
                if not ids:
                    return total
                total += self._delete_ids(ids)

    # -- reads ------------------------------------------------------------------

    def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        if not ids or self._dimension is None:
            return []
        rows = self._db.each(
            f"MATCH (v:Vec {{id: x.id}}) RETURN {_FIELDS}", [{"id": i} for i in ids], "Vec"
        )
        return decode_rows(self.name, rows, _record, _row_id)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        if not ids or self._dimension is None:
            return set()
        rows = self._db.each(
            "MATCH (v:Vec {id: x.id}) RETURN v.id", [{"id": i} for i in ids], "Vec"
        )
        return {row[0] for row in rows}

    def count_scope(self, scope: Scope) -> int:
        if self._dimension is None:
            return 0
        clause, params = scope_match(scope, "v", "Vec", "VScope", "VIN_SCOPE")
        return self._db.scalar(f"{clause} RETURN count(v)", params)

    def _filtered(self, scope: Scope, filters: Filters | None) -> tuple[str, dict[str, object]]:
        clause, params = scope_match(scope, "v", "Vec", "VScope", "VIN_SCOPE")
        return with_filters(clause, params, filters)

    def list_scope(
        self,
        scope: Scope,
        limit: int | None,
        *,
        filters: Filters | None = None,
        offset: int = 0,
    ) -> list[VectorRecord]:
        if self._dimension is None:
            return []
        clause, bound = self._filtered(scope, filters)
        # SKIP costs no more than the ORDER BY, which reads the whole (filtered)
        # scope for any page anyway.
        query = f"{clause} RETURN {_FIELDS} ORDER BY v.created_at DESC, v.id SKIP $offset"
        bound["offset"] = offset
        if limit is not None:
            query += " LIMIT $limit"
            bound["limit"] = limit
        return decode_rows(self.name, self._db.rows(query, bound), _record, _row_id)

    def list_scope_metadata(
        self, scope: Scope, limit: int | None, *, offset: int = 0
    ) -> list[MetadataRow]:
        """``list_scope`` without filters, as (id, metadata, created_at): no vector."""
        if self._dimension is None:
            return []
        return list_metadata(self._db, self.name, self._filtered(scope, None), limit, offset)

    def search(
        self,
        embedding: Sequence[float],
        scope: Scope,
        limit: int,
        *,
        filters: Filters | None = None,
    ) -> list[tuple[VectorRecord, float]]:
        if self._dimension is None:
            return []
        self._check_dimension(embedding)
        if self._cache.enabled:
            with self._db.lock:
                hits = self._search_cached(embedding, scope, limit, filters)
            if hits is not None:
                return hits
        clause, bound = self._filtered(scope, filters)
        rows = self._db.rows(
            f"{clause} WITH v, array_cosine_similarity(v.embedding, CAST($q AS {self._array}))"
            f" AS score RETURN {_FIELDS}, score ORDER BY score DESC, v.id LIMIT $limit",
            {**bound, "q": list(embedding), "limit": limit},
        )
        return decode_rows(self.name, rows, _scored, _row_id)

    def _search_cached(
        self, embedding: Sequence[float], scope: Scope, limit: int, filters: Filters | None
    ) -> list[tuple[VectorRecord, float]] | None:
        """The search from the scope's cached rows, read from Kuzu on first use;
        None when the scope is too large for the cache (the query ranks it then)."""
        entry = self._cache.get(scope)
        if entry is None:
            dimension, size = int(self._dimension or 0), self.count_scope(scope)
            if not self._cache.fits(size, dimension):
                return None
            clause, params = scope_match(scope, "v", "Vec", "VScope", "VIN_SCOPE")
            entry = ScopeRows(dimension, capacity=size)
            for row in self._db.rows(f"{clause} RETURN {_FIELDS}", params):
                entry.put((row[0], *row[2:]), np.asarray(row[1], dtype=np.float32))
            self._cache.keep(scope, entry)
        query = np.asarray(embedding, dtype=np.float32)
        # Rows are checked one by one only when there is something to check.
        checked = filters is not None and (
            bool(filters.conditions) or (filters.alive_at is not None and bool(entry.expiring))
        )
        keep = functools.partial(_cached_row_matches, filters) if filters and checked else None
        return decode_rows(
            self.name,
            entry.best(query, limit, keep),
            lambda hit: (_record((hit[0][0], hit[1], *hit[0][1:])), hit[2]),
            lambda hit: hit[0][0],
        )

    # -- whole-store scans --------------------------------------------------------

    def iter_ids(self, batch_size: int) -> Iterator[list[str]]:
        if self._dimension is None:
            return iter(())
        return self._db.iter_ids("Vec", batch_size)

    def count(self) -> int:
        if self._dimension is None:
            return 0
        return self._db.scalar("MATCH (v:Vec) RETURN count(v)")

    def close(self) -> None:
        self._cache.clear()
        super().close()

    def reset(self) -> None:
        self._cache.clear()
        if self._dimension is None:
            return
        with self._writing(), self._db.transaction():
            self._db.rows("DROP TABLE VIN_SCOPE")
            self._db.rows("DROP TABLE VScope")
            self._db.rows("DROP TABLE Vec")
            self._db.rows("MATCH (x:VMeta {key: 'dimension'}) DELETE x")
        self._dimension = None
        self._db.forget_estimates()
