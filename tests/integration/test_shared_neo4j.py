"""One Neo4j database shared by hybridmem, another application and a second
hybridmem store (issue 15): every operation of one store touches, counts and
shows only what that store wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, GraphDatabase

from hybridmem import HybridStore
from hybridmem.errors import ForeignDataError
from hybridmem.testing.builders import embedding
from hybridmem_neo4j.pytest_server import Neo4jServer

pytestmark = pytest.mark.neo4j

# The other application's graph, written the way an application would: its own
# label beside the generic Memory and Entity, and RELATES/MENTIONS of its own.
FOREIGN = """
CREATE (m:Memory:ForeignApp {id: 'f-mem', user_id: 'alice'})
WITH m
UNWIND range(1, 5) AS i
CREATE (e:Entity:ForeignApp {id: 'f-ent-' + i, name: 'Foreign ' + i})
CREATE (m)-[:MENTIONS]->(e)
WITH collect(e) AS es
WITH es[0] AS a, es[1] AS b
CREATE (a)-[:RELATES {id: 'f-rel', memory_id: 'no-such-memory', user_id: 'alice'}]->(b)
"""


def _foreign(driver: Driver) -> dict[str, Any]:
    """Everything the other application wrote, as it is now."""
    records = driver.execute_query(
        "MATCH (n:ForeignApp) RETURN labels(n) AS labels, properties(n) AS props"
    ).records
    relationships = driver.execute_query(
        "MATCH (a:ForeignApp)-[r]->(b:ForeignApp)"
        " RETURN a.id AS a, type(r) AS type, properties(r) AS props, b.id AS b"
    ).records
    return {
        "nodes": sorted((sorted(r["labels"]), sorted(r["props"].items())) for r in records),
        "relationships": sorted(
            (r["a"], r["type"], sorted(r["props"].items()), r["b"]) for r in relationships
        ),
    }


def _config(server: Neo4jServer, data_dir: Path, prefix: str) -> dict[str, Any]:
    graph = {**server.graph_config(), "label_prefix": prefix}
    return {"data_dir": str(data_dir), "graph": graph, "vector": {"provider": "kuzu"}}


def _add(store: HybridStore, text: str, user: str, *names: str) -> str:
    return store.add(
        text,
        embedding=embedding(text),
        user_id=user,
        entities=[{"name": name, "type": "city"} for name in names],
        relations=[{"source": names[0], "target": names[-1], "type": "near"}],
    ).id


def _snapshot(store: HybridStore, *users: str) -> dict[str, Any]:
    return {
        "stats": store.stats(),
        "entities": sorted(e.id for e in store.entities()),
        "relations": sorted(r.id for r in store.relations()),
        "memories": {u: sorted(m.id for m in store.get_all(user_id=u)) for u in users},
    }


@pytest.fixture
def driver(neo4j_server: Neo4jServer) -> Iterator[Driver]:
    with GraphDatabase.driver(
        neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password)
    ) as opened:
        opened.execute_query("MATCH (n:ForeignApp) DETACH DELETE n")
        yield opened
        opened.execute_query("MATCH (n:ForeignApp) DETACH DELETE n")


@pytest.fixture
def stores(neo4j_server: Neo4jServer, tmp_path: Path) -> Iterator[tuple[HybridStore, HybridStore]]:
    with (
        HybridStore(_config(neo4j_server, tmp_path / "a", "SharedA")) as mine,
        HybridStore(_config(neo4j_server, tmp_path / "b", "SharedB")) as other,
    ):
        mine.reset()
        other.reset()
        yield mine, other
        mine.reset()
        other.reset()


def test_one_store_touches_only_its_own_data_in_a_shared_database(
    driver: Driver, stores: tuple[HybridStore, HybridStore]
) -> None:
    mine, other = stores
    driver.execute_query(FOREIGN)
    foreign = _foreign(driver)
    assert len(foreign["nodes"]) == 6 and len(foreign["relationships"]) == 6
    # The other store holds the same user and the same entity names: same entity ids.
    _add(other, "alice lives in Lisbon", "alice", "Alice", "Lisbon")
    _add(other, "bob likes Paris", "bob", "Bob", "Paris")
    theirs = _snapshot(other, "alice", "bob")

    alice = _add(mine, "alice moved to Lisbon", "alice", "Alice", "Lisbon")
    porto = _add(mine, "alice visits Porto", "alice", "Alice", "Porto")
    bob = _add(mine, "bob likes Paris", "bob", "Bob", "Paris")

    stats = mine.stats()
    assert (stats["memory_nodes"], stats["entities"], stats["relations"]) == (3, 5, 3)
    assert sorted(e.name for e in mine.entities()) == ["Alice", "Bob", "Lisbon", "Paris", "Porto"]
    assert sorted(e.name for e in mine.entities(user_id="alice")) == ["Alice", "Lisbon", "Porto"]
    assert sorted(r.memory_id for r in mine.relations()) == sorted([alice, porto, bob])
    assert {r.source for r in mine.relations(user_id="alice")} == {"Alice"}
    report = mine.reconcile()
    assert report.found.total() == 0, report

    result = mine.delete_all(user_id="alice")
    assert (result.memories, result.memory_nodes, result.relations) == (2, 2, 2)
    assert result.orphan_entities == 3
    assert mine.delete(bob).memory_nodes == 1
    assert mine.stats()["memory_nodes"] == 0 and mine.entities() == []

    _add(mine, "carol in Rome", "carol", "Carol", "Rome")
    fixed = mine.reconcile(fix=True)
    assert fixed.found.total() == 0 and fixed.removed.total() == 0, fixed
    assert mine.reset()["memory_nodes"] == 1
    assert mine.stats()["entities"] == 0

    assert _foreign(driver) == foreign
    assert _snapshot(other, "alice", "bob") == theirs


def test_a_node_under_our_label_without_our_properties_is_named(
    driver: Driver, stores: tuple[HybridStore, HybridStore]
) -> None:
    mine, _ = stores
    _add(mine, "alice in Lisbon", "alice", "Alice", "Lisbon")
    driver.execute_query("CREATE (:SharedA_Entity:ForeignApp {id: 'intruder', user_id: 'alice'})")
    with pytest.raises(ForeignDataError, match="'intruder'") as caught:
        mine.entities(user_id="alice")
    assert "SharedA" in str(caught.value) and "type" in str(caught.value)
    driver.execute_query(
        "MATCH (a:SharedA_Entity {name: 'Alice'}), (b:SharedA_Entity {name: 'Lisbon'})"
        " CREATE (a)-[:SharedA_RELATES {id: 'odd-edge'}]->(b)"
    )
    with pytest.raises(ForeignDataError, match="'odd-edge'"):
        mine.relations()
    ghost = "00000000-0000-4000-8000-00000000beef"
    driver.execute_query("CREATE (:SharedA_Memory:ForeignApp {id: $id, user_id: 'zed'})", id=ghost)
    with pytest.raises(ForeignDataError, match=ghost):
        mine.delete(ghost)
    driver.execute_query("MATCH ()-[r {id: 'odd-edge'}]->() DELETE r")
