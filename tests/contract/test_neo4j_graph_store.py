from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hybridmem.errors import StoreUnavailableError
from hybridmem.models import Scope
from hybridmem.records import MemoryGraph, graph_rows
from hybridmem.testing import GraphStoreContract
from hybridmem.testing.builders import memory_graph
from hybridmem_neo4j import Neo4jGraphStore
from hybridmem_neo4j.graph import relation_write
from hybridmem_neo4j.pytest_server import Neo4jServer

pytestmark = pytest.mark.neo4j


@pytest.fixture
def neo4j_store(neo4j_server: Neo4jServer) -> Iterator[Neo4jGraphStore]:
    store = Neo4jGraphStore(neo4j_server.uri, neo4j_server.user, neo4j_server.password)
    store.reset()
    yield store
    store.close()


class TestNeo4jGraphStore(GraphStoreContract):
    @pytest.fixture
    def graph_store(self, neo4j_store: Neo4jGraphStore) -> Iterator[Neo4jGraphStore]:
        yield neo4j_store


def test_scope_lookups_are_index_seeks(neo4j_store: Neo4jGraphStore) -> None:
    neo4j_store.add_memories([memory_graph("m1", Scope(user_id="alice", agent_id="a1"))])
    memory, relates = neo4j_store._n.memory, neo4j_store._n.relates
    for cypher in (
        f"EXPLAIN MATCH (m:{memory}) WHERE m.user_id = $user_id RETURN m.id",
        f"EXPLAIN MATCH (m:{memory}) WHERE m.run_id = $run_id RETURN m.id",
        f"EXPLAIN MATCH ()-[r:{relates}]->() WHERE r.memory_id IN $ids DELETE r",
    ):
        plan = neo4j_store._driver.execute_query(
            cypher, {"user_id": "x", "run_id": "x", "ids": ["x"]}
        ).summary.plan
        text = str(plan)
        assert "IndexSeek" in text, (cypher, text[:500])
        assert "AllNodesScan" not in text and "NodeByLabelScan" not in text


def _pair_memories(start: int, count: int) -> list[MemoryGraph]:
    """Memories that all relate the same two entities: a much-mentioned pair."""
    return [
        memory_graph(
            f"pair{i}",
            Scope(user_id="alice"),
            (("Alice", "person"), ("tea", "drink")),
            (("Alice", "tea", "likes"),),
        )
        for i in range(start, start + count)
    ]


def test_a_relation_write_does_not_walk_a_much_mentioned_pairs_edges(
    neo4j_store: Neo4jGraphStore,
) -> None:
    """Writing a relation between two entities that already share many edges finds
    an existing edge by its id (index seek), not by walking their edges: MERGE
    did, so each batch cost more as the store grew (quadratic over a load)."""
    neo4j_store.add_memories(_pair_memories(0, 400))
    rows = graph_rows(_pair_memories(400, 50)).relations
    with neo4j_store._driver.session() as session:
        tx = session.begin_transaction()
        try:
            summary = tx.run("PROFILE " + relation_write(neo4j_store._n), relations=rows).consume()
        finally:
            tx.rollback()
    assert summary.profile is not None
    hits: dict[str, int] = {}

    def walk(step: dict[str, Any]) -> None:
        name = step["operatorType"].split("@")[0]
        hits[name] = hits.get(name, 0) + int(step["args"].get("DbHits", 0))
        for child in step.get("children", []):
            walk(child)

    walk(summary.profile)
    assert "Expand(Into)" not in hits, hits
    assert "DirectedRelationshipIndexSeek" in hits, summary.profile["args"]["string-representation"]
    # 50 rows: a few hits each (an index seek), not the 400 existing edges each.
    assert sum(hits.values()) < 50 * 40, summary.profile["args"]["string-representation"]


def test_relation_writes_are_idempotent_and_keep_one_edge_per_row(
    neo4j_store: Neo4jGraphStore,
) -> None:
    memories = _pair_memories(0, 3)
    neo4j_store.add_memories(memories)
    neo4j_store.add_memories(memories)  # a batch written again (recovery, import)
    neo4j_store.add_memories([*memories[:1], *memories[:1]])  # a row twice in one batch
    assert neo4j_store.stats()["relations"] == 3
    ids = {r.id for m in memories for r in m.relations}
    found = neo4j_store.memory_relations([m.node.id for m in memories])
    assert sorted(r.record.id for rs in found.values() for r in rs) == sorted(ids)


def test_reset_deletes_relations_in_bounded_transactions_before_entities(
    neo4j_store: Neo4jGraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """reset() of a 1M store failed on Neo4j's transaction memory limit: detaching
    a thousand much-related entities at once deleted a million edges in one
    transaction. The relations now go first, a bounded number per transaction.
    (Community edition cannot lower the limit at run time to show the failure
    here: dbms.setConfigValue is Enterprise-only.)"""
    neo4j_store.add_memories(_pair_memories(0, 300))
    sent: list[str] = []
    through = neo4j_store._in_transactions

    def record(query: str, params: dict[str, Any]) -> Any:
        sent.append(query)
        return through(query, params)

    monkeypatch.setattr(neo4j_store, "_in_transactions", record)
    neo4j_store.reset()
    assert neo4j_store.stats() == {"memory_nodes": 0, "entities": 0, "relations": 0}
    relates = neo4j_store._n.relates
    assert f"[r:{relates}]" in sent[0] and "IN TRANSACTIONS OF" in sent[0], sent
    assert all("IN TRANSACTIONS OF" in query for query in sent), sent


def test_injection_strings_are_literal_ids(neo4j_store: Neo4jGraphStore) -> None:
    hostile = ["x' OR 1=1 //", "*", "}) DETACH DELETE n //", "$user_id", "`Memory`"]
    neo4j_store.add_memories(
        [memory_graph(f"h{i}", Scope(user_id=v)) for i, v in enumerate(hostile)]
    )
    neo4j_store.add_memories([memory_graph("keep", Scope(user_id="alice"))])
    for value in hostile:
        ids = neo4j_store.scope_memory_ids(Scope(user_id=value), 10)
        assert len(ids) == 1
        assert neo4j_store.delete_memories(ids).memory_nodes == 1
    assert neo4j_store.stats()["memory_nodes"] == 1


def test_unreachable_server_names_the_uri() -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        Neo4jGraphStore("bolt://127.0.0.1:1", "neo4j", "x", connection_timeout=1, retry_seconds=0)
    assert "Neo4j graph store" in str(caught.value) and "bolt://127.0.0.1:1" in str(caught.value)
