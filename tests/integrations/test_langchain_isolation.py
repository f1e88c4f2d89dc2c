"""What a LangChain VectorStore sees: its own documents, whose ids always resolve;
never another writer's memories (another scope's VectorStore, LangGraph items)
unless asked for; and document ids that belong to their scope."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from hybridmem.api import MemoryStore
from hybridmem.ids import scoped_id
from langchain_hybridmem import HybridMemVectorStore
from langchain_hybridmem.documents import SCOPE_KEY
from langgraph_hybridmem import HybridMemStore

EMBEDDINGS = DeterministicFakeEmbedding(size=16)


@pytest.fixture
def store(any_store: MemoryStore) -> MemoryStore:
    """In process on each pair, and a HybridMemClient of a live serve (issue 23)."""
    return any_store


def _round_trips(vectorstore: HybridMemVectorStore, query: str) -> list[str]:
    """The ids a search returns, each checked to resolve through get_by_ids."""
    hits = vectorstore.similarity_search(query, k=20)
    for hit in hits:
        assert hit.id is not None
        assert [d.page_content for d in vectorstore.get_by_ids([hit.id])] == [hit.page_content]
    return sorted(str(h.id) for h in hits)


def test_user_store_does_not_return_agent_level_documents(store: MemoryStore) -> None:
    user = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    agent = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice", agent_id="a1")
    user.add_texts(["alice's own note"], ids=["u1"])
    agent.add_texts(["the agent's note"], ids=["doc-7"])
    assert _round_trips(user, "note") == ["u1"]
    assert _round_trips(agent, "note") == ["doc-7"]
    # delete of an id the store cannot resolve erases nothing.
    user.delete(["doc-7"])
    assert [d.page_content for d in agent.get_by_ids(["doc-7"])] == ["the agent's note"]


def test_all_memories_ids_round_trip_through_get_and_delete(store: MemoryStore) -> None:
    HybridMemVectorStore(store, EMBEDDINGS, user_id="alice", agent_id="a1").add_texts(
        ["the agent's note"], ids=["doc-7"]
    )
    store.add("a plain memory", embedding=EMBEDDINGS.embed_query("x"), user_id="alice")
    wide = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice", all_memories=True)
    wide.add_texts(["alice's own note"], ids=["u1"])
    found = _round_trips(wide, "note")
    assert len(found) == 3 and "u1" in found
    wide.delete(found)
    assert wide.similarity_search("note", k=20) == []
    assert store.stats()["vectors"] == 0


def test_langgraph_items_stay_out_of_the_vector_store(store: MemoryStore) -> None:
    graph_store = HybridMemStore(store, index={"dims": 16, "embed": EMBEDDINGS})
    graph_store.put(("memories", "alice"), "profile", {"text": "alice likes tea"})
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    vectorstore.add_texts(["alice likes tea"], ids=["d1"])
    # The item is in alice's scope (else this test would prove nothing).
    # (Besides the LangGraph namespace index's marker of ("memories", "alice").)
    in_scope = [m for m in store.get_all(user_id="alice") if "_lg_marker" not in m.metadata]
    assert len(in_scope) == 2, [m.metadata for m in in_scope]
    found = vectorstore.similarity_search("alice likes tea", k=10)
    assert [(d.id, d.metadata) for d in found] == [("d1", {})]
    # And the VectorStore's document stays out of LangGraph's search.
    assert [i.key for i in graph_store.search(("memories", "alice"))] == ["profile"]
    wide = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice", all_memories=True)
    everything = wide.similarity_search("alice likes tea", k=10)
    assert len([d for d in everything if "_lg_marker" not in d.metadata]) == 2


def test_the_same_document_id_works_in_every_scope(store: MemoryStore) -> None:
    scopes: list[dict[str, Any]] = [
        {"user_id": "alice"},
        {"user_id": "bob"},
        {"user_id": "alice", "agent_id": "a1"},
        {"agent_id": "a1"},
        {"run_id": "r1"},
    ]
    stores = [HybridMemVectorStore(store, EMBEDDINGS, **s) for s in scopes]
    for position, vectorstore in enumerate(stores):
        assert vectorstore.add_texts([f"text {position}"], ids=["doc-7"]) == ["doc-7"]
    for position, vectorstore in enumerate(stores):
        assert [d.page_content for d in vectorstore.get_by_ids(["doc-7"])] == [f"text {position}"]
    assert store.stats()["vectors"] == len(scopes)


def test_a_key_bound_to_another_scope_cannot_take_a_document_id(store: MemoryStore) -> None:
    """Alice writes, ahead of bob, a memory under the id bob's document "doc-7"
    will have: it lands in alice's scope, and bob's write and reads are unaffected."""
    bob = HybridMemVectorStore(store, EMBEDDINGS, user_id="bob")
    forged = scoped_id(bob.scope, "doc-7")
    taken = store.add(
        "forged", embedding=EMBEDDINGS.embed_query("x"), user_id="alice", memory_id=forged
    )
    assert taken.id != forged
    assert bob.add_texts(["bob's"], ids=["doc-7"]) == ["doc-7"]
    assert [d.page_content for d in bob.get_by_ids(["doc-7"])] == ["bob's"]
    bob.delete(["doc-7"])
    assert store.get(taken.id) is not None


def test_reserved_metadata_keys_are_refused(store: MemoryStore) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    with pytest.raises(ValueError, match="reserved"):
        vectorstore.add_texts(["x"], metadatas=[{SCOPE_KEY: '["bob", null, null]'}])
    with pytest.raises(ValueError, match="reserved"):
        vectorstore.similarity_search("x", filter={SCOPE_KEY: '["bob", null, null]'})
    assert store.stats()["vectors"] == 0
