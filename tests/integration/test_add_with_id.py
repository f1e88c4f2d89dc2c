"""add(memory_id=…): callers that keep their own ids (framework stores) name the memory.

A chosen id is a name within its scope (``hybridmem.ids``): writing the same id
twice in one scope leaves one record; a changed text, embedding or metadata
replaces it through a journaled update; the same id in another scope is another
memory, so no scope can take or probe another's.
"""

from __future__ import annotations

import uuid

import pytest

from hybridmem import HybridStore, ValidationError
from hybridmem.ids import scoped_id
from hybridmem.models import Scope
from tests.integration import raw

ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
#: The ids ID names in alice's and bob's scopes.
AID = scoped_id(Scope(user_id="alice"), ID)
BID = scoped_id(Scope(user_id="bob"), ID)


def test_same_id_twice_leaves_one_record(store: HybridStore) -> None:
    first = store.add(
        "likes tea",
        embedding=[1.0, 0.0],
        user_id="alice",
        memory_id=ID,
        entities=[{"name": "tea", "type": "drink"}],
    )
    again = store.add(
        "likes tea",
        embedding=[1.0, 0.0],
        user_id="alice",
        memory_id=ID,
        entities=[{"name": "tea", "type": "drink"}],
    )
    assert first.id == again.id == AID
    assert again.created_at == first.created_at
    assert [m.id for m in store.get_all(user_id="alice")] == [AID]
    stats = store.stats()
    assert (stats["vectors"], stats["memory_nodes"], stats["entities"]) == (1, 1, 1)
    assert [e.kind for e in store.history(AID)] == ["ADD"]


def test_same_id_with_new_content_replaces_it(store: HybridStore) -> None:
    first = store.add("likes tea", embedding=[1.0, 0.0], user_id="alice", memory_id=ID)
    second = store.add(
        "likes coffee",
        embedding=[0.0, 1.0],
        user_id="alice",
        memory_id=ID,
        metadata={"source": "chat"},
    )
    stored = store.get(AID)
    assert stored is not None
    assert (stored.text, stored.metadata) == ("likes coffee", {"source": "chat"})
    assert stored.created_at == first.created_at == second.created_at
    assert stored.updated_at >= first.updated_at
    assert [h.memory.text for h in store.search([0.0, 1.0], user_id="alice")] == ["likes coffee"]
    assert store.stats()["vectors"] == 1
    events = store.history(AID)
    assert [e.kind for e in events] == ["ADD", "UPDATE"]
    assert (events[1].old_text, events[1].new_text) == ("likes tea", "likes coffee")


def test_the_same_id_in_another_scope_is_another_memory(store: HybridStore) -> None:
    alice = store.add("alice's", embedding=[1.0, 0.0], user_id="alice", memory_id=ID)
    bob = store.add("bob's", embedding=[0.0, 1.0], user_id="bob", memory_id=ID)
    assert (alice.id, bob.id) == (AID, BID) and AID != BID
    stored = store.get(AID)
    assert stored is not None and (stored.text, stored.user_id) == ("alice's", "alice")
    assert [m.text for m in store.get_all(user_id="bob")] == ["bob's"]
    # Bob naming alice's stored id gets an id of his own scope: never hers.
    again = store.add("bob's too", embedding=[0.0, 1.0], user_id="bob", memory_id=AID)
    assert again.id not in (AID, BID)
    assert store.get(AID) == stored
    assert store.get(AID, user_id="bob") is None


def test_changed_graph_on_an_existing_id_is_refused(store: HybridStore) -> None:
    store.add("likes tea", embedding=[1.0, 0.0], user_id="alice", memory_id=ID)
    with pytest.raises(ValidationError, match="fixed when it is first added"):
        store.add(
            "likes coffee",
            embedding=[1.0, 0.0],
            user_id="alice",
            memory_id=ID,
            entities=[{"name": "coffee", "type": "drink"}],
        )
    stored = store.get(AID)
    assert stored is not None and stored.text == "likes tea"
    assert store.entities(user_id="alice") == []


