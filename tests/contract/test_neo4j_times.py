"""Neo4j keeps a memory's times as DateTimes, whichever way they travel to it.

add_memories sends them as ISO text converted in Cypher (cheaper than the
driver's packing of datetimes); what is stored must stay what a write with
datetime parameters stored, so stores written before read the same."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hybridmem.models import Scope
from hybridmem.testing.builders import memory_graph
from hybridmem_neo4j import Neo4jGraphStore
from hybridmem_neo4j.pytest_server import Neo4jServer

pytestmark = pytest.mark.neo4j

CREATED = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
UPDATED = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def neo4j_store(neo4j_server: Neo4jServer) -> Iterator[Neo4jGraphStore]:
    store = Neo4jGraphStore(neo4j_server.uri, neo4j_server.user, neo4j_server.password)
    store.reset()
    yield store
    store.close()


def test_times_are_stored_as_the_datetimes_a_parameter_write_stores(
    neo4j_store: Neo4jGraphStore,
) -> None:
    graph = memory_graph(
        "timed",
        Scope(user_id="alice"),
        (("Alice", "person"), ("tea", "drink")),
        (("Alice", "tea", "likes"),),
    )
    node = replace(graph.node, created_at=CREATED, updated_at=UPDATED)
    relation = replace(graph.relations[0], created_at=CREATED)
    neo4j_store.add_memories([replace(graph, node=node, relations=(relation,))])

    n = neo4j_store._n
    [row] = neo4j_store._driver.execute_query(
        f"MATCH (m:{n.memory} {{id: $id}})-[:{n.mentions}]->(:{n.entity})"
        f"-[r:{n.relates}]->() RETURN valueType(m.created_at), valueType(m.updated_at),"
        " valueType(r.created_at), m.created_at = $created, m.updated_at = $updated,"
        " r.created_at = $created, toString(m.created_at), toString(m.updated_at)",
        {"id": node.id, "created": CREATED, "updated": UPDATED},
    ).records
    assert list(row.values()) == [
        "ZONED DATETIME NOT NULL",
        "ZONED DATETIME NOT NULL",
        "ZONED DATETIME NOT NULL",
        True,
        True,
        True,
        "2024-02-29T23:59:58.123456Z",
        "2025-01-01T00:00:00Z",
    ]
    stored = neo4j_store.get_memory_node(node.id)
    assert stored is not None
    assert (stored.created_at, stored.updated_at) == (CREATED, UPDATED)
    [read] = [r.record for r in neo4j_store.relations() if r.record.id == relation.id]
    assert read.created_at == CREATED
