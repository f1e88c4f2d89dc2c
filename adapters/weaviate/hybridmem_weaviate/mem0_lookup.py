"""mem0 memories by mem0 id across scopes (``hybridmem.mem0_lookup``), on Weaviate.

Every scalar metadata value is already a filterable property (``_filters``), so
the lookup is one filter on the record's own ``_mem0_key`` and mem0 marker,
answered by the inverted index, across the whole collection. The multi-tenant
layout has no cross-tenant query: there the lookup asks each tenant, so its
cost follows the number of users.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from weaviate.classes.query import Filter

from hybridmem.errors import StoreError
from hybridmem.mem0_lookup import MEM0_KEY, MEM0_MARKER_KEY, matching, mem0_key
from hybridmem.records import VectorRecord, decode_rows
from hybridmem_weaviate._filters import property_name
from hybridmem_weaviate.schema import object_id, record_from

if TYPE_CHECKING:
    from weaviate.collections import Collection

T = TypeVar("T")
_KEY = property_name(MEM0_KEY, "number")
_MARKER = property_name(MEM0_MARKER_KEY, "bool")


class WeaviateMem0Lookup:
    """Mixed into ``WeaviateVectorStore``: the ``Mem0Lookup`` capability."""

    name: str
    multi_tenant: bool
    _properties: set[str]

    if TYPE_CHECKING:  # provided by WeaviateCollection / WeaviateTenantVectorStore

        def _call(self, action: Callable[[], T]) -> T: ...

        def _read_layout(self) -> Any: ...

        def _handle(
            self, tenant: str | None = None, *, erasing: bool = False, name: str | None = None
        ) -> Collection[Any, Any]: ...

    def mem0_records(self, mem0_ids: Sequence[str]) -> list[VectorRecord]:
        keys = sorted({mem0_key(i) for i in mem0_ids})
        if not keys:
            return []
        if not {_KEY, _MARKER} <= self._properties:
            # Another process may have written the first mem0 memory since.
            self._call(self._read_layout)
            if not {_KEY, _MARKER} <= self._properties:
                return []
        # Floats: a number property's filter value (exact below 2**53).
        by_key = Filter.by_property(_KEY).contains_any([float(k) for k in keys])
        where = by_key & Filter.by_property(_MARKER).equal(True)
        tenants: list[str | None] = [None]
        if self.multi_tenant:
            tenants = [*self._tenant_names()]
        found: list[Any] = []
        for tenant in tenants:
            found.extend(self._matching(where, tenant, len(mem0_ids)))
        return matching(decode_rows(self.name, found, record_from, object_id), mem0_ids)

    def _tenant_names(self) -> list[str]:
        return sorted(self._call(lambda: self._handle().tenants.get()))

    def _matching(self, where: Any, tenant: str | None, count: int) -> list[Any]:
        def fetch() -> list[Any]:
            response = self._handle(tenant).query.fetch_objects(
                filters=where, limit=count + 64, include_vector=True
            )
            return list(response.objects)

        try:
            return self._call(fetch)
        except StoreError as exc:  # a tenant removed since it was listed has nothing
            if "tenant not found" in str(exc):
                return []
            raise
