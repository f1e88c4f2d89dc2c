"""LangChain's published standard suites, unmodified, against langchain-hybridmem."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import (
    RetrieversIntegrationTests,
    VectorStoreIntegrationTests,
)

from hybridmem import HybridStore
from langchain_hybridmem import HybridMemGraphRetriever, HybridMemVectorStore


class TestHybridMemVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, store: HybridStore) -> Iterator[VectorStore]:
        yield HybridMemVectorStore(store, self.get_embeddings(), user_id="standard-tests")


class TestHybridMemGraphRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def seeded(self, store: HybridStore) -> None:
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
