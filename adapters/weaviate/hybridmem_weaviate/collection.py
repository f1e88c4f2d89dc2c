"""WeaviateCollection: the connection to Weaviate and the collection a vector store
keeps its objects in (created, checked, extended), with the error translation
every call goes through."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
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
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.collections import Collection

from hybridmem.errors import (
    ConfigurationError,
    DimensionMismatchError,
    StoreError,
    StoreUnavailableError,
)
from hybridmem_weaviate._filters import UPDATED_KEY
from hybridmem_weaviate.calls import (
    DEFAULT_PAGE,
    MAX_RESULTS,
    PageTooLarge,
    looks_unreachable,
    short,
)
from hybridmem_weaviate.inserts import (
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_INSERT_BATCH,
    DEFAULT_INSERT_CONCURRENCY,
    DEFAULT_MAX_CONNECTIONS,
    Inserts,
)
from hybridmem_weaviate.schema import EXPIRES, EXPIRES_PROPERTY, KEY, SCHEMA

T = TypeVar("T")


class WeaviateCollection:
    """One Weaviate collection (class), created on first use, and the client that
    reaches it. The vector store (vector.py) builds on it."""

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
        ef_construction: int = DEFAULT_EF_CONSTRUCTION,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        ef: int = -1,
        insert_batch: int = DEFAULT_INSERT_BATCH,
        insert_concurrency: int = DEFAULT_INSERT_CONCURRENCY,
    ) -> None:
        self.address = f"http://{host}:{http_port} (grpc {grpc_port})"
        self._collection_name = collection
        self._replication_factor = replication_factor
        #: Shards of the collection (read from its config); erasures need them all.
        self._shards = 1
        self._consistency = ConsistencyLevel(consistency_level)
        self._page = page_size
        self._ef_construction = ef_construction
        self._max_connections = max_connections
        self._ef = ef
        self._inserts = Inserts(insert_batch, insert_concurrency)
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
            raise StoreUnavailableError(self.name, self.address, short(exc)) from None
        except weaviate_errors.WeaviateBaseError as exc:
            text = short(exc)
            maximum = MAX_RESULTS.search(text)
            if "query maximum results exceeded" in text and maximum:
                raise PageTooLarge(int(maximum.group(1))) from None
            if looks_unreachable(text):
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
                raise StoreUnavailableError(self.name, self.address, short(exc)) from None
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
            except PageTooLarge as exc:
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
                    distance_metric=VectorDistances.COSINE,
                    ef_construction=self._ef_construction,
                    max_connections=self._max_connections,
                    ef=self._ef,
                )
            ),
            properties=SCHEMA,
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
        for key in KEY.values():
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
        if EXPIRES not in properties:
            # A collection made before expiry existed: its objects have no expiry.
            self._add_properties([EXPIRES_PROPERTY])
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

    def drop(self) -> None:
        """Remove the collection itself (used by reset, and by tests to clean up)."""
        assert self._client is not None
        client = self._client
        self._call(lambda: client.collections.delete(self._collection_name))

    def close(self) -> None:
        self._inserts.close()
        if self._client is not None:
            self._client.close()
            self._client = None
