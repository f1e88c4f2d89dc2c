"""Weaviate ingest settings against a real server: the HNSW construction the
adapter creates a collection with, and a batch split into concurrent insert
requests that is whole and searchable when acknowledged, or an error."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import weaviate

from hybridmem.errors import ConfigurationError, DimensionMismatchError
from hybridmem.models import Scope
from hybridmem.testing.builders import embedding, memory_id, vector_record
from hybridmem_weaviate import WeaviateVectorStore, plugin
from hybridmem_weaviate.pytest_server import WeaviateServer

pytestmark = pytest.mark.weaviate

ALICE = Scope(user_id="alice")


def _name(request: pytest.FixtureRequest, suffix: str = "") -> str:
    return "T" + hashlib.sha1((request.node.nodeid + suffix).encode()).hexdigest()[:20]


@pytest.fixture
def opened(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest
) -> Iterator[list[WeaviateVectorStore]]:
    stores: list[WeaviateVectorStore] = []
    yield stores
    for store in stores:
        store.drop()
        store.close()


def _open(
    server: WeaviateServer, name: str, stores: list[WeaviateVectorStore], **options: Any
) -> WeaviateVectorStore:
    section = {k: v for k, v in server.vector_config(name).items() if k != "provider"}
    assert plugin.vector is not None
    store = plugin.vector({**section, **options}, Path("."))
    assert isinstance(store, WeaviateVectorStore)
    stores.append(store)
    return store


def _hnsw(server: WeaviateServer, name: str) -> Any:
    with weaviate.connect_to_local(
        host=server.host, port=server.http_port, grpc_port=server.grpc_port
    ) as client:
        vectors = client.collections.use(name).config.get().vector_config
    assert vectors is not None
    return vectors["default"].vector_index_config


def test_a_new_collection_gets_the_measured_hnsw_defaults_or_the_configured_ones(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest, opened: list[Any]
) -> None:
    _open(weaviate_server, _name(request, "a"), opened)
    chosen = _hnsw(weaviate_server, _name(request, "a"))
    assert (chosen.ef_construction, chosen.max_connections, chosen.ef) == (64, 32, -1)

    _open(
        weaviate_server,
        _name(request, "b"),
        opened,
        ef_construction=200,
        max_connections=48,
        ef=150,
    )
    asked = _hnsw(weaviate_server, _name(request, "b"))
    assert (asked.ef_construction, asked.max_connections, asked.ef) == (200, 48, 150)


def test_a_batch_split_into_concurrent_requests_is_whole_and_searchable_when_acknowledged(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest, opened: list[Any]
) -> None:
    store = _open(weaviate_server, _name(request), opened, insert_batch=7, insert_concurrency=3)
    records = [vector_record(f"m{i}", ALICE) for i in range(100)]
    store.upsert(records)

    assert store.count_scope(ALICE) == 100
    assert {r.id for r in store.get([r.id for r in records])} == {r.id for r in records}
    # Acknowledged means searchable: each record is found by its own vector at once.
    for record in records[::9]:
        best, score = store.search(record.embedding, ALICE, 1)[0]
        assert best.id == record.id and score == pytest.approx(1.0, abs=1e-4)


def test_a_failing_split_batch_raises_after_every_request_has_ended(
    weaviate_server: WeaviateServer, request: pytest.FixtureRequest, opened: list[Any]
) -> None:
    store = _open(weaviate_server, _name(request), opened, insert_batch=5, insert_concurrency=4)
    store.upsert([vector_record("m0", ALICE)])
    wrong = [
        replace(vector_record(f"m{i}", ALICE), embedding=embedding(f"m{i}", 3))
        for i in range(1, 41)
    ]
    with pytest.raises(DimensionMismatchError):
        store.upsert(wrong)
    # Nothing of the refused batch was written, and nothing arrives afterwards.
    assert store.count() == 1
    assert store.existing_ids([memory_id(f"m{i}") for i in range(41)]) == {memory_id("m0")}


@pytest.mark.parametrize(
    ("key", "value"),
    [("insert_batch", 0), ("insert_concurrency", 0), ("max_connections", 2), ("ef", -2)],
)
def test_out_of_range_ingest_settings_are_refused_before_connecting(key: str, value: int) -> None:
    with pytest.raises(ConfigurationError, match=key):
        assert plugin.vector is not None
        plugin.vector({key: value}, Path("."))
