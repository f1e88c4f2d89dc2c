"""LangChain's published standard suites, unmodified, against langchain-hybridmem: in
process, over a HybridMemClient and over an AsyncHybridMemClient of a live serve."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import (
    RetrieversIntegrationTests,
    VectorStoreIntegrationTests,
)

from hybridmem.api import MemoryStore
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from langchain_hybridmem import HybridMemGraphRetriever, HybridMemVectorStore
from tests.server.live import LiveServer


@pytest.fixture
def store(any_store: MemoryStore) -> MemoryStore:
    """In process on each pair, and a HybridMemClient of a live serve (issue 23)."""
    return any_store


class TestHybridMemVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, store: MemoryStore) -> Iterator[VectorStore]:
        yield HybridMemVectorStore(store, self.get_embeddings(), user_id="standard-tests")


class TestHybridMemGraphRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def seeded(self, store: MemoryStore) -> None:
        """Five memories (the suite asks for up to three), two with graph context."""
        self.store = store
        embeddings = VectorStoreIntegrationTests.get_embeddings()
        texts = [
            "Alice lives in Lisbon",
            "Alice works at Acme",
            "Bob likes tea",
            "Lisbon is in Portugal",
            "Acme makes anvils",
        ]
        for text, vector in zip(texts, embeddings.embed_documents(texts), strict=True):
            words = text.split()
            store.add(
                text,
                embedding=vector,
                user_id="alice",
                relations=[{"source": words[0], "target": words[-1], "type": words[1]}],
            )

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return HybridMemGraphRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "embeddings": VectorStoreIntegrationTests.get_embeddings(),
            "user_id": "alice",
        }

    @property
    def retriever_query_example(self) -> str:
        return "Where does Alice live?"


class TestHybridMemVectorStoreOverAsyncClient(VectorStoreIntegrationTests):
    """Over an AsyncHybridMemClient: the async tests await its calls on their loop;
    the sync ones run them on a loop of the store's own (hybridmem.loop_bridge)."""

    @pytest.fixture
    def vectorstore(self, served: LiveServer) -> Iterator[VectorStore]:
        with HybridMemClient(served.url) as admin:
            admin.reset()
        client = AsyncHybridMemClient(served.url)
        vectorstore = HybridMemVectorStore(client, self.get_embeddings(), user_id="standard-tests")
        yield vectorstore
        # The client belongs to the loop that used it: closed there while it runs
        # (a sync test's bridge loop); an async test's loop is gone by now.
        assert vectorstore._bridge is not None
        loop = vectorstore._bridge.loop
        if loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(client.close(), loop).result()
