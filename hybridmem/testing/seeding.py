"""Memories the crash, concurrency and outage tests erase or keep: shared
entities and relations, so an erasure has to leave what other memories use."""

from __future__ import annotations

from typing import Any

from hybridmem.store import HybridStore
from hybridmem.testing.builders import embedding


def victim_entity_names(index: int) -> list[str]:
    """The entities victim ``index`` mentions (its relation joins the two)."""
    return [f"E{index % 3}", "Paris"]


def seed_victims_and_keepers(store: HybridStore, victims: int, keepers: int) -> dict[str, str]:
    """``victims`` memories of user "victim" (agents a0/a1, entities E0-E2 each
    related to Paris) and ``keepers`` of user "keeper" (an entity Ki related to
    Paris each). Returns their ids by label: v0, v1, …, k0, k1, …"""
    ids = {}
    for i in range(victims):
        own, city = victim_entity_names(i)
        ids[f"v{i}"] = store.add(
            f"victim {i}",
            embedding=embedding(f"v{i}"),
            user_id="victim",
            agent_id=f"a{i % 2}",
            entities=[{"name": own, "type": "t"}, {"name": city, "type": "city"}],
            relations=[{"source": own, "target": city, "type": "near"}],
        ).id
    for i in range(keepers):
        ids[f"k{i}"] = store.add(
            f"keeper {i}",
            embedding=embedding(f"k{i}"),
            user_id="keeper",
            entities=[{"name": "Paris", "type": "city"}, {"name": f"K{i}", "type": "t"}],
            relations=[{"source": f"K{i}", "target": "Paris", "type": "near"}],
        ).id
    return ids


def add_with_shared_entity(
    store: HybridStore, text: str, embedding_key: str, entity: str, **scope: Any
) -> str:
    """One memory mentioning ``entity`` and "Shared", with a relation between them."""
    return store.add(
        text,
        embedding=embedding(embedding_key),
        entities=[{"name": entity, "type": "t"}, {"name": "Shared", "type": "t"}],
        relations=[{"source": entity, "target": "Shared", "type": "r"}],
        **scope,
    ).id


def seed_expired(store: HybridStore, count: int) -> set[str]:
    """``count`` memories of the victim that expired on arrival (as an import may
    carry them), sharing the seeded victims' 'Paris' entity; their ids."""
    return set(
        store.add_many(
            [
                {
                    "text": f"expired {i}",
                    "embedding": embedding(f"expired-{i}"),
                    "user_id": "victim",
                    "expires_at": "2020-01-01T00:00:00+00:00",
                    "entities": [{"name": "Paris", "type": "city"}],
                    "relations": [{"source": f"Expired{i}", "target": "Paris", "type": "near"}],
                }
                for i in range(count)
            ]
        ).ids
    )
