"""WeaviateVectorStore against a real Weaviate server: the conformance suite, exact
scope isolation, QUERY_MAXIMUM_RESULTS paging, schema checks and error translation."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import weaviate
from weaviate.classes.config import (
    Configure,
    DataType,
    Property,
    ReplicationDeletionStrategy,
    Tokenization,
)

from hybridmem import HybridStore
from hybridmem.errors import ConfigurationError, StoreError, StoreUnavailableError
from hybridmem.models import Scope
from hybridmem.testing import VectorStoreContract
from hybridmem.testing.builders import embedding, memory_id, vector_record
from hybridmem_weaviate import WeaviateVectorStore
from hybridmem_weaviate.pytest_server import WeaviateServer, native
from tests.integration.checks import assert_no_half_memory_or_orphan
from tests.integration.seeding import seed_victims_and_keepers

pytestmark = pytest.mark.weaviate


def _collection(request: pytest.FixtureRequest) -> str:
    # Class names are case-insensitive in Weaviate: use a digest of the test id.
    return "T" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:20]


def _open(server: WeaviateServer, collection: str, **kwargs: Any) -> WeaviateVectorStore:
    return WeaviateVectorStore(
        server.host, server.http_port, server.grpc_port, collection, **kwargs
    )


def _raw_client(server: WeaviateServer) -> weaviate.WeaviateClient:
    return weaviate.connect_to_local(
        host=server.host, port=server.http_port, grpc_port=server.grpc_port
    )


@pytest.fixture
def weaviate_store(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest
) -> Iterator[WeaviateVectorStore]:
    store = _open(weaviate_server, _collection(request))
    store.reset()
    yield store
    store.drop()
    store.close()


class TestWeaviateVectorStore(VectorStoreContract):
    @pytest.fixture
    def vector_store(self, weaviate_store: WeaviateVectorStore) -> Iterator[WeaviateVectorStore]:
        yield weaviate_store


# Ids that Weaviate's default word tokenization (lower-cased) would merge with
# "alice", and ids FIELD tokenization alone would still merge (surrounding spaces).
LOOKALIKES = [
    "alice",
    "Alice",
    "ALICE",
    "alice smith",
    "alice@example.com",
    "alice.",
    "alice-1",
    "\uff41\uff4c\uff49\uff43\uff45",  # fullwidth letters
    "\u0430lice",  # Cyrillic a
    unicodedata.normalize("NFC", "alicé"),
    unicodedata.normalize("NFD", "alicé"),
    " alice",
    "alice ",
    "alice\u00a0",
]


def test_scope_isolation_between_lookalike_ids(weaviate_store: WeaviateVectorStore) -> None:
    weaviate_store.upsert(
        [vector_record(f"l{i}", Scope(user_id=v)) for i, v in enumerate(LOOKALIKES)]
    )
    for value in LOOKALIKES:
        assert weaviate_store.count_scope(Scope(user_id=value)) == 1, repr(value)
        hits = weaviate_store.search(embedding("q"), Scope(user_id=value), 50)
        assert [r.user_id for r, _ in hits] == [value]
        assert [r.user_id for r in weaviate_store.list_scope(Scope(user_id=value), None)] == [value]
    assert weaviate_store.delete_scope(Scope(user_id="alice"), 100) == 1
    assert weaviate_store.count() == len(LOOKALIKES) - 1
    for value in LOOKALIKES[1:]:
        assert weaviate_store.count_scope(Scope(user_id=value)) == 1, repr(value)


def test_created_collection_uses_field_keys_and_delete_on_conflict(
    weaviate_server: WeaviateServer, weaviate_store: WeaviateVectorStore
) -> None:
    client = _raw_client(weaviate_server)
    try:
        config = client.collections.use(weaviate_store._collection_name).config.get()
    finally:
        client.close()
    keys = {p.name: p for p in config.properties if p.name.endswith("_key")}
    assert {p.tokenization for p in keys.values()} == {Tokenization.FIELD}
    strategy = config.replication_config.deletion_strategy
    assert strategy == ReplicationDeletionStrategy.DELETE_ON_CONFLICT


def test_existing_word_tokenized_collection_is_refused(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest
) -> None:
    """A collection made by hand with the default (word) tokenization would make
    user_id 'alice' match 'Alice Smith': the adapter refuses to use it."""
    name = _collection(request)
    client = _raw_client(weaviate_server)
    try:
        client.collections.delete(name)
        client.collections.create(
            name,
            properties=[
                Property(name=key, data_type=DataType.TEXT)
                for key in ("user_key", "agent_key", "run_key")
            ],
            vector_config=Configure.Vectors.self_provided(),
        )
        with pytest.raises(ConfigurationError, match="user_key"):
            _open(weaviate_server, name)
    finally:
        client.collections.delete(name)
        client.close()


def test_partial_batch_failure_raises(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest
) -> None:
    """Schema drift made outside hybridmem (agent_id retyped to INT) fails only the
    records that carry an agent_id: the batch must raise, not report success."""
    name = _collection(request)
    client = _raw_client(weaviate_server)
    try:
        client.collections.delete(name)
        store = _open(weaviate_server, name)
        store.drop()
        client.collections.create(
            name,
            properties=[
                Property(name=k, data_type=DataType.TEXT, tokenization=Tokenization.FIELD)
                for k in ("user_key", "agent_key", "run_key")
            ]
            + [Property(name="agent_id", data_type=DataType.INT)],
            vector_config=Configure.Vectors.self_provided(),
        )
        store.close()
        store = _open(weaviate_server, name)
        with_agent = vector_record("with-agent", Scope(user_id="u", agent_id="a"))
        without_agent = vector_record("without-agent", Scope(user_id="u"))
        with pytest.raises(StoreError, match="1 of 2 objects failed"):
            store.upsert([with_agent, without_agent])
        store.close()
    finally:
        client.collections.delete(name)
        client.close()


def test_unreachable_server_names_the_store_and_address() -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        WeaviateVectorStore("127.0.0.1", 1, 2, "X", timeout_seconds=1)
    message = str(caught.value)
    assert "Weaviate vector store" in message and "http://127.0.0.1:1" in message


# -- a server whose QUERY_MAXIMUM_RESULTS is 50 ---------------------------------------


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeaviateServer]:
    launched = native().start(tmp_path_factory.mktemp("weaviate-small"), QUERY_MAXIMUM_RESULTS="50")
    try:
        yield WeaviateServer(launched.host, launched.http_port, launched.grpc_port)
    finally:
        launched.stop()


@pytest.fixture
def small_store(
    small_server: WeaviateServer, request: pytest.FixtureRequest
) -> Iterator[WeaviateVectorStore]:
    store = _open(small_server, _collection(request))
    store.reset()
    yield store
    store.drop()
    store.close()


def test_small_server_deletes_reads_and_lists_past_the_maximum(
    small_store: WeaviateVectorStore,
) -> None:
    """One delete_many removes, and one query returns, at most QUERY_MAXIMUM_RESULTS
    objects: the adapter pages and loops until everything is done."""
    big = [vector_record(f"b{i}", Scope(user_id="big"), offset_seconds=i // 3) for i in range(240)]
    small_store.upsert(big)
    small_store.upsert([vector_record(f"o{i}", Scope(user_id="other")) for i in range(7)])
    ids = [r.id for r in big]
    assert small_store.existing_ids(ids) == set(ids)
    assert len(small_store.get(ids[:120])) == 120
    listed = small_store.list_scope(Scope(user_id="big"), None)
    assert sorted(r.id for r in listed) == sorted(ids)
    stamps = [r.created_at for r in listed]
    assert stamps == sorted(stamps, reverse=True)
    assert [r.id for r in small_store.list_scope(Scope(user_id="big"), 70)] == [
        r.id for r in listed[:70]
    ]
    assert small_store.delete(ids[:120]) == 120
    assert small_store.delete_scope(Scope(user_id="big"), 1000) == 120
    assert small_store.count_scope(Scope(user_id="big")) == 0
    assert small_store.count_scope(Scope(user_id="other")) == 7


def test_delete_all_on_small_server_removes_the_whole_scope(
    small_server: WeaviateServer, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    collection = _collection(request)
    config = {
        "data_dir": str(tmp_path / "data"),
        "batch_size": 200,
        "graph": {"provider": "kuzu"},
        "vector": small_server.vector_config(collection),
    }
    with HybridStore(config) as store:
        store.reset()
        keeper = seed_victims_and_keepers(store, 260, 1)["k0"]
        result = store.delete_all(user_id="victim")
        assert (result.memories, result.vectors, result.memory_nodes) == (260, 260, 260)
        # The victims' own E0-E2 and Paris: the keeper's Paris is another namespace.
        assert result.orphan_entities == 4
        assert store.vector.count_scope(Scope(user_id="victim")) == 0
        assert store.get(keeper) is not None
        assert_no_half_memory_or_orphan(store)
        store.vector.drop()  # type: ignore[attr-defined]


def test_list_scope_pages_through_equal_timestamps(small_store: WeaviateVectorStore) -> None:
    """Bulk imports give many records one created_at: paging must neither skip nor
    repeat them."""
    same = [vector_record(f"s{i}", Scope(user_id="bulk")) for i in range(130)]
    later = [
        replace(r, created_at=r.created_at + timedelta(seconds=1))
        for r in (vector_record(f"l{i}", Scope(user_id="bulk")) for i in range(3))
    ]
    small_store.upsert(same + later)
    listed = [r.id for r in small_store.list_scope(Scope(user_id="bulk"), None)]
    assert len(listed) == len(set(listed)) == 133
    assert set(listed[:3]) == {r.id for r in later}
    assert memory_id("s0") in listed


def test_a_collection_made_before_expiry_gains_it_and_its_objects_stay_visible(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest
) -> None:
    """An upgrade: the collection and its objects were written without expires_at.
    Opening it adds the property; the old objects never expire, and the alive
    filter (a negation) keeps them; a new expiring object is hidden once due."""
    from datetime import UTC, datetime

    from hybridmem.filters import Filters
    from hybridmem_weaviate import schema as weaviate_schema

    name = _collection(request)
    old_schema = [p for p in weaviate_schema.SCHEMA if p.name != "expires_at"]
    client = _raw_client(weaviate_server)
    scope = Scope(user_id="upgrade")
    try:
        client.collections.delete(name)
        client.collections.create(
            name,
            properties=old_schema,
            vector_config=Configure.Vectors.self_provided(),
        )
        old = vector_record("old", scope)
        store = _open(weaviate_server, name)
        try:
            # Written as the previous version did: no expires_at property at all.
            store.upsert([old])
            config = client.collections.use(name).config.get()
            assert "expires_at" in {p.name for p in config.properties}
            due = replace(vector_record("due", scope), expires_at=datetime(2020, 1, 1, tzinfo=UTC))
            store.upsert([due])
            alive = Filters((), alive_at=datetime.now(UTC))
            assert [r.id for r in store.list_scope(scope, None, filters=alive)] == [old.id]
            hits = store.search(old.embedding, scope, 10, filters=alive)
            assert [r.id for r, _ in hits] == [old.id]
            [read_back] = store.get([due.id])
            assert read_back.expires_at == due.expires_at
        finally:
            store.close()
    finally:
        client.collections.delete(name)
        client.close()
