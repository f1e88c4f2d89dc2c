"""Seeding and exact-equality checks shared by the migration tests (integration, crash)."""

from __future__ import annotations

from typing import Any

import pytest

from hybridmem import HybridStore, Scope
from hybridmem.records import VectorRecord
from hybridmem.testing.builders import embedding

#: Shared entities across memories (Paris, under two spellings), a relation
#: endpoint nobody listed (Tokyo), nested metadata with unicode.
RICH_METADATA = {"source": "chat", "n": 3, "nested": {"ok": [1, 2.5, None, True]}, "ü": "✓"}


def seed_varied(store: HybridStore, *, bulk: int = 8) -> dict[str, str]:
    """Memories of several scopes and shapes; their ids by label."""
    ids = {
        "rich": store.add(
            "Zoë visits Paris",
            embedding=embedding("rich"),
            user_id="alice",
            agent_id="a1",
            run_id="r1",
            metadata=RICH_METADATA,
            entities=[{"name": "Paris", "type": "city"}, {"name": "Zoë", "type": "person"}],
            relations=[
                {"source": "Zoë", "target": "Paris", "type": "visits"},
                {"source": "Zoë", "target": "Tokyo", "type": "plans"},
            ],
        ).id,
        "shared": store.add(
            "paris again",
            embedding=embedding("shared"),
            user_id="alice",
            agent_id="a2",
            run_id="r2",
            entities=[{"name": "PARIS", "type": "city"}],
            relations=[{"source": "paris", "target": "Zoë", "type": "home_of"}],
        ).id,
        "updated": store.add("alice plain", embedding=embedding("plain"), user_id="alice").id,
        "bob": store.add(
            "bob secret note",
            embedding=embedding("bob"),
            user_id="bob",
            entities=[{"name": "Paris", "type": "city"}],
            relations=[{"source": "Bob", "target": "Lisbon", "type": "lives_in"}],
        ).id,
        "agent_only": store.add("agent-only note", embedding=embedding("ag"), agent_id="a9").id,
    }
    store.update(ids["updated"], text="alice plain (edited)", metadata={"v": 2})
    result = store.add_many(
        [
            {
                "text": f"bulk {i}",
                "embedding": embedding(f"bulk-{i}"),
                "user_id": "alice" if i % 2 else "carol",
                "run_id": f"run{i % 3}",
                "metadata": {"i": i},
                "entities": [
                    {"name": f"Topic{i % 3}", "type": "t"},
                    {"name": "Paris", "type": "city"},
                ],
                "relations": [{"source": f"Topic{i % 3}", "target": "Paris", "type": "in"}],
            }
            for i in range(bulk)
        ],
        batch_size=3,
    )
    ids.update({f"bulk{i}": memory_id for i, memory_id in enumerate(result.ids)})
    return ids


def records_in(store: HybridStore, scope: Scope) -> dict[str, VectorRecord]:
    """Every vector record of the scope, read through the whole store's ids."""
    return {
        r.id: r
        for ids in store.vector.iter_ids(100)
        for r in store.vector.get(ids)
        if scope.matches(r.scope)
    }


def _graph(store: HybridStore, ids: list[str]) -> dict[str, Any]:
    entities = store.graph.memory_entities(ids)
    relations = store.graph.memory_relations(ids)
    return {
        memory_id: (
            sorted((e.id, e.name, e.type, e.user_id or "") for e in entities[memory_id]),
            sorted(
                (r.id, r.type, r.source_id, r.target_id, r.memory_id, r.created_at)
                for r, _, _ in relations[memory_id]
            ),
        )
        for memory_id in ids
    }


def assert_same_memories(source: HybridStore, destination: HybridStore, scope: Scope) -> None:
    """The destination holds exactly the source's memories of ``scope``: ids, texts,
    embeddings (float32 tolerance), scopes, metadata, timestamps, entity and
    relation ids."""
    ours, theirs = records_in(source, scope), records_in(destination, scope)
    assert set(theirs) == set(ours)
    for memory_id, record in ours.items():
        copy = theirs[memory_id]
        assert (copy.text, copy.hash, copy.scope, copy.metadata) == (
            record.text,
            record.hash,
            record.scope,
            record.metadata,
        )
        assert copy.embedding == pytest.approx(record.embedding, rel=1e-6, abs=1e-7)
        assert (copy.created_at, copy.updated_at) == (record.created_at, record.updated_at)
    ids = sorted(ours)
    assert _graph(destination, ids) == _graph(source, ids)
    assert destination.graph.existing_memory_ids(ids) == set(ids)
