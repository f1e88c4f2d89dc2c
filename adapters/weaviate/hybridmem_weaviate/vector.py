"""WeaviateVectorStore: the vector port on Weaviate 1.x through weaviate-client v4."""

from __future__ import annotations

import json
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
    ReplicationDeletionStrategy,
    Tokenization,
    VectorDistances,
)
from weaviate.classes.data import DataObject
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.classes.query import Filter, MetadataQuery, Sort
from weaviate.collections import Collection

from hybridmem.errors import DimensionMismatchError, StoreError, StoreUnavailableError
from hybridmem.models import Scope
from hybridmem.records import VectorRecord

T = TypeVar("T")

_PROPERTIES = ["text", "hash", "metadata", "user_id", "agent_id", "run_id", "created_at",
               "updated_at"]
#: Weaviate answers one delete_many with at most QUERY_MAXIMUM_RESULTS matches.
_ID_CHUNK = 1000


# Weaviate tokenizes text by word and lower-cases it by default: a filter on
# user_id = "alice" would also match "Alice", "alice smith", "alice@example.com".
# FIELD tokenization still trims white space (" alice" matches "alice"; found by
# the isolation test). So filters compare a hex encoding of the id's UTF-8
# bytes, which has nothing to trim, fold or split; the id itself is kept as is.
_KEY = {"user_id": "user_key", "agent_id": "agent_key", "run_id": "run_key"}


def _key(value: str) -> str:
    return "k" + value.encode("utf-8").hex()


def _key_property(name: str) -> Property:
    return Property(name=name, data_type=DataType.TEXT, tokenization=Tokenization.FIELD,
                    index_filterable=True, index_searchable=False)


def _id_property(name: str) -> Property:
    return Property(name=name, data_type=DataType.TEXT, index_filterable=False,
                    index_searchable=False)


def _scope_filter(scope: Scope) -> Any:
    filters = [
        Filter.by_property(_KEY[name]).equal(_key(value)) for name, value in scope.parts().items()
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
    )


