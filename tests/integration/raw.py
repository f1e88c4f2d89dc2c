"""Plain queries straight at the stores, bypassing the adapters' own methods.

Tests use these as an independent witness: a check that went through
``reconcile()`` or ``iter_ids()`` would trust the very code under test.
"""

from __future__ import annotations

from typing import Any

from hybridmem import HybridStore


def graph_rows(store: HybridStore, query: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Rows of a Cypher query, on Kuzu (its connection) or Neo4j (its driver)."""
    graph: Any = store.graph
    if hasattr(graph, "_driver"):
        records = graph._driver.execute_query(
            query, params or {}, database_=graph._database
        ).records
        return [list(record.values()) for record in records]
    return list(graph._db.rows(query, params or {}))


def vector_ids(store: HybridStore) -> set[str]:
    """Every id in the vector store: Kuzu's Vec table, or Weaviate's collection."""
    vector: Any = store.vector
    if hasattr(vector, "_collection_name"):
        client = vector._client
        collection = client.collections.use(vector._collection_name)
        if not client.collections.exists(vector._collection_name):
            return set()
        return {str(obj.uuid) for obj in collection.iterator()}
    tables = {row[1] for row in vector._db.rows("CALL show_tables() RETURN *")}
    if "Vec" not in tables:
        return set()
    return {row[0] for row in vector._db.rows("MATCH (v:Vec) RETURN v.id")}


def memory_node_ids(store: HybridStore) -> set[str]:
    return {row[0] for row in graph_rows(store, "MATCH (m:Memory) RETURN m.id")}


def orphan_entity_ids(store: HybridStore) -> set[str]:
    """Entities with no MENTIONS and no RELATES edge."""
    rows = graph_rows(
        store,
        "MATCH (e:Entity) WHERE NOT EXISTS { MATCH (e)<-[:MENTIONS]-(:Memory) }"
        " AND NOT EXISTS { MATCH (e)-[:RELATES]-(:Entity) } RETURN e.id",
    )
    return {row[0] for row in rows}


def relation_memory_ids(store: HybridStore) -> dict[str, str]:
    """Relation id -> the memory id it carries."""
    rows = graph_rows(store, "MATCH (:Entity)-[r:RELATES]->(:Entity) RETURN r.id, r.memory_id")
    return {row[0]: row[1] for row in rows}


def detach_memory_node(store: HybridStore, memory_id: str) -> None:
    """Outside interference: remove a memory node and its edges, nothing else."""
    graph_rows(store, "MATCH (m:Memory {id: $id}) DETACH DELETE m", {"id": memory_id})
