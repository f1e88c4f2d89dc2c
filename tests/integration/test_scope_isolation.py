"""Two users share an agent and a run: every read and erasure by a multi-part scope
sees exactly its own records, in both stores."""

from __future__ import annotations

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding
from tests.conftest import with_tenancy_pair
from tests.integration import raw

# Also on Weaviate with multi_tenancy = true: its erasures drop a tenant.
pair_config = with_tenancy_pair()


def test_parts_and_together_on_every_read_and_erasure(store: HybridStore) -> None:
    ids = {
        (user, agent, run): store.add(
            f"{user} {agent} {run}",
            embedding=embedding(f"{user}{agent}{run}"),
            user_id=user,
            agent_id=agent,
            run_id=run,
            entities=[{"name": "Shared", "type": "t"}],
            relations=[{"source": "Shared", "target": f"{user}-{agent}-{run}", "type": "r"}],
        ).id
        for user in ("alice", "bob")
        for agent in ("a1", "a2")
        for run in ("r1", "r2")
    }

    def expected(**scope: str) -> set[str]:
        parts = {"user_id": 0, "agent_id": 1, "run_id": 2}
        return {i for key, i in ids.items() if all(key[parts[k]] == v for k, v in scope.items())}

    for scope in (
        {"user_id": "alice", "agent_id": "a1"},
        {"agent_id": "a1", "run_id": "r2"},
        {"user_id": "bob", "run_id": "r1"},
        {"user_id": "alice", "agent_id": "a2", "run_id": "r1"},
    ):
        want = expected(**scope)
        assert {m.id for m in store.get_all(**scope)} == want, scope
        assert {h.memory.id for h in store.search(embedding("q"), **scope, limit=50)} == want
        assert {r.memory_id for r in store.relations(**scope)} == want, scope
        assert store.delete_all(**scope, dry_run=True).memories == len(want), scope

    erased = store.delete_all(user_id="alice", agent_id="a1")
    assert erased.memories == erased.vectors == erased.memory_nodes == 2
    left = set(ids.values()) - expected(user_id="alice", agent_id="a1")
    assert raw.vector_ids(store) == left
    assert raw.memory_node_ids(store) == left
    assert set(raw.relation_memory_ids(store).values()) == left