class WeaviateVectorStore:
    name = "Weaviate vector store"

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
    ) -> None:
        self.address = f"http://{host}:{http_port}"
        self._collection_name = collection
        self._replication_factor = replication_factor
        self._consistency = ConsistencyLevel(consistency_level)
        self._client: weaviate.WeaviateClient | None = None

        def connect() -> weaviate.WeaviateClient:
            return weaviate.connect_to_custom(
                http_host=host, http_port=http_port, http_secure=False,
                grpc_host=host, grpc_port=grpc_port, grpc_secure=False,
                auth_credentials=Auth.api_key(api_key) if api_key else None,
                additional_config=AdditionalConfig(
                    timeout=Timeout(init=timeout_seconds, query=timeout_seconds * 3,
                                    insert=timeout_seconds * 6)
                ),
            )

        self._client = self._call(connect)
        self._ensure_collection()

    # -- plumbing -------------------------------------------------------------------

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (weaviate_errors.WeaviateConnectionError, weaviate_errors.WeaviateStartUpError,
                weaviate_errors.WeaviateClosedClientError) as exc:
            raise StoreUnavailableError(self.name, self.address, _short(exc)) from None
        except weaviate_errors.WeaviateBaseError as exc:
            text = _short(exc)
            if _looks_unreachable(text):
                raise StoreUnavailableError(self.name, self.address, text) from None
            if "length" in text and "vector" in text:
                raise DimensionMismatchError(f"{self.name}: {text}") from None
            raise StoreError(self.name, self.address, text) from None
        except OSError as exc:
            raise StoreUnavailableError(self.name, self.address, str(exc)) from None

    @property
    def _coll(self) -> Collection[Any, Any]:
        assert self._client is not None
        return self._client.collections.use(self._collection_name).with_consistency_level(
            self._consistency
        )

    def _ensure_collection(self) -> None:
        assert self._client is not None
        client = self._client

        def create() -> None:
            if client.collections.exists(self._collection_name):
                return
            client.collections.create(
                self._collection_name,
                vector_config=Configure.Vectors.self_provided(
                    vector_index_config=Configure.VectorIndex.hnsw(
                        distance_metric=VectorDistances.COSINE
                    )
                ),
                properties=[
                    Property(name="text", data_type=DataType.TEXT, index_filterable=False,
                             index_searchable=False),
                    Property(name="hash", data_type=DataType.TEXT, index_searchable=False),
                    Property(name="metadata", data_type=DataType.TEXT, index_filterable=False,
                             index_searchable=False),
                    _id_property("user_id"),
                    _id_property("agent_id"),
                    _id_property("run_id"),
                    _key_property("user_key"),
                    _key_property("agent_key"),
                    _key_property("run_key"),
                    Property(name="created_at", data_type=DataType.DATE),
                    Property(name="updated_at", data_type=DataType.DATE),
                ],
                # Set explicitly: a delete must win over a replica that missed it,
                # so an erased object can never come back.
                replication_config=Configure.replication(
                    factor=self._replication_factor,
                    deletion_strategy=ReplicationDeletionStrategy.DELETE_ON_CONFLICT,
                ),
            )

        self._call(create)

    # -- writes ---------------------------------------------------------------------

    def upsert(self, records: Sequence[VectorRecord]) -> None:
        if not records:
            return
        dims = {len(r.embedding) for r in records}
        if len(dims) > 1:
            raise DimensionMismatchError(f"embeddings of different lengths in one batch: {dims}")
        objects = []
        for r in records:
            properties: dict[str, Any] = {
                "text": r.text, "hash": r.hash, "metadata": json.dumps(r.metadata),
                "created_at": r.created_at, "updated_at": r.updated_at,
            }
            for name, value in r.scope.parts().items():
                properties[name] = value
                properties[_KEY[name]] = _key(value)
            objects.append(DataObject(properties=properties, uuid=r.id, vector=list(r.embedding)))
        result = self._call(lambda: self._coll.data.insert_many(objects))
        if result.errors:
            # A partial batch is a failure: never report it as success.
            first = next(iter(result.errors.values()))
            text = getattr(first, "message", str(first))
            if "length" in text and "vector" in text:
                raise DimensionMismatchError(f"{self.name}: {text}")
            raise StoreError(self.name, self.address,
                             f"{len(result.errors)} of {len(objects)} objects failed: {text}")

    def _delete_where(self, where: Any) -> int:
        result = self._call(lambda: self._coll.data.delete_many(where=where))
        if result.failed:
            raise StoreError(self.name, self.address,
                             f"{result.failed} of {result.matches} deletions failed")
        return int(result.successful)

    def delete(self, ids: Sequence[str]) -> int:
        unique = list(dict.fromkeys(ids))
        return sum(
            self._delete_where(Filter.by_id().contains_any(unique[i : i + _ID_CHUNK]))
            for i in range(0, len(unique), _ID_CHUNK)
        )

    def delete_scope(self, scope: Scope, batch_size: int) -> int:
        # One delete_many removes at most QUERY_MAXIMUM_RESULTS objects: repeat
        # until nothing matches.
        total = 0
        while True:
            deleted = self._delete_where(_scope_filter(scope))
            total += deleted
            if deleted == 0:
                return total

    # -- reads ----------------------------------------------------------------------

    def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        if not ids:
            return []
        out: list[VectorRecord] = []
        unique = list(dict.fromkeys(ids))
        for i in range(0, len(unique), _ID_CHUNK):
            chunk = unique[i : i + _ID_CHUNK]
            found = self._call(
                lambda chunk=chunk: self._coll.query.fetch_objects(  # type: ignore[misc]
                    filters=Filter.by_id().contains_any(chunk), limit=len(chunk),
                    include_vector=True,
                )
            )
            out.extend(_record(o) for o in found.objects)
        return out

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        out: set[str] = set()
        unique = list(dict.fromkeys(ids))
        for i in range(0, len(unique), _ID_CHUNK):
            chunk = unique[i : i + _ID_CHUNK]
            found = self._call(
                lambda chunk=chunk: self._coll.query.fetch_objects(  # type: ignore[misc]
                    filters=Filter.by_id().contains_any(chunk), limit=len(chunk),
                    return_properties=[],
                )
            )
            out.update(str(o.uuid) for o in found.objects)
        return out

    def count_scope(self, scope: Scope) -> int:
        result = self._call(
            lambda: self._coll.aggregate.over_all(filters=_scope_filter(scope), total_count=True)
        )
        return int(result.total_count or 0)

    def list_scope(self, scope: Scope, limit: int | None) -> list[VectorRecord]:
        found = self._call(
            lambda: self._coll.query.fetch_objects(
                filters=_scope_filter(scope),
                limit=limit or 10_000,
                sort=Sort.by_property("created_at", ascending=False),
                include_vector=True,
            )
        )
        return [_record(o) for o in found.objects]

    def search(
        self, embedding: Sequence[float], scope: Scope, limit: int
    ) -> list[tuple[VectorRecord, float]]:
        found = self._call(
            lambda: self._coll.query.near_vector(
                near_vector=list(embedding), limit=limit, filters=_scope_filter(scope),
                return_metadata=MetadataQuery(distance=True), include_vector=True,
            )
        )
        return [(_record(o), 1.0 - float(o.metadata.distance or 0.0)) for o in found.objects]

    # -- whole-store scans -----------------------------------------------------------

    def iter_ids(self, batch_size: int) -> Iterator[list[str]]:
        batch: list[str] = []
        iterator = self._call(lambda: iter(self._coll.iterator(return_properties=[])))
        while True:
            obj = self._call(lambda: next(iterator, None))
            if obj is None:
                break
            batch.append(str(obj.uuid))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def count(self) -> int:
        return int(self._call(lambda: self._coll.aggregate.over_all(total_count=True)).total_count or 0)

    def reset(self) -> None:
        assert self._client is not None
        client = self._client
        self._call(lambda: client.collections.delete(self._collection_name))
        self._ensure_collection()

    def drop(self) -> None:
        """Remove the collection itself (test clean-up)."""
        assert self._client is not None
        client = self._client
        self._call(lambda: client.collections.delete(self._collection_name))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _short(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return " ".join(text.split())[:500]


def _looks_unreachable(text: str) -> bool:
    lowered = text.lower()
    return any(s in lowered for s in ("connection refused", "unavailable", "failed to connect",
                                       "connect call failed", "deadline exceeded",
                                       "connection reset", "could not connect"))
