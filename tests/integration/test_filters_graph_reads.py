"""Filters, paging and graph reads through HybridStore, on every adapter pair."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hybridmem import HybridStore
from hybridmem.errors import ValidationError
from hybridmem.testing.builders import embedding


def _seed(store: HybridStore) -> dict[str, str]:
    ids = {}
    ids["lisbon"] = store.add(
        "Alice lives in Lisbon with Sam",
        embedding=embedding("lisbon"),
        user_id="alice",
        agent_id="travel",
        metadata={"topic": "home", "priority": 2},
        entities=[{"name": "Alice", "type": "person"}, {"name": "Lisbon", "type": "city"}],
        relations=[
            {"source": "Alice", "target": "Lisbon", "type": "lives_in"},
            {"source": "Alice", "target": "Sam", "type": "partner_of"},
        ],
    ).id
    ids["marathon"] = store.add(
        "Alice trains for the Lisbon half marathon",
        embedding=embedding("marathon"),
        user_id="alice",
        agent_id="coach",
        metadata={"topic": "health", "priority": 5},
        entities=[{"name": "Lisbon", "type": "city"}, {"name": "Marathon", "type": "event"}],
        relations=[{"source": "Marathon", "target": "Lisbon", "type": "held_in"}],
    ).id
    ids["kyoto"] = store.add(
        "Alice plans a trip to Kyoto",
        embedding=embedding("kyoto"),
        user_id="alice",
        agent_id="travel",
        metadata={"topic": "travel", "priority": 3, "done": False},
        entities=[{"name": "Kyoto", "type": "city"}],
    ).id
    # bob's Lisbon is another namespace: never visible from alice's reads.
    ids["bob"] = store.add(
        "Bob also lives in Lisbon",
        embedding=embedding("lisbon"),
        user_id="bob",
        metadata={"topic": "home", "priority": 2},
        entities=[{"name": "Lisbon", "type": "city"}, {"name": "Bob", "type": "person"}],
        relations=[{"source": "Bob", "target": "Lisbon", "type": "lives_in"}],
    ).id
    return ids


def test_filters_and_paging_through_the_store(store: HybridStore) -> None:
    ids = _seed(store)
    home = store.get_all(user_id="alice", filters={"topic": "home"})
    assert [m.id for m in home] == [ids["lisbon"]]
    urgent = store.get_all(user_id="alice", filters={"priority": {"$gte": 3}})
    assert [m.id for m in urgent] == [ids["kyoto"], ids["marathon"]]
    not_done = store.get_all(user_id="alice", filters={"done": {"$ne": True}})
    assert len(not_done) == 3
    first = store.get_all(user_id="alice", limit=1)[0]
    since = store.get_all(
        user_id="alice", filters={"created_at": {"$gt": first.created_at - timedelta(0)}}
    )
    assert since == []
    pages = [m.id for o in (0, 1, 2, 3) for m in store.get_all(user_id="alice", limit=1, offset=o)]
    assert pages == [ids["kyoto"], ids["marathon"], ids["lisbon"]]
    hits = store.search(
        embedding("lisbon"), user_id="alice", limit=1, filters={"topic": {"$in": ["health"]}}
    )
    assert [h.memory.id for h in hits] == [ids["marathon"]]


def test_get_all_by_entity_stays_in_the_namespace(store: HybridStore) -> None:
    ids = _seed(store)
    assert [m.id for m in store.get_all(user_id="alice", entity="lisbon")] == [
        ids["marathon"],
        ids["lisbon"],
    ]
    assert [m.id for m in store.get_all(user_id="alice", agent_id="travel", entity="Lisbon")] == [
        ids["lisbon"]
    ]
    assert [m.id for m in store.get_all(user_id="bob", entity="Lisbon")] == [ids["bob"]]
    assert store.get_all(user_id="alice", entity="Nowhere") == []
    with pytest.raises(ValidationError, match="entity needs user_id"):
        store.get_all(agent_id="travel", entity="Lisbon")


def test_neighbors_by_depth(store: HybridStore) -> None:
    _seed(store)
    one = store.neighbors("Lisbon", user_id="alice")
    assert sorted(e.name for e in one.entities) == ["Alice", "Lisbon", "Marathon"]
    assert sorted(r.type for r in one.relations) == ["held_in", "lives_in"]
    two = store.neighbors("Lisbon", user_id="alice", depth=2)
    assert sorted(e.name for e in two.entities) == ["Alice", "Lisbon", "Marathon", "Sam"]
    assert {e.user_id for e in two.entities} == {"alice"}
    assert [r.type for r in store.neighbors("Lisbon", user_id="bob").relations] == ["lives_in"]
    assert len(store.neighbors("Lisbon", user_id="alice", depth=2, limit=1).relations) == 1
    with pytest.raises(ValidationError, match="depth"):
        store.neighbors("Lisbon", user_id="alice", depth=4)


def test_search_with_graph_context(store: HybridStore) -> None:
    ids = _seed(store)
    [hit] = store.search(embedding("marathon"), user_id="alice", limit=1, graph=True)
    assert hit.memory.id == ids["marathon"]
    assert sorted(e.name for e in hit.entities) == ["Lisbon", "Marathon"]
    # Its own relation and the 1-hop neighbourhood of what it mentions, in alice's namespace.
    assert sorted(r.type for r in hit.relations) == ["held_in", "lives_in"]
    assert {r.user_id for r in hit.relations} == {"alice"}


def test_search_anchored_on_entities_by_rank_fusion(store: HybridStore) -> None:
    ids = _seed(store)
    plain = store.search(embedding("kyoto"), user_id="alice", limit=3)
    assert plain[0].memory.id == ids["kyoto"]
    anchored = store.search(embedding("kyoto"), user_id="alice", limit=3, entities=["Marathon"])
    # The memory mentioning the anchor ranks first; the one mentioning its
    # neighbour (Lisbon) rises above a vector-only match of the same rank.
    assert anchored[0].memory.id == ids["marathon"]
    assert anchored[0].fused_score is not None
    assert {h.memory.id for h in anchored} == {ids["kyoto"], ids["marathon"], ids["lisbon"]}
    only = store.search(
        embedding("kyoto"),
        user_id="alice",
        limit=3,
        entities=["Marathon"],
        filters={"topic": {"$ne": "health"}},
    )
    assert ids["marathon"] not in {h.memory.id for h in only}


def test_offset_beyond_the_cap_is_refused(embedded: HybridStore) -> None:
    # Found by schemathesis: an offset past int64 reached Kuzu and failed there.
    with pytest.raises(ValidationError, match="invalid offset"):
        embedded.get_all(user_id="alice", offset=2644260548478784503808)
    with pytest.raises(ValidationError, match="invalid offset"):
        embedded.get_all(user_id="alice", offset=-1)
