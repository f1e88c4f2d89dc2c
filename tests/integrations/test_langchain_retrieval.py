"""langchain-hybridmem as LangChain's own machinery uses it: MMR (sync and async, and
through ``as_retriever``), the indexing API in every cleanup mode, ``k=0``, and
``add_texts`` writing in batches."""

from __future__ import annotations

import time

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.indexing import InMemoryRecordManager, index
from langchain_core.vectorstores import InMemoryVectorStore

from hybridmem.api import MemoryStore
from langchain_hybridmem import HybridMemVectorStore
from tests.integrations.checks import assert_no_trace

EMBEDDINGS = DeterministicFakeEmbedding(size=8)


@pytest.fixture
def store(any_store: MemoryStore) -> MemoryStore:
    """In process on each pair, and a HybridMemClient of a live serve (issue 23)."""
    return any_store


class AxisEmbeddings(Embeddings):
    """Texts "x", "x'", "y": x and x' almost the same direction, y orthogonal, so
    MMR's choice differs from plain similarity's in a way one can state."""

    VECTORS = {
        "x": [1.0, 0.0, 0.0],
        "x'": [0.99, 0.14, 0.0],
        "y": [0.6, 0.0, 0.8],
        "query": [1.0, 0.0, 0.1],
    }

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.VECTORS[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.VECTORS[text]


def _axis_store(store: MemoryStore) -> HybridMemVectorStore:
    vectorstore = HybridMemVectorStore(store, AxisEmbeddings(), user_id="alice")
    vectorstore.add_texts(["x", "x'", "y"], ids=["x", "x2", "y"])
    return vectorstore


def test_mmr_prefers_a_diverse_second_document(store: MemoryStore) -> None:
    vectorstore = _axis_store(store)
    plain = vectorstore.similarity_search("query", k=2)
    assert [d.page_content for d in plain] == ["x", "x'"]
    diverse = vectorstore.max_marginal_relevance_search("query", k=2, fetch_k=3)
    assert [d.page_content for d in diverse] == ["x", "y"]
    # lambda_mult=1 is similarity only.
    same = vectorstore.max_marginal_relevance_search("query", k=2, fetch_k=3, lambda_mult=1.0)
    assert [d.page_content for d in same] == ["x", "x'"]
    assert [d.id for d in diverse] == ["x", "y"]


async def test_mmr_async_and_through_as_retriever(store: MemoryStore) -> None:
    vectorstore = _axis_store(store)
    found = await vectorstore.amax_marginal_relevance_search("query", k=2, fetch_k=3)
    assert [d.page_content for d in found] == ["x", "y"]
    by_vector = await vectorstore.amax_marginal_relevance_search_by_vector(
        AxisEmbeddings.VECTORS["query"], k=2, fetch_k=3
    )
    assert [d.page_content for d in by_vector] == ["x", "y"]
    retriever = vectorstore.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 3})
    assert [d.page_content for d in retriever.invoke("query")] == ["x", "y"]
    assert [d.page_content for d in await retriever.ainvoke("query")] == ["x", "y"]


