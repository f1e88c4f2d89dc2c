"""langchain-hybridmem beyond the standard suites: scopes, ids, filters, graph context,
and erasure through LangChain leaving nothing behind."""

from __future__ import annotations

import uuid

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from hybridmem.api import MemoryStore
from langchain_hybridmem import HybridMemGraphRetriever, HybridMemVectorStore
from langchain_hybridmem.documents import memory_id_for
from tests.integrations.checks import assert_no_trace

EMBEDDINGS = DeterministicFakeEmbedding(size=8)


@pytest.fixture
def store(any_store: MemoryStore) -> MemoryStore:
    """In process on each pair, and a HybridMemClient of a live serve (issue 23)."""
    return any_store


def test_same_document_id_in_two_scopes_names_two_documents(store: MemoryStore) -> None:
    alice = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    bob = HybridMemVectorStore(store, EMBEDDINGS, user_id="bob")
    alice.add_texts(["alice's note"], ids=["1"])
    bob.add_texts(["bob's note"], ids=["1"])
    assert [d.page_content for d in alice.get_by_ids(["1"])] == ["alice's note"]
    assert [d.page_content for d in bob.similarity_search("note", k=5)] == ["bob's note"]
    bob.delete(["1"])
    assert [d.page_content for d in alice.get_by_ids(["1"])] == ["alice's note"]
    assert bob.get_by_ids(["1"]) == []


def test_another_scopes_uuid_is_neither_read_nor_deleted(store: MemoryStore) -> None:
    alice = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    bob = HybridMemVectorStore(store, EMBEDDINGS, user_id="bob")
    doc_id = str(uuid.uuid4())
    alice.add_texts(["alice's"], ids=[doc_id])
    assert bob.get_by_ids([doc_id]) == []
    bob.delete([doc_id])
    assert [d.id for d in alice.get_by_ids([doc_id])] == [doc_id]


def test_filter_applies_in_the_store_before_k(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    vectorstore.add_texts(
        ["a", "b", "c"], metadatas=[{"topic": "x"}, {"topic": "y"}, {"topic": "y", "n": 3}]
    )
    found = vectorstore.similarity_search("a", k=1, filter={"topic": "y", "n": {"$gt": 2}})
    assert [(d.page_content, d.metadata) for d in found] == [("c", {"topic": "y", "n": 3})]


def test_relevance_scores_are_in_0_1_and_best_first(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    vectorstore.add_texts(["exact", "other"])
    scored = vectorstore.similarity_search_with_relevance_scores("exact", k=2)
    assert scored[0][0].page_content == "exact"
    assert scored[0][1] == pytest.approx(1.0)
    assert all(0.0 <= s <= 1.0 for _, s in scored)


def test_bad_input_is_refused_before_any_write(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    with pytest.raises(ValueError, match="reserved"):
        vectorstore.add_texts(["ok", "bad"], metadatas=[{}, {"_langchain_id": "x"}])
    with pytest.raises(TypeError, match="unexpected keyword"):
        vectorstore.add_texts(["x"], namespace="typo")
    with pytest.raises(TypeError, match="unexpected keyword"):
        vectorstore.similarity_search("x", fitler={"a": 1})
    with pytest.raises(ValueError, match="user_id"):
        HybridMemVectorStore(store, EMBEDDINGS, user_id="")
    assert store.stats()["vectors"] == 0


def test_from_texts_keeps_ids_in_its_scope(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore.from_texts(
        ["one", "two"], EMBEDDINGS, ids=["a", "b"], store=store, user_id="u", run_id="r1"
    )
    assert {d.id for d in vectorstore.get_by_ids(["a", "b"])} == {"a", "b"}
    assert [m.run_id for m in store.get_all(user_id="u")] == ["r1", "r1"]


def test_retriever_documents_carry_their_graph_context(store: MemoryStore) -> None:
    vector = EMBEDDINGS.embed_query("Alice lives in Lisbon")
    store.add(
        "Alice lives in Lisbon",
        embedding=vector,
        user_id="alice",
        metadata={"source": "chat"},
        entities=[{"name": "Alice", "type": "person"}, {"name": "Lisbon", "type": "city"}],
        relations=[{"source": "Alice", "target": "Lisbon", "type": "lives_in"}],
    )
    store.add("unrelated", embedding=EMBEDDINGS.embed_query("unrelated"), user_id="alice")
    retriever = HybridMemGraphRetriever(store=store, embeddings=EMBEDDINGS, user_id="alice", k=1)
    [doc] = retriever.invoke("Alice lives in Lisbon")
    assert doc.page_content == "Alice lives in Lisbon"
    assert doc.metadata["source"] == "chat"
    assert doc.metadata["score"] == pytest.approx(1.0)
    assert sorted(e["name"] for e in doc.metadata["entities"]) == ["Alice", "Lisbon"]
    assert doc.metadata["relations"] == [
        {"source": "Alice", "type": "lives_in", "target": "Lisbon"}
    ]


async def test_async_methods_reach_the_same_records(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    ids = await vectorstore.aadd_texts(["x", "y"], ids=["1", "2"])
    assert [d.id for d in await vectorstore.asimilarity_search("x", k=1)] == ["1"]
    await vectorstore.adelete(ids)
    assert vectorstore.get_by_ids(ids) == []
    assert_no_trace(store)


def test_deleting_a_scopes_ids_leaves_no_trace(store: MemoryStore) -> None:
    alice = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    bob = HybridMemVectorStore(store, EMBEDDINGS, user_id="bob")
    ids = alice.add_texts([f"note {i}" for i in range(5)], ids=[f"n{i}" for i in range(5)])
    alice.add_texts(["note 0 edited"], ids=["n0"])
    bob.add_texts(["bob's"], ids=["n0"])
    alice.delete(ids)
    assert alice.similarity_search("note", k=10) == []
    assert_no_trace(store, left=1)
    assert [d.page_content for d in bob.get_by_ids(["n0"])] == ["bob's"]
    # The erased texts are gone from history too, not only from the stores.
    erased = [memory_id_for(i, alice.scope) for i in ids]
    events = [e for m in erased for e in store.history(m)]
    assert {e.kind for e in events} == {"ADD", "UPDATE", "DELETE"}
    assert all(e.old_text is None and e.new_text is None for e in events)


def test_delete_without_ids_is_delete_all_of_the_scope(store: MemoryStore) -> None:
    alice = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice", agent_id="a1")
    alice.add_texts(["one", "two"])
    store.add("same user, other agent", embedding=[1.0] * 8, user_id="alice", agent_id="a2")
    assert alice.delete() is True
    assert alice.similarity_search("one", k=5) == []
    assert_no_trace(store, left=1)
    assert [m.agent_id for m in store.get_all(user_id="alice")] == ["a2"]
