"""LangChain's VectorStore and retriever over a HybridMemClient: many app processes
share one store through its server (issue 23), with the same results as in process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding

from hybridmem.api import AsyncMemoryStore, MemoryStore
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from langchain_hybridmem import HybridMemVectorStore
from tests.server.live import LiveServer, start_server, write_config

EMBEDDING = DeterministicFakeEmbedding(size=8)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own: a store's vectors have one dimension, fixed by its first."""
    home = tmp_path_factory.mktemp("langchain-over-http")
    started = start_server(write_config(home / "hybridmem.toml", home / "data"))
    yield started
    started.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[HybridMemClient]:
    with HybridMemClient(server.url) as opened:
        yield opened


def test_the_clients_are_memory_stores(server: LiveServer) -> None:
    with HybridMemClient(server.url) as sync:
        assert isinstance(sync, MemoryStore)
    assert isinstance(AsyncHybridMemClient(server.url), AsyncMemoryStore)


def test_a_vector_store_over_http_writes_reads_and_erases(
    client: HybridMemClient, name: str
) -> None:
    store = HybridMemVectorStore(client, EMBEDDING, user_id=name)
    ids = store.add_documents(
        [
            Document("Alice lives in Lisbon", metadata={"topic": "home"}),
            Document("Alice likes trams", metadata={"topic": "travel"}),
        ],
        ids=["doc-1", "doc-2"],
    )
    assert ids == ["doc-1", "doc-2"]
    [hit] = store.similarity_search("Alice lives in Lisbon", k=1)
    assert (hit.id, hit.page_content, hit.metadata) == (
        "doc-1",
        "Alice lives in Lisbon",
        {"topic": "home"},
    )
    assert [d.id for d in store.get_by_ids(["doc-2", "missing"])] == ["doc-2"]
    retriever = store.as_retriever(search_kwargs={"k": 2, "filter": {"topic": "travel"}})
    assert [d.id for d in retriever.invoke("trams")] == ["doc-2"]
    assert store.delete(["doc-1"]) is True
    assert store.get_by_ids(["doc-1"]) == []
    # The scope seen from another process's client: the same memory, nothing else.
    assert [m.text for m in client.get_all(user_id=name)] == ["Alice likes trams"]
