"""WeaviateVectorStore: the vector port on Weaviate 1.x through weaviate-client v4."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter, MetadataQuery, Sort

from hybridmem.errors import DimensionMismatchError, StoreError
from hybridmem.filters import Filters
from hybridmem.models import Scope
from hybridmem.records import VectorRecord, decode_rows
from hybridmem_weaviate import schema
from hybridmem_weaviate._filters import (
    Never,
    metadata_properties,
    property_for,
    referenced,
    translate,
)
from hybridmem_weaviate.calls import DEFAULT_PAGE, batched, chunks
from hybridmem_weaviate.collection import WeaviateCollection
from hybridmem_weaviate.mem0_lookup import WeaviateMem0Lookup
from hybridmem_weaviate.schema import (
    RECORD_PROPERTIES,
    alive_filter,
    object_id,
    object_properties,
    record_from,
    scope_key,
    scored,
)

__all__ = ["WeaviateVectorStore", "scope_key"]


class WeaviateVectorStore(WeaviateMem0Lookup, WeaviateCollection):
    """Vectors in one Weaviate collection (class), created on first use.

    Writes and deletes run at ``consistency_level`` (ALL by default: an erasure
    is acknowledged by every replica), and the collection's replication deletion
    strategy is DeleteOnConflict, so a replica that missed a delete cannot bring
    the object back.

    The collection is the store: two configurations naming one collection are one
    store (each sees, erases and resets the other's records), and a collection
    without hybridmem's exact-match scope keys is refused, never written to.
    """

    def _where(self, scope: Scope, filters: Filters | None) -> Any:
        """Scope and filters as one Weaviate filter; raises Never when nothing matches."""
        where = schema.scope_filter(scope)
        if filters is None:
            return where
        if filters.alive_at is not None:
            where = where & alive_filter(filters.alive_at)
        if not filters.conditions:
            return where
        if referenced(filters) - self._properties:
            # Another process may have added it since: look before concluding.
            self._call(self._read_layout)
        extra = translate(filters, self._properties)
        return where if extra is None else where & extra

    # -- writes ---------------------------------------------------------------------

    def upsert(self, records: Sequence[VectorRecord], *, fresh: bool = False) -> None:
        if records:
            self._insert(self._objects(records), None)

    def _objects(self, records: Sequence[VectorRecord]) -> list[DataObject[Any, Any]]:
        """The records as Weaviate objects, creating the metadata properties they need."""
        dims = {len(r.embedding) for r in records}
        if len(dims) > 1:
            raise DimensionMismatchError(f"embeddings of different lengths in one batch: {dims}")
        wanted = {name for r in records for name in metadata_properties(r.metadata)}
        self._add_properties([property_for(n) for n in sorted(wanted - self._properties)])
        return [
            DataObject(properties=object_properties(r), uuid=r.id, vector=list(r.embedding))
            for r in records
        ]

    def _insert(self, objects: Sequence[DataObject[Any, Any]], tenant: str | None) -> None:
        """Every object written, or an error: requests of ``insert_batch`` objects,
        ``insert_concurrency`` at once (inserts.py)."""

        def send(part: list[DataObject[Any, Any]]) -> None:
            result = self._call(lambda: self._handle(tenant).data.insert_many(part))
            if result.errors:
                # A partial batch is a failure: never report it as success. The
                # caller (the coordinator) removes what did get written.
                first = next(iter(result.errors.values()))
                text = getattr(first, "message", str(first))
                if "vector dimensions do not match" in text:
                    raise DimensionMismatchError(f"{self.name}: {text}")
                raise StoreError(
                    self.name,
                    self.address,
                    f"{len(result.errors)} of {len(part)} objects failed: {text}",
                )

        self._inserts.run(objects, send)

    def _delete_where(
        self, where: Any, tenant: str | None = None, name: str | None = None
    ) -> tuple[int, int]:
        """One delete_many: (deleted, matched). Weaviate deletes at most
        QUERY_MAXIMUM_RESULTS objects per call, so deleted may be below matched."""
        result = self._call(
            lambda: self._handle(tenant, erasing=True, name=name).data.delete_many(where=where)
        )
        if result.failed:
            raise StoreError(
                self.name, self.address, f"{result.failed} of {result.matches} deletions failed"
            )
        return int(result.successful), int(result.matches)

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        self._require_every_replica()
        total = self._delete_ids(ids, None)
        # A replica that left during the delete may have missed it: report the
        # erasure as unfinished so it stays pending.
        self._require_every_replica()
        return total

    def _delete_ids(self, ids: Sequence[str], tenant: str | None, name: str | None = None) -> int:
        total = 0
        for chunk in chunks(ids, DEFAULT_PAGE):
            where = Filter.by_id().contains_any(chunk)
            while True:
                deleted, matched = self._delete_where(where, tenant, name)
                total += deleted
                if deleted == 0 or deleted >= matched:
                    break
        return total

    def delete_scope(self, scope: Scope, batch_size: int) -> int:
        # One delete_many removes at most QUERY_MAXIMUM_RESULTS objects: repeat
        # until nothing matches.
        self._require_every_replica()
        total = 0
        while True:
            deleted, matched = self._delete_where(schema.scope_filter(scope))
            total += deleted
            if deleted == 0 or deleted >= matched:
                self._require_every_replica()
                return total

    def drop_scope(self, scope: Scope) -> list[str] | None:
        """None: without tenants, a scope is erased record by record."""
        return None

    # -- reads ----------------------------------------------------------------------

    def _by_ids(
        self,
        ids: Sequence[str],
        *,
        with_data: bool,
        tenant: str | None = None,
        name: str | None = None,
        properties: list[str] | None = None,
    ) -> list[Any]:
        found: list[Any] = []
        unique = list(dict.fromkeys(ids))
        start = 0
        while start < len(unique):

            def fetch(page: int, start: int = start) -> tuple[int, list[Any]]:
                chunk = unique[start : start + page]
                response = self._handle(tenant, name=name).query.fetch_objects(
                    filters=Filter.by_id().contains_any(chunk),
                    limit=len(chunk),
                    include_vector=with_data,
                    return_properties=RECORD_PROPERTIES if with_data else (properties or []),
                )
                return len(chunk), list(response.objects)

            taken, objects = self._paged(fetch)
            found.extend(objects)
            start += taken
        return found

    def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        if not ids:
            return []
        return decode_rows(self.name, self._by_ids(ids, with_data=True), record_from, object_id)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {str(o.uuid) for o in self._by_ids(ids, with_data=False)} if ids else set()

    def count_scope(self, scope: Scope) -> int:
        return self._count(schema.scope_filter(scope), None)

    def _count(self, where: Any, tenant: str | None) -> int:
        result = self._call(
            lambda: self._handle(tenant).aggregate.over_all(filters=where, total_count=True)
        )
        return int(result.total_count or 0)

    def list_scope(
        self,
        scope: Scope,
        limit: int | None,
        *,
        filters: Filters | None = None,
        offset: int = 0,
    ) -> list[VectorRecord]:
        """Newest first, paged by (created_at, id): one query may return at most
        QUERY_MAXIMUM_RESULTS objects, and a scope may hold more. An offset is
        walked through by the same keyset paging (Weaviate refuses offsets past
        QUERY_MAXIMUM_RESULTS), so its cost follows the offset."""
        try:
            base = self._where(scope, filters)
        except Never:
            return []
        wanted = None if limit is None else offset + limit
        return self._list_in_scope(scope, base, wanted)[offset:]

    def _list_in_scope(self, scope: Scope, base: Any, limit: int | None) -> list[VectorRecord]:
        """The first ``limit`` records of ``scope`` passing ``base``, newest first."""
        return self._list(base, limit)

    def _list(self, base: Any, limit: int | None, tenant: str | None = None) -> list[VectorRecord]:
        out: list[VectorRecord] = []
        cursor: datetime | None = None
        seen_at_cursor: list[str] = []
        while limit is None or len(out) < limit:
            where = base
            if cursor is not None:
                where = where & Filter.by_property("created_at").less_or_equal(cursor)
                if seen_at_cursor:
                    where = where & Filter.by_id().contains_none(seen_at_cursor)

            def fetch(page: int, where: Any = where) -> tuple[int, list[Any]]:
                want = page if limit is None else min(page, limit - len(out))
                response = self._handle(tenant).query.fetch_objects(
                    filters=where,
                    limit=want,
                    sort=Sort.by_property("created_at", ascending=False),
                    include_vector=True,
                    return_properties=RECORD_PROPERTIES,
                )
                return want, list(response.objects)

            wanted, objects = self._paged(fetch)
            out.extend(decode_rows(self.name, objects, record_from, object_id))
            if len(objects) < wanted:
                break
            # The cursor follows the objects as stored, so that one left out as
            # unreadable neither ends the paging nor repeats a page.
            last = objects[-1].properties.get("created_at")
            if last != cursor:
                cursor, seen_at_cursor = last, []
            seen_at_cursor.extend(
                str(o.uuid) for o in objects if o.properties.get("created_at") == last
            )
        return out

    def search(
        self,
        embedding: Sequence[float],
        scope: Scope,
        limit: int,
        *,
        filters: Filters | None = None,
    ) -> list[tuple[VectorRecord, float]]:
        try:
            where = self._where(scope, filters)
        except Never:
            return []
        return self._near_in_scope(embedding, scope, where, limit)

    def _near_in_scope(
        self, embedding: Sequence[float], scope: Scope, where: Any, limit: int
    ) -> list[tuple[VectorRecord, float]]:
        """The ``limit`` records of ``scope`` passing ``where`` nearest ``embedding``."""
        return self._near(embedding, where, limit, None)

    def _near(
        self, embedding: Sequence[float], where: Any, limit: int, tenant: str | None
    ) -> list[tuple[VectorRecord, float]]:
        # Weaviate applies the filter before the HNSW search (an allow-list), so
        # the limit counts matching records only.
        found = self._call(
            lambda: self._handle(tenant).query.near_vector(
                near_vector=list(embedding),
                limit=limit,
                filters=where,
                return_metadata=MetadataQuery(distance=True),
                include_vector=True,
                return_properties=RECORD_PROPERTIES,
            )
        )
        # Cosine distance is 1 - similarity.
        return decode_rows(self.name, found.objects, scored, object_id)

    # -- whole-store scans -----------------------------------------------------------

    def iter_ids(self, batch_size: int) -> Iterator[list[str]]:
        yield from batched(self._pages_of_ids(None), batch_size)

    def _pages_of_ids(self, tenant: str | None) -> Iterator[list[str]]:
        # The cursor API (``after``) walks the whole collection in id order.
        after: str | None = None
        while True:

            def fetch(page: int, after: str | None = after) -> list[Any]:
                response = self._handle(tenant).query.fetch_objects(
                    after=after, limit=page, return_properties=[]
                )
                return list(response.objects)

            objects = self._paged(fetch)
            if not objects:
                return
            yield [str(o.uuid) for o in objects]
            after = str(objects[-1].uuid)

    def count(self) -> int:
        return self._count(None, None)

    def reset(self) -> None:
        self.drop()
        self._ensure_collection()
