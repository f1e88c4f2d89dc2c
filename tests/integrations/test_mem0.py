"""mem0's open-source Memory on HybridMemVectorStore, through its `langchain` provider."""

from __future__ import annotations

from pathlib import Path

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from mem0 import Memory

from hybridmem import HybridStore
from langchain_hybridmem import HybridMemVectorStore
from tests.integrations.checks import assert_no_trace

EMBEDDINGS = DeterministicFakeEmbedding(size=16)


def test_mem0_add_search_delete_all(store: HybridStore, tmp_path: Path) -> None:
    vectorstore = HybridMemVectorStore(store, EMBEDDINGS, agent_id="mem0")
    memory = Memory.from_config(
        {
            "vector_store": {"provider": "langchain", "config": {"client": vectorstore}},
            "embedder": {"provider": "langchain", "config": {"model": EMBEDDINGS}},
            # infer=False never asks the model; mem0 still wants one configured.
            "llm": {"provider": "langchain", "config": {"model": FakeListChatModel(responses=[])}},
            "history_db_path": str(tmp_path / "mem0-history.db"),
        }
    )
    for text in ("Alice likes tea", "Alice lives in Lisbon"):
        memory.add(text, user_id="alice", infer=False)
    memory.add("Bob likes coffee", user_id="bob", infer=False)
    assert store.stats()["vectors"] == 3

    hits = memory.search("Alice likes tea", filters={"user_id": "alice"})["results"]
    assert hits[0]["memory"] == "Alice likes tea"
    assert {h["user_id"] for h in hits} == {"alice"}
    listed = memory.get_all(filters={"user_id": "alice"})["results"]
    assert sorted(m["memory"] for m in listed) == ["Alice likes tea", "Alice lives in Lisbon"]

    assert memory.delete_all(user_id="alice")["message"] == "Memories deleted successfully!"
    assert memory.get_all(filters={"user_id": "alice"})["results"] == []
    assert [m["memory"] for m in memory.get_all(filters={"user_id": "bob"})["results"]] == [
        "Bob likes coffee"
    ]
    assert_no_trace(store, left=1)