@pytest.mark.parametrize("bad", ["1", "not-a-uuid", "", 7])
def test_memory_id_must_be_a_uuid(embedded: HybridStore, bad: object) -> None:
    with pytest.raises(ValidationError, match="memory_id"):
        embedded.add("x", embedding=[1.0], user_id="u", memory_id=bad)  # type: ignore[arg-type]
    assert embedded.stats()["vectors"] == 0
    assert embedded.journal.pending() == []


def test_erasure_of_caller_named_memories_leaves_nothing(store: HybridStore) -> None:
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"doc-{i}")) for i in range(3)]
    for i, memory_id in enumerate(ids):
        store.add(f"doc {i}", embedding=[1.0, float(i)], user_id="alice", memory_id=memory_id)
        store.add(f"doc {i} v2", embedding=[1.0, float(i)], user_id="alice", memory_id=memory_id)
    store.add("bob's", embedding=[1.0, 0.0], user_id="bob")
    result = store.delete_all(user_id="alice")
    assert result["memories"] == 3
    stored_ids = [scoped_id(Scope(user_id="alice"), m) for m in ids]
    assert all(store.get(m) is None for m in stored_ids)
    assert store.stats()["vectors"] == 1
    report = store.reconcile()
    assert report.found.model_dump() == {k: 0 for k in report.found.model_dump()}
    events = [e for m in stored_ids for e in store.history(m)]
    assert events and all(e.new_text is None and e.old_text is None for e in events)


def test_embedding_read_back_as_float32_is_the_same_content(store: HybridStore) -> None:
    # 0.1 is not a float32: the stored copy differs from it by about 1e-8 relative,
    # and a tiny component may come back as a float32 subnormal (or 0): still the same.
    for embedding in ([0.1, 0.2, 0.3], [1.0, 0.0, 1e-44]):
        memory_id = str(uuid.uuid5(uuid.NAMESPACE_URL, repr(embedding)))
        for _ in range(2):
            store.add("same", embedding=embedding, user_id="alice", memory_id=memory_id)
        stored_id = scoped_id(Scope(user_id="alice"), memory_id)
        assert [e.kind for e in store.history(stored_id)] == ["ADD"], embedding


def test_a_nearby_embedding_is_new_content(store: HybridStore) -> None:
    store.add("same text", embedding=[1.0, 0.0], user_id="alice", memory_id=ID)
    store.add("same text", embedding=[0.9, 0.1], user_id="alice", memory_id=ID)
    assert [e.kind for e in store.history(AID)] == ["ADD", "UPDATE"]
    stored = store.get(AID)
    assert stored is not None and stored.embedding == pytest.approx([0.9, 0.1], rel=1e-6)


def test_a_half_memory_is_left_to_its_own_scope(store: HybridStore) -> None:
    # A crash left only alice's memory node (no vector): bob's same id is his own.
    store.add("alice's", embedding=[1.0, 0.0], user_id="alice", memory_id=ID)
    store._coordinator.vector.delete([AID])
    bob = store.add("bob's", embedding=[0.0, 1.0], user_id="bob", memory_id=ID)
    assert bob.id == BID
    assert raw.vector_ids(store) == {BID}
    assert raw.memory_node_ids(store) == {AID, BID}


def test_adding_a_half_memory_again_completes_it(store: HybridStore) -> None:
    # A crash left only the vector: the same add again writes the missing node.
    store.add("likes tea", embedding=[1.0, 0.0], user_id="alice", memory_id=ID)
    store._coordinator.graph.delete_memories([AID])
    assert raw.memory_node_ids(store) == set()
    again = store.add("likes tea", embedding=[1.0, 0.0], user_id="alice", memory_id=ID)
    assert again.id == AID
    assert raw.memory_node_ids(store) == raw.vector_ids(store) == {AID}
