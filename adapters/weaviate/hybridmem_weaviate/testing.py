"""Weaviate as the pair suites of ``hybridmem.testing`` open it.

Registered under the ``hybridmem.testing`` entry point: the vector backends
``weaviate`` and ``weaviate_mt`` (``multi_tenancy = true``, a tenant per user),
from the ``weaviate_server`` fixture, whose value has ``vector_config(collection)``.
Class names are case-insensitive (an "alice" and an "Alice" test would collide),
so each test gets a collection named after a digest of its id; the collection is
dropped after the test. The pairs with Kuzu and Neo4j graphs; the tenant layout
runs where a suite asks for it (``kind="tenancy"``).
"""

from __future__ import annotations

from typing import Any

from hybridmem.store import HybridStore
from hybridmem.testing.pair_registry import Registration, SectionRequest, TestBackend, TestPair
from hybridmem_weaviate.vector import WeaviateVectorStore


def _section(role: str, request: SectionRequest) -> dict[str, Any]:
    section: dict[str, Any] = request.server.vector_config(f"T{request.unique}")
    return section


def _tenant_section(role: str, request: SectionRequest) -> dict[str, Any]:
    return {**_section(role, request), "multi_tenancy": True}


def _drop(store: HybridStore) -> None:
    drop = getattr(store.vector, "drop", store.vector.reset)
    drop()


class WeaviateVectorWitness:
    def __init__(self, vector: Any) -> None:
        self._client = vector._client
        self._name = vector._collection_name

    def vector_ids(self) -> set[str]:
        collection = self._client.collections.use(self._name)
        if not self._client.collections.exists(self._name):
            return set()
        # Small pages: a server may cap QUERY_MAXIMUM_RESULTS (one test runs it at 50).
        if not collection.config.get().multi_tenancy_config.enabled:
            return {str(obj.uuid) for obj in collection.iterator(cache_size=20)}
        # One tenant per user: every tenant's objects.
        return {
            str(obj.uuid)
            for tenant in collection.tenants.get()
            for obj in collection.with_tenant(tenant).iterator(cache_size=20)
        }


def _backend(name: str, section: Any) -> TestBackend:
    return TestBackend(
        name=name,
        provider="weaviate",
        section=section,
        marks=("weaviate",),
        server_fixture="weaviate_server",
        pytest_plugin="hybridmem_weaviate.pytest_server",
        launcher="hybridmem_weaviate.native_server:launcher",
        persistent=True,
        after_test=_drop,
        vector_witness=WeaviateVectorWitness,
        stores=(WeaviateVectorStore,),
    )


registration = Registration(
    backends=(_backend("weaviate", _section), _backend("weaviate_mt", _tenant_section)),
    pairs=(
        TestPair("kuzu+weaviate"),
        TestPair("neo4j+weaviate", production=True),
        TestPair("kuzu+weaviate_mt", kind="tenancy"),
        TestPair("neo4j+weaviate_mt", kind="tenancy"),
    ),
)