def test_mmr_filter_applies_before_fetch_k(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore(store, AxisEmbeddings(), user_id="alice")
    vectorstore.add_texts(["x", "x'", "y"], metadatas=[{"t": 1}, {"t": 2}, {"t": 2}])
    found = vectorstore.max_marginal_relevance_search("query", k=2, fetch_k=2, filter={"t": 2})
    assert sorted(d.page_content for d in found) == ["x'", "y"]


def test_k_zero_returns_nothing_as_in_memory_does(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    vectorstore.add_texts(["one", "two"])
    reference = InMemoryVectorStore(EMBEDDINGS)
    reference.add_texts(["one", "two"])
    assert reference.similarity_search("one", k=0) == []
    assert vectorstore.similarity_search("one", k=0) == []
    assert vectorstore.similarity_search_with_score("one", k=0) == []
    assert vectorstore.similarity_search_by_vector(EMBEDDINGS.embed_query("one"), k=0) == []
    assert vectorstore.max_marginal_relevance_search("one", k=0) == []


def _docs(*pairs: tuple[str, str]) -> list[Document]:
    return [Document(page_content=text, metadata={"source": source}) for text, source in pairs]


@pytest.mark.parametrize("cleanup", ["incremental", "full", "scoped_full"])
def test_indexing_api_counts_match_in_memory(store: MemoryStore, cleanup: str) -> None:
    """Each cleanup mode over three rounds (first load, unchanged, one document
    changed and one gone) answers the same counts as InMemoryVectorStore, and
    leaves the same documents."""
    ours = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    reference = InMemoryVectorStore(EMBEDDINGS)
    rounds = [
        _docs(("a1", "a"), ("a2", "a"), ("b1", "b")),
        _docs(("a1", "a"), ("a2", "a"), ("b1", "b")),
        _docs(("a1", "a"), ("a2 edited", "a")),
    ]
    results: dict[str, list[dict[str, object]]] = {"ours": [], "reference": []}
    for name, vectorstore in (("ours", ours), ("reference", reference)):
        manager = InMemoryRecordManager(namespace=f"{name}-{cleanup}")
        manager.create_schema()
        for docs in rounds:
            outcome = index(
                docs,
                manager,
                vectorstore,
                cleanup=cleanup,  # type: ignore[arg-type]
                source_id_key="source",
                batch_size=2,
            )
            results[name].append({k: v for k, v in outcome.items() if isinstance(v, int)})
    assert results["ours"] == results["reference"]
    assert results["ours"][0] == {
        "num_added": 3,
        "num_updated": 0,
        "num_skipped": 0,
        "num_deleted": 0,
    }
    assert results["ours"][1]["num_skipped"] == 3
    assert results["ours"][2]["num_added"] == 1
    # incremental keeps b1 (its source was not indexed in that round): 2 deleted
    # for full, 1 (a2) for incremental and scoped_full.
    assert results["ours"][2]["num_deleted"] == (2 if cleanup == "full" else 1)
    texts = sorted(d.page_content for d in ours.similarity_search("a", k=10))
    assert texts == sorted(d.page_content for d in reference.similarity_search("a", k=10))
    assert_no_trace(store, left=len(texts))


def test_add_documents_takes_batch_size_and_refuses_unknown_arguments(
    store: MemoryStore,
) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    ids = vectorstore.add_documents(_docs(("one", "s"), ("two", "s")), batch_size=1)
    assert {d.page_content for d in vectorstore.get_by_ids(ids)} == {"one", "two"}
    with pytest.raises(TypeError, match="unexpected keyword arguments: \\['bacth_size'\\]"):
        vectorstore.add_documents(_docs(("three", "s")), bacth_size=1)
    with pytest.raises(ValueError, match="batch_size"):
        vectorstore.add_texts(["three"], batch_size=0)
    assert store.stats()["vectors"] == 2


def test_writing_an_id_again_replaces_the_document(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    vectorstore.add_texts(["first", "other"], ids=["d", "o"], metadatas=[{"v": 1}, {}])
    vectorstore.add_texts(["second", "other"], ids=["d", "o"], metadatas=[{"v": 2}, {}])
    [doc] = vectorstore.get_by_ids(["d"])
    assert (doc.page_content, doc.metadata) == ("second", {"v": 2})
    # One call giving an id twice: the last document wins.
    vectorstore.add_texts(["third", "fourth"], ids=["d", "d"])
    assert [d.page_content for d in vectorstore.get_by_ids(["d"])] == ["fourth"]
    assert_no_trace(store, left=2)


class CountingStore:
    """Counts the store calls add_texts makes (a real MemoryStore underneath)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.calls: list[str] = []

    def add(self, *args: object, **kwargs: object) -> object:
        self.calls.append("add")
        return self.store.add(*args, **kwargs)  # type: ignore[arg-type]

    def add_many(self, *args: object, **kwargs: object) -> object:
        self.calls.append("add_many")
        return self.store.add_many(*args, **kwargs)  # type: ignore[arg-type]


def test_a_thousand_documents_are_written_in_batches(store: MemoryStore) -> None:
    counting = CountingStore(store)
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    vectorstore.store = counting  # type: ignore[assignment]
    texts = [f"document {i}" for i in range(1000)]
    started = time.perf_counter()
    ids = vectorstore.add_texts(texts, batch_size=250)
    elapsed = time.perf_counter() - started
    assert counting.calls == ["add_many"] * 4
    assert store.stats()["vectors"] == 1000
    vectorstore.store = store
    assert len(vectorstore.get_by_ids(ids[:10])) == 10
    # One add per document took 5 s; batches take a fraction of that even on a
    # loaded machine.
    assert elapsed < 2.5, elapsed
