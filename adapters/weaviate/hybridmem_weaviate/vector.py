"""WeaviateVectorStore: the vector port on Weaviate 1.x through weaviate-client v4."""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import weaviate
from weaviate import exceptions as weaviate_errors
from weaviate.classes.config import (
    Configure,
    ConsistencyLevel,
    DataType,
    Property,
    Reconfigure,
    ReplicationDeletionStrategy,
    Tokenization,
    VectorDistances,
)
from weaviate.classes.data import DataObject
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.classes.query import Filter, MetadataQuery, Sort
from weaviate.collections import Collection

from hybridmem.errors import (
    ConfigurationError,
    DimensionMismatchError,
    StoreError,
    StoreUnavailableError,
)
from hybridmem.filters import Filters
from hybridmem.models import Scope
from hybridmem.records import VectorRecord, decode_rows
from hybridmem_weaviate._filters import (
    UPDATED_KEY,
    Never,
    metadata_properties,
    property_for,
    referenced,
    translate,
)

T = TypeVar("T")

#: Ids per delete/fetch call; lowered at run time to the server's QUERY_MAXIMUM_RESULTS.
DEFAULT_PAGE = 1000

# Weaviate tokenizes text by word and lower-cases it by default: a filter on
# user_id = "alice" would also match "Alice", "alice smith", "alice@example.com".
# FIELD tokenization keeps case and punctuation but still trims surrounding white
# space (" alice" matched "alice" here), so filters compare a hex encoding of the
# id's UTF-8 bytes, which has nothing to trim, fold or split. The id itself is
# stored beside it, unindexed, to be read back as is.
_KEY = {"user_id": "user_key", "agent_id": "agent_key", "run_id": "run_key"}

_MAX_RESULTS = re.compile(r"QUERY_MAXIMUM_RESULTS '(\d+)'")


def scope_key(value: str) -> str:
    """The filterable form of a scope id: its UTF-8 bytes in hex, prefixed."""
    return "k" + value.encode("utf-8").hex()


def _key_property(name: str) -> Property:
    return Property(
        name=name,
        data_type=DataType.TEXT,
        tokenization=Tokenization.FIELD,
        index_filterable=True,
        index_searchable=False,
    )


def _stored_property(name: str, data_type: DataType = DataType.TEXT) -> Property:
    return Property(name=name, data_type=data_type, index_filterable=False, index_searchable=False)


_SCHEMA = [
    _stored_property("text"),
    _stored_property("hash"),
    _stored_property("metadata"),
    _stored_property("user_id"),
    _stored_property("agent_id"),
    _stored_property("run_id"),
    _key_property("user_key"),
    _key_property("agent_key"),
    _key_property("run_key"),
    # Filterable: list_scope pages through a scope newest first by created_at.
    Property(name="created_at", data_type=DataType.DATE, index_filterable=True),
    _stored_property("updated_at", DataType.DATE),
    # Filters on updated_at (the property above is stored, not indexed).
    Property(name=UPDATED_KEY, data_type=DataType.DATE, index_filterable=True),
]
# When a memory stops being visible; absent (not null) when it never expires.
_EXPIRES = "expires_at"
_EXPIRES_PROPERTY = Property(name=_EXPIRES, data_type=DataType.DATE, index_filterable=True)
_SCHEMA.append(_EXPIRES_PROPERTY)


def _alive_filter(at: datetime) -> Any:
    """Objects not expired at ``at``. "Not (expires_at <= at)" rather than
    "expires_at > at": an object without the property (it never expires, or was
    written before expiry existed) fails the comparison, so the negation keeps it."""
    return Filter.not_(Filter.by_property(_EXPIRES).less_or_equal(at))


def _scope_filter(scope: Scope) -> Any:
    filters = [
        Filter.by_property(_KEY[name]).equal(scope_key(value)) for name, value in scope.terms()
    ]
    return filters[0] if len(filters) == 1 else Filter.all_of(filters)


def _stamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value))


