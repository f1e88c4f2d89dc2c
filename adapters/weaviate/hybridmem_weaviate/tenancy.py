"""WeaviateTenantVectorStore: ``multi_tenancy = true``, one Weaviate tenant per user_id.

A tenant is its own shard, so ``delete_all(user_id=...)`` drops the user's vectors
in one call instead of deleting them object by object, and a search in one user's
scope reads that user's index only. The price: Weaviate needs the tenant for every
read or write of an object, and the vector port reads and deletes by id alone
(``get``, ``delete``). So the store keeps a directory beside the collection, a
second collection ``<collection>Tenants`` of vector-less objects that share the
memory's uuid and hold its tenant's name.

Invariant: every object has a directory entry. Entries are written before their
objects and removed after them, so a crash between the two leaves an entry that
points at nothing (harmless, removed by the next delete of that id or scope),
never an object that no id lookup can find, and therefore erase.

Reads and erasures whose scope gives no user_id (``delete_all(agent_id=...)``,
``iter_ids``, ``count``) visit every tenant: their cost follows the number of
users. Choose this layout when erasures and reads are per user.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter

from hybridmem.errors import ConfigurationError, StoreError
from hybridmem.models import Scope
from hybridmem.records import VectorRecord, decode_rows
from hybridmem_weaviate.calls import batched
from hybridmem_weaviate.schema import object_id, record_from, scope_filter
from hybridmem_weaviate.vector import WeaviateVectorStore

#: The tenant of records without a user_id (an agent's or a run's own memories).
NO_USER_TENANT = "n"
_TENANT = "tenant"


def tenant_name(user_id: str | None) -> str:
    """The tenant of a user_id: Weaviate allows 1-64 characters from [A-Za-z0-9_-],
    so the id's UTF-8 bytes in hex ("k" + hex) when that fits, else "h" + a SHA-256
    digest. The prefixes keep the three kinds of name apart."""
    if user_id is None:
        return NO_USER_TENANT
    hexed = user_id.encode("utf-8").hex()
    if len(hexed) < 64:
        return "k" + hexed
    return "h" + hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:63]


def _missing_tenant(exc: StoreError) -> bool:
    return "tenant not found" in str(exc)


class WeaviateTenantVectorStore(WeaviateVectorStore):
    """Vectors in a multi-tenant Weaviate collection, one tenant per user_id."""

    multi_tenant = True

    @property
    def _directory(self) -> str:
        return f"{self._collection_name}Tenants"

    # -- schema ---------------------------------------------------------------------

    def _ensure_collection(self) -> None:
        # The directory first: a refused name leaves no collection made behind it.
        assert self._client is not None
        client = self._client
        self._call(lambda: self._ensure_directory(client))
        super()._ensure_collection()
        if self._replication_factor > 1:
            raise ConfigurationError(
                f"{self.name} at {self.address}: collection {self._collection_name!r} is"
                f" replicated ({self._replication_factor}); multi_tenancy supports"
                " replication_factor = 1 only. Use another collection name."
            )

    def _ensure_directory(self, client: weaviate.WeaviateClient) -> None:
        if client.collections.exists(self._directory):
            # Someone else's collection of that name must not be written to or
            # deleted from: accept only the directory this adapter makes.
            config = client.collections.use(self._directory).config.get()
            props = {prop.name: prop for prop in config.properties}
            tenant = props.get(_TENANT)
            if (
                set(props) != {_TENANT}
                or tenant is None
                or tenant.tokenization != Tokenization.FIELD
                or not tenant.index_filterable
            ):
                raise ConfigurationError(
                    f"{self.name} at {self.address}: collection {self._directory!r} exists"
                    " but is not this store's tenant directory (one FIELD-tokenized"
                    f" {_TENANT!r} property); use another collection name."
                )
            return
        client.collections.create(
            self._directory,
            vector_config=Configure.Vectors.self_provided(
                vector_index_config=Configure.VectorIndex.flat()
            ),
            properties=[
                Property(
                    name=_TENANT,
                    data_type=DataType.TEXT,
                    tokenization=Tokenization.FIELD,
                    index_filterable=True,
                    index_searchable=False,
                )
            ],
        )

    def drop(self) -> None:
        super().drop()
        assert self._client is not None
        client = self._client
        self._call(lambda: client.collections.delete(self._directory))

    # -- the directory --------------------------------------------------------------

    def _placed(self, ids: Sequence[str]) -> dict[str, str]:
        """Each id's tenant, for the ids the directory knows."""
        if not ids:
            return {}
        found = self._by_ids(ids, with_data=False, name=self._directory, properties=[_TENANT])
        return {str(o.uuid): str(o.properties[_TENANT]) for o in found}

    def _placed_before_write(self, ids: Sequence[str]) -> dict[str, str]:
        return self._placed(ids)

    def _place(self, tenants: dict[str, str]) -> None:
        objects = [
            DataObject(properties={_TENANT: tenant}, uuid=memory_id)
            for memory_id, tenant in tenants.items()
        ]
        result = self._call(lambda: self._handle(name=self._directory).data.insert_many(objects))
        if result.errors:
            first = next(iter(result.errors.values()))
            raise StoreError(
                self.name, self.address, f"tenant directory: {getattr(first, 'message', first)}"
            )

    def _unplace_tenant(self, tenant: str) -> None:
        where = Filter.by_property(_TENANT).equal(tenant)
        while True:
            deleted, matched = self._delete_where(where, name=self._directory)
            if deleted == 0 or deleted >= matched:
                return

    def _tenants(self, scope: Scope | None) -> list[str]:
        """The tenants a scope can reach: its user's, or every one."""
        if scope is not None and scope.user_id is not None:
            return [tenant_name(scope.user_id)]
        names = self._call(lambda: self._coll.tenants.get())
        return sorted(names)

    def _in_tenant(self, tenant: str, read: Any, empty: Any) -> Any:
        """``read()`` in a tenant, or ``empty`` when the tenant does not exist (yet,
        or any more): auto-creation only happens on writes."""
        try:
            return read()
        except StoreError as exc:
            if _missing_tenant(exc):
                return empty
            raise

    # -- writes ---------------------------------------------------------------------

    def upsert(self, records: Sequence[VectorRecord], *, fresh: bool = False) -> None:
        if not records:
            return
        objects = self._objects(records)
        wanted = {r.id: tenant_name(r.user_id) for r in records}
        placed = self._placed_before_write(list(wanted))
        # A record written again under another user moves: erase the old copy
        # first, or no id lookup would reach it again.
        moved: dict[str, list[str]] = defaultdict(list)
        for memory_id, tenant in placed.items():
            if tenant != wanted[memory_id]:
                moved[tenant].append(memory_id)
        for tenant, ids in moved.items():
            self._in_tenant(tenant, lambda t=tenant, i=ids: self._delete_ids(i, t), 0)
        new = {m: t for m, t in wanted.items() if placed.get(m) != t}
        if new:
            self._place(new)
        by_tenant: dict[str, list[DataObject[Any, Any]]] = defaultdict(list)
        for record, obj in zip(records, objects, strict=True):
            by_tenant[wanted[record.id]].append(obj)
        for tenant, group in by_tenant.items():
            self._insert(group, tenant)

    def delete(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        placed = self._placed(ids)
        total = 0
        for tenant, group in _grouped(placed).items():
            total += self._in_tenant(tenant, lambda t=tenant, g=group: self._delete_ids(g, t), 0)
        if placed:
            self._delete_ids(list(placed), None, name=self._directory)
        return total

    def delete_scope(self, scope: Scope, batch_size: int) -> int:
        dropped = self.drop_scope(scope)
        if dropped is not None:
            return len(dropped)
        total = 0
        where = scope_filter(scope)
        for tenant in self._tenants(scope):
            while ids := self._in_tenant(
                tenant, lambda t=tenant: self._matching_ids(where, t, batch_size), []
            ):
                total += self._delete_ids(ids, tenant)
                self._delete_ids(ids, None, name=self._directory)
        return total

    def _matching_ids(self, where: Any, tenant: str, limit: int) -> list[str]:
        def fetch(page: int) -> list[str]:
            response = self._handle(tenant).query.fetch_objects(
                filters=where, limit=min(page, limit), return_properties=[]
            )
            return [str(o.uuid) for o in response.objects]

        return self._paged(fetch)

    def drop_scope(self, scope: Scope) -> list[str] | None:
        """A scope that is exactly one user is that user's tenant: read its ids (the
        coordinator counts which were memories of their own), drop it in one call,
        then clear its directory entries. Idempotent, so a crash in between is
        settled by running it again."""
        if scope.user_id is None or scope.agent_id is not None or scope.run_id is not None:
            return None
        tenant = tenant_name(scope.user_id)
        ids: list[str] = []
        try:
            for page in self._pages_of_ids(tenant):
                ids.extend(page)
        except StoreError as exc:
            if not _missing_tenant(exc):
                raise
        self._call(lambda: self._coll.tenants.remove([tenant]))
        self._unplace_tenant(tenant)
        return ids

    # -- reads ----------------------------------------------------------------------

    def _objects_by_id(self, ids: Sequence[str], *, with_data: bool) -> list[Any]:
        found: list[Any] = []
        for tenant, group in _grouped(self._placed(ids)).items():
            found.extend(
                self._in_tenant(
                    tenant,
                    lambda t=tenant, g=group: self._by_ids(g, with_data=with_data, tenant=t),
                    [],
                )
            )
        return found

    def get(self, ids: Sequence[str]) -> list[VectorRecord]:
        return decode_rows(
            self.name, self._objects_by_id(ids, with_data=True), record_from, object_id
        )

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {str(o.uuid) for o in self._objects_by_id(ids, with_data=False)}

    def count_scope(self, scope: Scope) -> int:
        where = scope_filter(scope)
        return sum(
            self._in_tenant(t, lambda t=t: self._count(where, t), 0) for t in self._tenants(scope)
        )

    def _list_in_scope(self, scope: Scope, base: Any, limit: int | None) -> list[VectorRecord]:
        found: list[VectorRecord] = []
        for tenant in self._tenants(scope):
            found.extend(self._in_tenant(tenant, lambda t=tenant: self._list(base, limit, t), []))
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return found if limit is None else found[:limit]

    def _near_in_scope(
        self, embedding: Sequence[float], scope: Scope, where: Any, limit: int
    ) -> list[tuple[VectorRecord, float]]:
        found: list[tuple[VectorRecord, float]] = []
        for tenant in self._tenants(scope):
            found.extend(
                self._in_tenant(tenant, lambda t=tenant: self._near(embedding, where, limit, t), [])
            )
        found.sort(key=lambda hit: hit[1], reverse=True)
        return found[:limit]

    # -- whole-store scans -----------------------------------------------------------

    def iter_ids(self, batch_size: int) -> Iterator[list[str]]:
        def pages() -> Iterator[list[str]]:
            for tenant in self._tenants(None):
                try:
                    yield from self._pages_of_ids(tenant)
                except StoreError as exc:
                    # Dropped since it was listed: nothing of it is left to visit.
                    if not _missing_tenant(exc):
                        raise

        yield from batched(pages(), batch_size)

    def count(self) -> int:
        return sum(
            self._in_tenant(t, lambda t=t: self._count(None, t), 0) for t in self._tenants(None)
        )


def _grouped(placed: dict[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for memory_id, tenant in placed.items():
        groups[tenant].append(memory_id)
    return groups
