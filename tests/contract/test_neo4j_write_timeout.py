"""A process that stalls inside a graph write transaction does not block the
others for longer than ``write_timeout_seconds``: the server ends the stalled
transaction and frees its locks, and the stalled process gets a StoreError.

Before the timeout, a takeover or any write touching the same memory waited for
as long as the stalled process stalled (for ever, here)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from neo4j import ManagedTransaction

from hybridmem.errors import StoreError
from hybridmem.models import Scope
from hybridmem.testing.builders import memory_graph
from hybridmem_neo4j import Neo4jGraphStore
from hybridmem_neo4j.names import Names
from hybridmem_neo4j.pytest_server import Neo4jServer

pytestmark = pytest.mark.neo4j

PREFIX = "WriteTimeout"
#: A hang guard, far above the timeout: the test fails instead of hanging.
GUARD_SECONDS = 60.0


@pytest.fixture
def stores(neo4j_server: Neo4jServer) -> Iterator[tuple[Neo4jGraphStore, Neo4jGraphStore]]:
    args = (neo4j_server.uri, neo4j_server.user, neo4j_server.password)
    stalling = Neo4jGraphStore(*args, label_prefix=PREFIX, write_timeout=2.0)
    other = Neo4jGraphStore(*args, label_prefix=PREFIX)
    stalling.reset()
    yield stalling, other
    other.reset()
    stalling.close()
    other.close()


def test_a_stalled_write_transaction_frees_its_locks(
    stores: tuple[Neo4jGraphStore, Neo4jGraphStore],
) -> None:
    stalling, other = stores
    memory = memory_graph("m1", Scope(user_id="alice"))
    stalling.add_memories([memory])
    mid = memory.node.id
    locked, resume = threading.Event(), threading.Event()
    outcome: list[BaseException | None] = []

    def stall(tx: ManagedTransaction) -> None:
        tx.run(f"MATCH (m:{Names(PREFIX).memory} {{id: $id}}) SET m.note = 1", id=mid).consume()
        locked.set()
        resume.wait(GUARD_SECONDS)  # stalls past its timeout, holding m1's lock

    def stalled_writer() -> None:
        try:
            stalling._transaction(stall)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    writer = threading.Thread(target=stalled_writer)
    writer.start()
    try:
        assert locked.wait(GUARD_SECONDS)
        deleted: list[int] = []
        deleting = threading.Thread(
            target=lambda: deleted.append(other.delete_memories([mid]).memory_nodes)
        )
        deleting.start()
        deleting.join(GUARD_SECONDS)
        assert deleted == [1], "a write waiting for the stalled transaction's lock never ran"
    finally:
        resume.set()
        writer.join(GUARD_SECONDS)
    [error] = outcome
    assert isinstance(error, StoreError)
    assert other.existing_memory_ids([mid]) == set()
