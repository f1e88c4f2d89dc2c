"""Emptying a store's shared coordination state in Neo4j between tests.

``HybridStore.reset()`` erases history texts and expiry rows but keeps the
nodes (operations, history events, owners, claims, counters): the pair fixtures
empty them too, or one test's pending operations and history leak into the next.
"""

from __future__ import annotations

from typing import Any

from neo4j import GraphDatabase

from hybridmem_neo4j.names import Names
from hybridmem_neo4j.shared_names import SharedNames


def shared_labels(prefix: str) -> tuple[str, ...]:
    names = SharedNames(Names(prefix))
    return (
        names.operation,
        names.history,
        names.expiry,
        names.owner,
        names.claim,
        names.counter,
        names.registry,
        names.meta,
        names.move,
    )


def wipe_shared_state(graph: dict[str, Any], prefix: str) -> None:
    """Start from an empty shared journal under ``prefix`` (no store may be open)."""
    auth = (graph["user"], graph["password"])
    with (
        GraphDatabase.driver(graph["uri"], auth=auth) as driver,
        driver.session(database=graph["database"]) as session,
    ):
        for label in shared_labels(prefix):
            session.run(f"MATCH (n:{label}) DETACH DELETE n").consume()


def pending_erasures(graph: dict[str, Any], prefix: str, user_id: str) -> int:
    """The pending delete_all operations of exactly ``user_id``'s scope, whoever owns
    them (``pending()`` answers only those this process may take over)."""
    label = SharedNames(Names(prefix)).operation
    auth = (graph["user"], graph["password"])
    query = (
        f"MATCH (o:{label}) WHERE o.state = 'pending' AND o.kind = 'delete_all'"
        " AND o.user_id = $user AND o.agent_id IS NULL AND o.run_id IS NULL"
        " RETURN count(o)"
    )
    with (
        GraphDatabase.driver(graph["uri"], auth=auth) as driver,
        driver.session(database=graph["database"]) as session,
    ):
        return int(session.run(query, user=user_id).single(strict=True)[0])
