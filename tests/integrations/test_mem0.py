"""mem0's open-source Memory on hybridmem, through mem0's `langchain` provider with
HybridMemMem0VectorStore: mem0's users are hybridmem's scopes, scores are real, and
one erasure clears both stores and mem0's history database. Offline: infer=False
and a local embedder, so no model is asked anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from mem0 import Memory

from hybridmem import HybridStore
from langchain_hybridmem import HybridMemMem0VectorStore
from langchain_hybridmem.mem0_erasure import erase_mem0_scope
from tests.integrations.checks import assert_no_trace

EMBEDDINGS = DeterministicFakeEmbedding(size=16)


def _mem0(store: HybridStore, tmp_path: Path) -> tuple[Memory, HybridMemMem0VectorStore]:
    vectorstore = HybridMemMem0VectorStore(store, EMBEDDINGS)
    memory = Memory.from_config(
        {
            "vector_store": {"provider": "langchain", "config": {"client": vectorstore}},
            "embedder": {"provider": "langchain", "config": {"model": EMBEDDINGS}},
            # infer=False never asks the model; mem0 still wants one configured.
            "llm": {"provider": "langchain", "config": {"model": FakeListChatModel(responses=[])}},
            "history_db_path": str(tmp_path / "mem0-history.db"),
        }
    )
    return memory, vectorstore


def _texts(results: dict[str, Any]) -> list[str]:
    return sorted(m["memory"] for m in results["results"])


def _history_texts(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "mem0-history.db") as db:
        rows = db.execute("SELECT old_memory, new_memory FROM history").fetchall()
    return sorted(t for row in rows for t in row if t)


def test_mem0_users_are_hybridmem_scopes(store: HybridStore, tmp_path: Path) -> None:
    memory, _ = _mem0(store, tmp_path)
    for text in ("Alice likes tea", "Alice lives in Lisbon"):
        memory.add(text, user_id="alice", infer=False)
    memory.add("Alice's agent note", user_id="alice", agent_id="planner", infer=False)
    memory.add("Bob likes coffee", user_id="bob", infer=False)
    assert sorted(m.text for m in store.get_all(user_id="alice")) == sorted(
        ["Alice likes tea", "Alice lives in Lisbon", "Alice's agent note"]
    )
    assert [m.agent_id for m in store.get_all(agent_id="planner")] == ["planner"]

    hits = memory.search("Alice likes tea", filters={"user_id": "alice"})["results"]
    assert hits[0]["memory"] == "Alice likes tea"
    assert {h["user_id"] for h in hits} == {"alice"}
    assert _texts(memory.get_all(filters={"user_id": "bob"})) == ["Bob likes coffee"]

    # hybridmem's erasure of alice is mem0's too: both stores, nothing left.
    store.delete_all(user_id="alice")
    assert memory.get_all(filters={"user_id": "alice"})["results"] == []
    assert memory.search("Alice", filters={"user_id": "alice"})["results"] == []
    assert _texts(memory.get_all(filters={"user_id": "bob"})) == ["Bob likes coffee"]
    assert_no_trace(store, left=1)


def test_scores_are_similarities_so_threshold_works(store: HybridStore, tmp_path: Path) -> None:
    memory, _ = _mem0(store, tmp_path)
    for text in ("Alice likes tea", "Alice lives in Lisbon", "Quarterly report"):
        memory.add(text, user_id="alice", infer=False)
    hits = memory.search("Alice likes tea", filters={"user_id": "alice"}, threshold=0.0)
    scores = {h["memory"]: h["score"] for h in hits["results"]}
    assert scores["Alice likes tea"] == pytest.approx(1.0)
    assert len(set(scores.values())) == len(scores), scores  # not all 1.0
    strict = memory.search("Alice likes tea", filters={"user_id": "alice"}, threshold=0.99)
    assert [h["memory"] for h in strict["results"]] == ["Alice likes tea"]


def test_mem0_get_update_delete_by_id(store: HybridStore, tmp_path: Path) -> None:
    memory, _ = _mem0(store, tmp_path)
    [added] = memory.add("Alice likes tea", user_id="alice", infer=False)["results"]
    assert memory.get(added["id"])["memory"] == "Alice likes tea"
    memory.update(added["id"], "Alice likes green tea")
    assert memory.get(added["id"])["memory"] == "Alice likes green tea"
    memory.delete(added["id"])
    assert memory.get(added["id"]) is None
    assert memory.get_all(filters={"user_id": "alice"})["results"] == []


def test_one_erasure_clears_mem0_history_too(store: HybridStore, tmp_path: Path) -> None:
    memory, vectorstore = _mem0(store, tmp_path)
    [kept] = memory.add("Alice likes tea", user_id="alice", infer=False)["results"]
    [gone] = memory.add("Alice's old address", user_id="alice", infer=False)["results"]
    memory.add("Bob likes coffee", user_id="bob", infer=False)
    memory.update(kept["id"], "Alice likes green tea")
    memory.delete(gone["id"])
    # mem0's own delete keeps the erased text in its history database.
    assert "Alice's old address" in _history_texts(tmp_path)

    result = erase_mem0_scope(memory, vectorstore, user_id="alice")
    assert result["message"] == "Memories deleted successfully!"
    assert _history_texts(tmp_path) == ["Bob likes coffee"]
    assert memory.history(kept["id"]) == []
    assert memory.get_all(filters={"user_id": "alice"})["results"] == []
    assert _texts(memory.get_all(filters={"user_id": "bob"})) == ["Bob likes coffee"]
    assert_no_trace(store, left=1)


def test_mem0_delete_all_erases_only_that_user(store: HybridStore, tmp_path: Path) -> None:
    memory, _ = _mem0(store, tmp_path)
    memory.add("Alice likes tea", user_id="alice", infer=False)
    memory.add("Bob likes coffee", user_id="bob", infer=False)
    assert memory.delete_all(user_id="alice")["message"] == "Memories deleted successfully!"
    assert memory.get_all(filters={"user_id": "alice"})["results"] == []
    assert _texts(memory.get_all(filters={"user_id": "bob"})) == ["Bob likes coffee"]
    # Alice's tombstone stays until her scope is erased; nothing else does.
    assert [m.text for m in store.get_all(user_id="alice")] == ["(deleted mem0 memory)"]
