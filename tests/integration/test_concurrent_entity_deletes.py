"""Concurrent deletes of memories that share an entity leave no orphan entity.

Each delete checks whether the entities its memory mentioned are still used by
another memory. Two deletes that run at once must not each see the other's
memory and both keep the entity: the last one out removes it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding
from tests.integration import raw

MEMORIES = 24


ROUNDS = 6


def test_concurrent_deletes_sharing_an_entity_leave_no_orphan(store: HybridStore) -> None:
    keeper = store.add(
        "Lisbon, kept",
        embedding=embedding("keeper"),
        user_id="other",
        entities=[{"name": "Lisbon"}],
    )
    for _ in range(ROUNDS):
        _delete_concurrently(store)
        assert store.get(keeper.id) is not None


def _delete_concurrently(store: HybridStore) -> None:
    ids = [
        store.add(
            f"fact {index} about Lisbon",
            embedding=embedding(f"e{index}"),
            user_id="shared-entity",
            entities=[{"name": "Lisbon", "type": "city"}, {"name": f"own-{index}", "type": "x"}],
        ).id
        for index in range(MEMORIES)
    ]
    with ThreadPoolExecutor(max_workers=12) as pool:
        erased = sum(result.memories for result in pool.map(store.delete, ids))
    assert erased == MEMORIES
    # Read straight from the graph, not through reconcile(): the user's namespace
    # holds no entity any more, and the other user's Lisbon is untouched.
    left = raw.graph_rows(
        store, "MATCH (e:Entity) RETURN e.name, e.user_id ORDER BY e.user_id, e.name"
    )
    assert left == [["Lisbon", "other"]]