def _record(obj: Any) -> VectorRecord:
    p = obj.properties
    vector = obj.vector.get("default") if isinstance(obj.vector, dict) else obj.vector
    return VectorRecord(
        id=str(obj.uuid),
        embedding=[float(x) for x in (vector or [])],
        text=p.get("text") or "",
        hash=p.get("hash") or "",
        user_id=p.get("user_id"),
        agent_id=p.get("agent_id"),
        run_id=p.get("run_id"),
        created_at=_stamp(p.get("created_at")),
        updated_at=_stamp(p.get("updated_at")),
        metadata=json.loads(p.get("metadata") or "{}"),
        expires_at=_stamp(p[_EXPIRES]) if p.get(_EXPIRES) is not None else None,
    )


def object_id(obj: Any) -> object:
    return obj.uuid


def _scored(obj: Any) -> tuple[VectorRecord, float]:
    return _record(obj), 1.0 - float(obj.metadata.distance or 0.0)


def _chunks(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


class _PageTooLarge(Exception):
    def __init__(self, maximum: int) -> None:
        self.maximum = maximum


class WeaviateVectorStore:
    """Vectors in one Weaviate collection (class), created on first use.

    Writes and deletes run at ``consistency_level`` (ALL by default: an erasure
    is acknowledged by every replica), and the collection's replication deletion
    strategy is DeleteOnConflict, so a replica that missed a delete cannot bring
    the object back.

    The collection is the store: two configurations naming one collection are one
    store (each sees, erases and resets the other's records), and a collection
    without hybridmem's exact-match scope keys is refused, never written to.
    """

    name = "Weaviate vector store"
    #: One tenant per user_id (see tenancy.py); this class keeps one shared shard.
    multi_tenant = False

    def __init__(
        self,
        host: str,
        http_port: int,
        grpc_port: int,
        collection: str = "HybridMemory",
        *,
        api_key: str | None = None,
        consistency_level: str = "ALL",
        replication_factor: int = 1,
        timeout_seconds: float = 10.0,
        page_size: int = DEFAULT_PAGE,
    ) -> None:
        self.address = f"http://{host}:{http_port} (grpc {grpc_port})"
        self._collection_name = collection
        self._replication_factor = replication_factor
        #: Shards of the collection (read from its config); erasures need them all.
        self._shards = 1
        self._consistency = ConsistencyLevel(consistency_level)
        self._page = page_size
        self._page_lock = threading.Lock()
        self._client: weaviate.WeaviateClient | None = None
        # After an outage the gRPC channel keeps failing for its reconnect backoff
        # even once the server is back; a fresh client answers at once.
        self._reconnect = False
        self._client_lock = threading.Lock()

        def connect() -> weaviate.WeaviateClient:
            return weaviate.connect_to_custom(
                http_host=host,
                http_port=http_port,
                http_secure=False,
                grpc_host=host,
                grpc_port=grpc_port,
                grpc_secure=False,
                auth_credentials=Auth.api_key(api_key) if api_key else None,
                # Without this, weaviate-client asks the public package index for its
                # latest version on every connect: a request to the internet from a
                # library holding personal data, and a hang where there is no network.
                # (It also skips the gRPC health ping; a dead gRPC port shows on the
                # first query as StoreUnavailableError instead.)
                skip_init_checks=True,
                additional_config=AdditionalConfig(
                    timeout=Timeout(
                        init=timeout_seconds,
                        query=timeout_seconds * 3,
                        insert=timeout_seconds * 6,
                    )
                ),
            )

        self._connect = connect
        #: Property names the collection has (metadata filters need to know).
        self._properties: set[str] = set()
        self._schema_lock = threading.Lock()
        self._client = self._call(connect)
        try:
            self._ensure_collection()
        except BaseException:
            self.close()
            raise

    # -- plumbing -------------------------------------------------------------------

    def _call(self, action: Callable[[], T]) -> T:
        try:
            if self._reconnect:
                self._reopen()
            return action()
        except StoreUnavailableError:
            self._reconnect = True
            raise
        except (
            weaviate_errors.WeaviateConnectionError,
            weaviate_errors.WeaviateStartUpError,
            weaviate_errors.WeaviateClosedClientError,
            weaviate_errors.WeaviateTimeoutError,
        ) as exc:
            self._reconnect = True
            raise StoreUnavailableError(self.name, self.address, _short(exc)) from None
        except weaviate_errors.WeaviateBaseError as exc:
            text = _short(exc)
            maximum = _MAX_RESULTS.search(text)
            if "query maximum results exceeded" in text and maximum:
                raise _PageTooLarge(int(maximum.group(1))) from None
            if _looks_unreachable(text):
                self._reconnect = True
                raise StoreUnavailableError(self.name, self.address, text) from None
            if "vector dimensions do not match" in text or ("length" in text and "vector" in text):
                raise DimensionMismatchError(f"{self.name}: {text}") from None
            raise StoreError(self.name, self.address, text) from None
        except OSError as exc:
            self._reconnect = True
            raise StoreUnavailableError(self.name, self.address, str(exc)) from None

    def _reopen(self) -> None:
        with self._client_lock:
            if not self._reconnect:
                return
            try:
                fresh = self._connect()
            except weaviate_errors.WeaviateBaseError as exc:
                raise StoreUnavailableError(self.name, self.address, _short(exc)) from None
            old, self._client, self._reconnect = self._client, fresh, False
            if old is not None:
                old.close()

    def _paged(self, action: Callable[[int], T]) -> T:
        """Run ``action(page)``; when the server's QUERY_MAXIMUM_RESULTS is smaller
        than the page, learn it and retry with that page size."""
        while True:
            page = self._page
            try:
                return self._call(lambda page=page: action(page))  # type: ignore[misc]
            except _PageTooLarge as exc:
                with self._page_lock:
                    self._page = max(1, min(self._page, exc.maximum, page - 1))

    def _handle(
        self, tenant: str | None = None, *, erasing: bool = False, name: str | None = None
    ) -> Collection[Any, Any]:
        """The collection (``name``, this store's by default), in ``tenant`` when the
        collection is multi-tenant. Deletes always run at ALL, whatever level reads
        and writes use."""
        assert self._client is not None
        coll = self._client.collections.use(name or self._collection_name)
        if tenant is not None:
            coll = coll.with_tenant(tenant)
        return coll.with_consistency_level(ConsistencyLevel.ALL if erasing else self._consistency)

    @property
    def _coll(self) -> Collection[Any, Any]:
        return self._handle()

    def _require_every_replica(self) -> None:
        """Refuse to erase unless every shard has all its replicas in the cluster.

        Weaviate resolves ALL against the replicas that are cluster members right
        now: a replica that is stopped (or declared dead a few seconds after a
        crash) is left out, the delete is acknowledged by the others, and the
        missing replica serves the erased objects again when it returns (seen on
        1.36 with DeleteOnConflict and async replication off). So an erasure
        checks membership first, and fails with the operation left pending for
        recover() while a replica is away."""
        if self._replication_factor <= 1:
            return
        assert self._client is not None
        client = self._client
        nodes = self._call(
            lambda: client.cluster.nodes(collection=self._collection_name, output="verbose")
        )
        replicas: dict[str, list[str]] = {}
        for node in nodes:
            if node.status != "HEALTHY":
                continue
            for shard in node.shards or []:
                if shard.collection == self._collection_name:
                    replicas.setdefault(shard.name, []).append(node.name)
        short = {
            shard: sorted(names)
            for shard, names in replicas.items()
            if len(names) < self._replication_factor
        }
        if short or len(replicas) < self._shards:
            detail = "; ".join(f"shard {s} on {', '.join(n)}" for s, n in sorted(short.items()))
            detail = detail or f"{len(replicas)} of {self._shards} shards"
            raise StoreUnavailableError(
                self.name,
                self.address,
                f"an erasure needs all {self._replication_factor} replicas of every shard of"
                f" {self._collection_name!r}; live: {detail}",
            )

    def _ensure_collection(self) -> None:
        assert self._client is not None
        client = self._client

        def create() -> None:
            if client.collections.exists(self._collection_name):
                self._check_existing()
                return
            with warnings.catch_warnings():
                # async_enabled is deprecated for 1.38+, where it is on by default
                # for replicated collections; on 1.36 it still has to be asked for.
                warnings.simplefilter("ignore", DeprecationWarning)
                self._create(client)
            self._read_layout()

        self._call(create)

    def _create(self, client: weaviate.WeaviateClient) -> None:
        client.collections.create(
            self._collection_name,
            vector_config=Configure.Vectors.self_provided(
                vector_index_config=Configure.VectorIndex.hnsw(
                    distance_metric=VectorDistances.COSINE
                )
            ),
            properties=_SCHEMA,
            multi_tenancy_config=Configure.multi_tenancy(
                enabled=self.multi_tenant,
                auto_tenant_creation=self.multi_tenant,
                auto_tenant_activation=self.multi_tenant,
            ),
            replication_config=Configure.replication(
                factor=self._replication_factor,
                # A backstop for a replica lost during a delete: async
                # replication, with DeleteOnConflict, removes its stale copies.
                async_enabled=self._replication_factor > 1,
                deletion_strategy=ReplicationDeletionStrategy.DELETE_ON_CONFLICT,
            ),
        )

    def _check_existing(self) -> None:
        """A collection made elsewhere (by hand, or another tool) must still match
        scope ids exactly; refuse it rather than erase the wrong records."""
        config = self._read_layout()
        tenants = bool(config.multi_tenancy_config and config.multi_tenancy_config.enabled)
        if tenants != self.multi_tenant:
            made, asked = ("with", "without") if tenants else ("without", "with")
            raise ConfigurationError(
                f"{self.name} at {self.address}: collection {self._collection_name!r} was made"
                f" {made} multi-tenancy and the configuration asks for it {asked}; a collection"
                " cannot change. Use another collection name (hybridmem migrate copies a store)."
            )
        properties = {p.name: p for p in config.properties}
        for key in _KEY.values():
            prop = properties.get(key)
            if prop is None or prop.tokenization != Tokenization.FIELD or not prop.index_filterable:
                raise ConfigurationError(
                    f"{self.name} at {self.address}: collection {self._collection_name!r} exists"
                    f" but its property {key!r} is not a filterable FIELD-tokenized text; scope"
                    " filters on it would not be exact. Use another collection name."
                )
        if UPDATED_KEY not in properties:
            # A collection made before updated_at filters existed.
            self._add_properties(
                [Property(name=UPDATED_KEY, data_type=DataType.DATE, index_filterable=True)]
            )
        if _EXPIRES not in properties:
            # A collection made before expiry existed: its objects have no expiry.
            self._add_properties([_EXPIRES_PROPERTY])
        strategy = config.replication_config.deletion_strategy
        if strategy != ReplicationDeletionStrategy.DELETE_ON_CONFLICT:
            # Without it a replica that missed an erasure can resurrect the object.
            self._coll.config.update(
                replication_config=Reconfigure.replication(
                    deletion_strategy=ReplicationDeletionStrategy.DELETE_ON_CONFLICT
                )
            )

    def _read_layout(self) -> Any:
        """The collection's own replication factor and shard count win over the
        configured ones: they are what an erasure has to reach."""
        config = self._coll.config.get()
        self._properties = {p.name for p in config.properties}
        self._replication_factor = int(config.replication_config.factor)
        self._shards = int(config.sharding_config.actual_count) if config.sharding_config else 1
        return config

    def _add_properties(self, properties: list[Property]) -> None:
        """Create properties the collection lacks, before an object needs them:
        auto-schema would index a text by word and lose exact matching."""
        with self._schema_lock:
            for prop in properties:
                if prop.name in self._properties:
                    continue
                try:
                    self._call(lambda prop=prop: self._coll.config.add_property(prop))  # type: ignore[misc]
                except StoreError as exc:
                    if "already exists" not in str(exc):
                        raise
                self._properties.add(prop.name)

    def _where(self, scope: Scope, filters: Filters | None) -> Any:
        """Scope and filters as one Weaviate filter; raises Never when nothing matches."""
        where = _scope_filter(scope)
        if filters is None:
            return where
        if filters.alive_at is not None:
            where = where & _alive_filter(filters.alive_at)
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
        objects = []
        for r in records:
            properties: dict[str, Any] = {
                "text": r.text,
                "hash": r.hash,
                "metadata": json.dumps(r.metadata),
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                UPDATED_KEY: r.updated_at,
                **metadata_properties(r.metadata),
            }
            if r.expires_at is not None:
                properties[_EXPIRES] = r.expires_at
            for name, value in r.scope.terms():
                properties[name] = value
                properties[_KEY[name]] = scope_key(value)
            objects.append(DataObject(properties=properties, uuid=r.id, vector=list(r.embedding)))
        return objects

    def _insert(self, objects: Sequence[DataObject[Any, Any]], tenant: str | None) -> None:
        result = self._call(lambda: self._handle(tenant).data.insert_many(list(objects)))
        if result.errors:
            # A partial batch is a failure: never report it as success. The caller
            # (the coordinator) removes what did get written.
            first = next(iter(result.errors.values()))
            text = getattr(first, "message", str(first))
            if "vector dimensions do not match" in text:
                raise DimensionMismatchError(f"{self.name}: {text}")
            raise StoreError(
                self.name,
                self.address,
                f"{len(result.errors)} of {len(objects)} objects failed: {text}",
            )

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
        for chunk in _chunks(ids, DEFAULT_PAGE):
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
            deleted, matched = self._delete_where(_scope_filter(scope))
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
                    return_properties=None if with_data else (properties or []),
                )
                return len(chunk), list(response.objects)

            taken, objects = self._paged(fetch)
            found.extend(objects)
            start += taken
        return found

    def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        if not ids:
            return []
        return decode_rows(self.name, self._by_ids(ids, with_data=True), _record, object_id)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {str(o.uuid) for o in self._by_ids(ids, with_data=False)} if ids else set()

    def count_scope(self, scope: Scope) -> int:
        return self._count(_scope_filter(scope), None)

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
                )
                return want, list(response.objects)

            wanted, objects = self._paged(fetch)
            out.extend(decode_rows(self.name, objects, _record, object_id))
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
            )
        )
        # Cosine distance is 1 - similarity.
        return decode_rows(self.name, found.objects, _scored, object_id)

    # -- whole-store scans -----------------------------------------------------------

    def iter_ids(self, batch_size: int) -> Iterator[list[str]]:
        yield from _batched(self._pages_of_ids(None), batch_size)

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

    def drop(self) -> None:
        """Remove the collection itself (used by reset, and by tests to clean up)."""
        assert self._client is not None
        client = self._client
        self._call(lambda: client.collections.delete(self._collection_name))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _batched(pages: Iterator[list[str]], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for page in pages:
        batch.extend(page)
        while len(batch) >= size:
            yield batch[:size]
            batch = batch[size:]
    if batch:
        yield batch


def _short(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return " ".join(text.split())[:500]


def _looks_unreachable(text: str) -> bool:
    # gRPC reports a server killed mid-call in several wordings depending on
    # where the channel was ("[UNAVAILABLE] sendmsg: Broken pipe" was seen in CI);
    # all of them mean "try again later", never "your request is wrong".
    lowered = text.lower()
    return any(
        s in lowered
        for s in (
            "connection refused",
            "statuscode.unavailable",
            "failed to connect",
            "connect call failed",
            "deadline exceeded",
            "connection reset",
            "could not connect",
            "socket closed",
            "[unavailable]",
            "broken pipe",
        )
    )
