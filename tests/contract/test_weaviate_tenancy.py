"""``multi_tenancy = true``: one Weaviate tenant per user_id, against a real server.

The store passes the vector conformance suite; a user's delete_all drops the
user's tenant in one call and leaves no directory entry naming the user; ids
stay reachable when a record moves between users; the two layouts refuse each
other's collections. The coordinated passes (crash, erasure, isolation) run on
the multi-tenant pair through ``with_tenancy_pair()`` in their own suites.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import weaviate

from hybridmem import HybridStore
from hybridmem.errors import ConfigurationError
from hybridmem.models import Scope
from hybridmem.testing import VectorStoreContract
from hybridmem.testing.builders import embedding, vector_record
from hybridmem_weaviate import WeaviateOptions, WeaviateTenantVectorStore, WeaviateVectorStore
from hybridmem_weaviate.pytest_server import WeaviateServer
from hybridmem_weaviate.tenancy import NO_USER_TENANT, tenant_name
from tests.contract.test_weaviate_vector_store import LOOKALIKES
from tests.integration.checks import assert_no_half_memory_or_orphan
from tests.integration.seeding import seed_victims_and_keepers

pytestmark = pytest.mark.weaviate


def _collection(request: pytest.FixtureRequest) -> str:
    return "M" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:20]


def _open(server: WeaviateServer, collection: str) -> WeaviateTenantVectorStore:
    return WeaviateTenantVectorStore(server.host, server.http_port, server.grpc_port, collection)


@pytest.fixture
def raw(weaviate_server: WeaviateServer) -> Iterator[weaviate.WeaviateClient]:
    client = weaviate.connect_to_local(
        host=weaviate_server.host,
        port=weaviate_server.http_port,
        grpc_port=weaviate_server.grpc_port,
        skip_init_checks=True,
    )
    yield client
    client.close()


@pytest.fixture
def tenant_store(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest
) -> Iterator[WeaviateTenantVectorStore]:
    store = _open(weaviate_server, _collection(request))
    store.reset()
    yield store
    store.drop()
    store.close()


class TestWeaviateTenantVectorStore(VectorStoreContract):
    @pytest.fixture
    def vector_store(
        self, tenant_store: WeaviateTenantVectorStore
    ) -> Iterator[WeaviateTenantVectorStore]:
        yield tenant_store


def _tenants(raw: weaviate.WeaviateClient, collection: str) -> set[str]:
    return set(raw.collections.use(collection).tenants.get())


def _directory(raw: weaviate.WeaviateClient, collection: str) -> dict[str, str]:
    found = raw.collections.use(f"{collection}Tenants").query.fetch_objects(limit=10_000)
    return {str(o.uuid): str(o.properties["tenant"]) for o in found.objects}


def test_tenant_names_are_valid_and_distinct() -> None:
    names = [tenant_name(v) for v in LOOKALIKES] + [tenant_name("x" * 40), tenant_name("x" * 41)]
    assert len(set(names)) == len(names)
    assert NO_USER_TENANT not in names
    assert all(0 < len(n) <= 64 and n.replace("_", "").replace("-", "").isalnum() for n in names)


def test_each_user_is_a_tenant_and_lookalike_ids_stay_apart(
    tenant_store: WeaviateTenantVectorStore, raw: weaviate.WeaviateClient
) -> None:
    tenant_store.upsert(
        [vector_record(f"l{i}", Scope(user_id=v)) for i, v in enumerate(LOOKALIKES)]
        + [vector_record("agent-only", Scope(agent_id="a1"))]
    )
    name = tenant_store._collection_name
    assert _tenants(raw, name) == {tenant_name(v) for v in LOOKALIKES} | {NO_USER_TENANT}
    for value in LOOKALIKES:
        assert tenant_store.count_scope(Scope(user_id=value)) == 1, repr(value)
        hits = tenant_store.search(embedding("q"), Scope(user_id=value), 50)
        assert [r.user_id for r, _ in hits] == [value]
    assert [r.agent_id for r in tenant_store.list_scope(Scope(agent_id="a1"), None)] == ["a1"]
    assert tenant_store.count() == len(LOOKALIKES) + 1


def test_drop_scope_drops_the_users_tenant_and_directory_entries_only(
    tenant_store: WeaviateTenantVectorStore, raw: weaviate.WeaviateClient
) -> None:
    victims = [
        vector_record(f"v{i}", Scope(user_id="alice", agent_id=f"a{i % 2}")) for i in range(5)
    ]
    keepers = [vector_record(f"k{i}", Scope(user_id="Alice")) for i in range(3)]
    tenant_store.upsert(victims + keepers)
    name = tenant_store._collection_name
    assert tenant_store.drop_scope(Scope(user_id="alice", agent_id="a0")) is None
    assert sorted(tenant_store.drop_scope(Scope(user_id="alice")) or []) == sorted(
        r.id for r in victims
    )
    assert tenant_name("alice") not in _tenants(raw, name)
    # No entry of an erased memory names the user any more.
    assert set(_directory(raw, name)) == {r.id for r in keepers}
    assert tenant_store.get([r.id for r in victims]) == []
    assert tenant_store.count_scope(Scope(user_id="Alice")) == 3
    assert tenant_store.drop_scope(Scope(user_id="alice")) == []


def test_a_partial_scope_of_a_user_is_deleted_with_its_entries(
    tenant_store: WeaviateTenantVectorStore, raw: weaviate.WeaviateClient
) -> None:
    records = [vector_record(f"r{i}", Scope(user_id="bob", agent_id=f"a{i % 2}")) for i in range(6)]
    records.append(vector_record("other", Scope(user_id="carol", agent_id="a0")))
    tenant_store.upsert(records)
    assert tenant_store.delete_scope(Scope(user_id="bob", agent_id="a0"), 2) == 3
    # An agent's scope spans tenants.
    assert tenant_store.delete_scope(Scope(agent_id="a0"), 100) == 1
    left = {r.id for r in records if r.agent_id == "a1"}
    assert set(_directory(raw, tenant_store._collection_name)) == left
    assert tenant_store.existing_ids([r.id for r in records]) == left


def test_a_record_written_again_under_another_user_moves(
    tenant_store: WeaviateTenantVectorStore,
) -> None:
    first = vector_record("moving", Scope(user_id="dave"))
    tenant_store.upsert([first])
    tenant_store.upsert([replace(first, user_id="erin", text="moved")])
    assert tenant_store.count_scope(Scope(user_id="dave")) == 0
    [found] = tenant_store.get([first.id])
    assert (found.user_id, found.text) == ("erin", "moved")
    assert tenant_store.delete([first.id]) == 1
    assert tenant_store.count() == 0


def test_the_layouts_refuse_each_others_collections(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest
) -> None:
    name = _collection(request)
    plain = WeaviateVectorStore(
        weaviate_server.host, weaviate_server.http_port, weaviate_server.grpc_port, name
    )
    try:
        with pytest.raises(ConfigurationError, match="without multi-tenancy"):
            _open(weaviate_server, name)
    finally:
        plain.drop()
        plain.close()
    tenants = _open(weaviate_server, name)
    try:
        with pytest.raises(ConfigurationError, match="with multi-tenancy"):
            WeaviateVectorStore(
                weaviate_server.host, weaviate_server.http_port, weaviate_server.grpc_port, name
            )
    finally:
        tenants.drop()
        tenants.close()


def test_a_foreign_collection_named_like_the_directory_is_refused_and_kept(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest, raw: weaviate.WeaviateClient
) -> None:
    """The directory is ``<collection>Tenants``: another application's collection of
    that name is neither written to nor deleted from."""
    from weaviate.classes.config import Configure, DataType, Property
    from weaviate.classes.data import DataObject

    name = _collection(request)
    foreign = raw.collections.create(
        f"{name}Tenants",
        properties=[Property(name="tenant", data_type=DataType.TEXT)],
        vector_config=Configure.Vectors.self_provided(),
    )
    try:
        foreign.data.insert_many([DataObject(properties={"tenant": "theirs"})])
        with pytest.raises(ConfigurationError, match="not this store's tenant directory"):
            _open(weaviate_server, name)
        assert foreign.aggregate.over_all(total_count=True).total_count == 1
        assert not raw.collections.exists(name)
    finally:
        raw.collections.delete([name, f"{name}Tenants"])


def test_replicated_tenancy_is_refused_by_the_options() -> None:
    with pytest.raises(ValueError, match="replication_factor = 1"):
        WeaviateOptions(multi_tenancy=True, replication_factor=2)


def test_delete_all_of_a_user_drops_the_tenant_and_keeps_everyone_else(
    weaviate_server: WeaviateServer,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    raw: weaviate.WeaviateClient,
) -> None:
    collection = _collection(request)
    config: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "batch_size": 50,
        "graph": {"provider": "kuzu"},
        "vector": {**weaviate_server.vector_config(collection), "multi_tenancy": True},
    }
    with HybridStore(config) as store:
        store.reset()
        ids = seed_victims_and_keepers(store, 120, 3)
        result = store.delete_all(user_id="victim")
        assert (result.memories, result.vectors, result.memory_nodes) == (120, 120, 120)
        assert tenant_name("victim") not in _tenants(raw, collection)
        assert store.vector.count_scope(Scope(user_id="victim")) == 0
        assert all(store.get(ids[f"k{i}"]) is not None for i in range(3))
        assert not store.search(embedding=embedding("x"), user_id="victim")
        assert_no_half_memory_or_orphan(store)
        store.vector.drop()  # type: ignore[attr-defined]
