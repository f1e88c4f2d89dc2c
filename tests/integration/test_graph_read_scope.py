"""Graph reads follow the caller's scope and skip what expired memories assert (issue 25, §3).

A search's graph context, an anchored search's graph ranking, ``get_all(entity=)``
and ``entities()`` / ``relations()`` / ``neighbors()`` on every adapter pair.
"""

from __future__ import annotations

from typing import Any

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding

PAST = "2020-01-01T00:00:00+00:00"
QUERY = embedding("query")


def _near(i: int) -> list[float]:
    """Vectors close to QUERY, the lower ``i`` the closer."""
    return [x + 0.001 * i for x in QUERY]


def _far(i: int) -> list[float]:
    """Vectors far from QUERY (its mirror), still distinct."""
    return [-x + 0.001 * i for x in QUERY]


def _lisbon(run_id: str, i: int, **extra: Any) -> dict[str, Any]:
    """A memory of alice's run mentioning Lisbon and asserting one relation of its own."""
    return {
        "text": f"{run_id} fact {i} about Lisbon",
        "embedding": _near(i),
        "user_id": "alice",
        "agent_id": f"agent-{run_id}",
        "run_id": run_id,
        "entities": [{"name": "Lisbon", "type": "city"}],
        "relations": [{"source": "Lisbon", "target": f"{run_id}-thing-{i}", "type": "has"}],
        **extra,
    }


def test_search_graph_context_holds_only_the_callers_runs_relations(store: HybridStore) -> None:
    store.add_many([_lisbon("r1", i) for i in range(4)] + [_lisbon("r2", i) for i in range(4)])
    mine = {m.id for m in store.get_all(user_id="alice", run_id="r1")}
    hits = store.search(QUERY, user_id="alice", run_id="r1", limit=4, graph=True)
    assert {h.memory.id for h in hits} == mine
    seen = [r for h in hits for r in h.relations]
    # Every hit mentions Lisbon, so every r1 relation is in each hit's context.
    assert len(seen) == 16
    assert {r.memory_id for r in seen} == mine
    assert {r.run_id for r in seen} == {"r1"}
    # Each hit's entities are its own: Lisbon and the thing it relates Lisbon to.
    assert {e.name for h in hits for e in h.entities} == {"Lisbon"} | {
        f"r1-thing-{i}" for i in range(4)
    }


def test_search_graph_context_of_an_agent_scope(store: HybridStore) -> None:
    store.add_many([_lisbon("r1", i) for i in range(3)] + [_lisbon("r2", i) for i in range(3)])
    hits = store.search(QUERY, user_id="alice", agent_id="agent-r2", limit=10, graph=True)
    assert {h.memory.agent_id for h in hits} == {"agent-r2"}
    assert {r.agent_id for h in hits for r in h.relations} == {"agent-r2"}
    # The whole user's search still sees both runs' relations.
    hits = store.search(QUERY, user_id="alice", limit=1, graph=True)
    assert {r.run_id for r in hits[0].relations} == {"r1", "r2"}


def test_search_graph_context_skips_relations_of_expired_memories(store: HybridStore) -> None:
    expired = set(store.add_many([_lisbon("old", i, expires_at=PAST) for i in range(3)]).ids)
    live = store.add_many([_lisbon("r1", 10 + i) for i in range(2)]).ids
    hits = store.search(QUERY, user_id="alice", limit=10, graph=True)
    assert {h.memory.id for h in hits} == set(live)
    seen = {r.memory_id for h in hits for r in h.relations}
    assert seen == set(live) and not seen & expired


