from __future__ import annotations

from collections.abc import Iterator

import pytest

from hybridmem.errors import StoreUnavailableError
from hybridmem.models import Scope
from hybridmem.testing import GraphStoreContract
from hybridmem.testing.builders import memory_graph
from hybridmem_neo4j import Neo4jGraphStore
from tests.servers.neo4j import Neo4jServer

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
