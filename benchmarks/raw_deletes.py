"""The floors of the erasure benchmarks: each store's own delete, with none of
hybridmem's journal, claims or orphan handling (delete_scope.py, scale.py).
Each returns seconds, or None where the pair has no such store."""

from __future__ import annotations

import time
from typing import Any


def raw_graph_delete(config: dict[str, Any], user_id: str) -> float | None:
    """One Cypher DETACH DELETE of the scope's memory nodes (Neo4j only)."""
    graph = config["graph"]
    if graph["provider"] != "neo4j":
        return None
    from neo4j import GraphDatabase

    from hybridmem_neo4j.names import DEFAULT_LABEL_PREFIX

    with GraphDatabase.driver(graph["uri"], auth=(graph["user"], graph["password"])) as driver:
        label = f"`{graph.get('label_prefix', DEFAULT_LABEL_PREFIX)}_Memory`"
        started = time.perf_counter()
        driver.execute_query(f"MATCH (m:{label} {{user_id: $u}}) DETACH DELETE m", u=user_id)
        return time.perf_counter() - started


def raw_vector_delete(config: dict[str, Any], user_id: str) -> float | None:
    """Weaviate delete_many by the scope filter, repeated until nothing matches."""
    vector = config["vector"]
    if vector["provider"] != "weaviate":
        return None
    import weaviate
    from weaviate.classes.query import Filter

    from hybridmem_weaviate.vector import scope_key

    client = weaviate.connect_to_local(
        host=vector["host"], port=vector["http_port"], grpc_port=vector["grpc_port"]
    )
    try:
        collection = client.collections.use(vector["collection"])
        where = Filter.by_property("user_key").equal(scope_key(user_id))
        started = time.perf_counter()
        while collection.data.delete_many(where=where).successful:
            pass
        return time.perf_counter() - started
    finally:
        client.close()


def raw_delete_by_ids(config: dict[str, Any], ids: list[str]) -> float | None:
    """The floor of a purge on the server pair: Cypher DETACH DELETE of the ids,
    then Weaviate delete_many by id (1,000 a call); seconds."""
    graph, vector = config["graph"], config["vector"]
    if graph["provider"] != "neo4j" or vector["provider"] != "weaviate":
        return None
    import weaviate
    from neo4j import GraphDatabase
    from weaviate.classes.query import Filter

    from hybridmem_neo4j.names import DEFAULT_LABEL_PREFIX

    label = f"`{graph.get('label_prefix', DEFAULT_LABEL_PREFIX)}_Memory`"
    client = weaviate.connect_to_local(
        host=vector["host"], port=vector["http_port"], grpc_port=vector["grpc_port"]
    )
    try:
        with GraphDatabase.driver(graph["uri"], auth=(graph["user"], graph["password"])) as db:
            started = time.perf_counter()
            db.execute_query(f"MATCH (m:{label}) WHERE m.id IN $ids DETACH DELETE m", ids=ids)
            collection = client.collections.use(vector["collection"])
            for at in range(0, len(ids), 1000):
                collection.data.delete_many(where=Filter.by_id().contains_any(ids[at : at + 1000]))
            return time.perf_counter() - started
    finally:
        client.close()