def test_anchored_ranking_is_not_crowded_out_by_other_runs(store: HybridStore) -> None:
    """60 newer memories of another run mention the anchor: the caller's own one
    still ranks (the graph pool holds only memories the caller may see)."""
    [own] = store.add_many(
        [{**_lisbon("r1", 0), "embedding": _far(0), "entities": [{"name": "Anchor", "type": "t"}]}]
    ).ids
    store.add_many(
        [{**_lisbon("r1", 100 + i), "relations": []} for i in range(60)]
        + [
            {**_lisbon("r2", i), "entities": [{"name": "Anchor", "type": "t"}], "relations": []}
            for i in range(60)
        ]
    )
    hits = store.search(QUERY, user_id="alice", run_id="r1", limit=5, entities=["Anchor"])
    assert own in [h.memory.id for h in hits]
    assert {h.memory.run_id for h in hits} == {"r1"}


def test_anchored_ranking_is_not_crowded_out_by_expired_memories(store: HybridStore) -> None:
    [own] = store.add_many(
        [{**_lisbon("r1", 0), "embedding": _far(0), "entities": [{"name": "Anchor", "type": "t"}]}]
    ).ids
    store.add_many(
        [{**_lisbon("r1", 100 + i), "relations": []} for i in range(60)]
        + [
            {
                **_lisbon("r1", i),
                "entities": [{"name": "Anchor", "type": "t"}],
                "relations": [],
                "expires_at": PAST,
            }
            for i in range(60)
        ]
    )
    hits = store.search(QUERY, user_id="alice", limit=5, entities=["Anchor"])
    assert own in [h.memory.id for h in hits]


def _gone_and_shared(store: HybridStore) -> tuple[list[str], str]:
    expired = store.add_many(
        [
            {
                "text": f"expired {i}",
                "embedding": _near(i),
                "user_id": "alice",
                "expires_at": PAST,
                "entities": [{"name": "Gone", "type": "t"}, {"name": "Shared", "type": "t"}],
                "relations": [{"source": "Gone", "target": "Shared", "type": "old"}],
            }
            for i in range(3)
        ]
    ).ids
    live = store.add(
        "live",
        embedding=_near(10),
        user_id="alice",
        entities=[{"name": "Shared", "type": "t"}, {"name": "Kept", "type": "t"}],
        relations=[{"source": "Shared", "target": "Kept", "type": "new"}],
    ).id
    return expired, live


def test_entities_relations_neighbors_skip_what_only_expired_memories_assert(
    store: HybridStore,
) -> None:
    _, live = _gone_and_shared(store)
    assert sorted(e.name for e in store.entities(user_id="alice")) == ["Kept", "Shared"]
    assert sorted(e.name for e in store.entities()) == ["Kept", "Shared"]
    assert [(r.type, r.memory_id) for r in store.relations(user_id="alice")] == [("new", live)]
    assert [r.type for r in store.relations()] == ["new"]
    near = store.neighbors("Shared", user_id="alice", depth=2)
    assert [r.memory_id for r in near.relations] == [live]
    assert sorted(e.name for e in near.entities) == ["Kept", "Shared"]
    gone = store.neighbors("Gone", user_id="alice")
    assert gone.entities == [] and gone.relations == []
    assert store.get_all(user_id="alice", entity="Gone") == []
    # The purge then erases them from the stores too; the answers stay the same.
    store.purge_expired()
    assert sorted(e.name for e in store.entities(user_id="alice")) == ["Kept", "Shared"]
    assert [r.memory_id for r in store.relations(user_id="alice")] == [live]


def test_get_all_by_entity_follows_the_run_and_pages(store: HybridStore) -> None:
    mine = store.add_many([_lisbon("r1", i) for i in range(5)]).ids
    store.add_many([_lisbon("r2", i) for i in range(5)])
    newest_first = [m.id for m in store.get_all(user_id="alice", run_id="r1")]
    assert sorted(newest_first) == sorted(mine)
    found = store.get_all(user_id="alice", run_id="r1", entity="Lisbon")
    assert [m.id for m in found] == newest_first
    pages = [
        [
            m.id
            for m in store.get_all(
                user_id="alice", run_id="r1", entity="Lisbon", limit=2, offset=offset
            )
        ]
        for offset in (0, 2, 4)
    ]
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
