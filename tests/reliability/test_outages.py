"""Servers going away in the middle of long erasures and long runs of adds.

The caller gets a clear error naming the store and its address, the journal
holds the operation, and recover() after the restart completes it (an erasure)
or rolls it back (an add), with no half-memory and nothing outside the scope
lost. Runs on throwaway Neo4j and Weaviate servers of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore, Scope, StoreUnavailableError
from hybridmem_neo4j.pytest_server import native as neo4j_native
from hybridmem_weaviate.pytest_server import native as weaviate_native
from tests.integration.checks import (
    assert_history_consistent,
    assert_no_half_memory_or_orphan,
    assert_scope_empty,
    snapshot,
)
from tests.integration.seeding import add_with_shared_entity
from tests.reliability import tally

pytestmark = [pytest.mark.neo4j, pytest.mark.weaviate, pytest.mark.slow]


@dataclass
class Servers:
    neo4j: Any
    weaviate: Any

    def config(self, data_dir: Path, collection: str) -> dict[str, Any]:
        return {
            "data_dir": str(data_dir),
            "batch_size": 5,
            "graph": {
                "provider": "neo4j",
                "uri": self.neo4j.uri,
                "user": "neo4j",
                "password": self.neo4j.password,
                "connection_timeout": 2,
                "retry_seconds": 1,
            },
            "vector": {
                "provider": "weaviate",
                "host": self.weaviate.host,
                "http_port": self.weaviate.http_port,
                "grpc_port": self.weaviate.grpc_port,
                "collection": collection,
                "timeout_seconds": 2,
            },
        }

    def ensure_up(self) -> None:
        for server in (self.neo4j, self.weaviate):
            if server.process is None or server.process.poll() is not None:
                server.start()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    neo4j = neo4j_native().start(tmp_path_factory.mktemp("outage-neo4j"))
    try:
        weaviate = weaviate_native().start(tmp_path_factory.mktemp("outage-weaviate"))
        try:
            yield Servers(neo4j, weaviate)
        finally:
            weaviate.stop()
    finally:
        neo4j.stop()


@dataclass
class Trigger:
    """Fires ``action`` the n-th time the coordinator reaches ``point``."""

    point: str = ""
    nth: int = 0
    action: Callable[[], None] = lambda: None
    seen: int = field(default=0)

    def arm(self, point: str, nth: int, action: Callable[[], None]) -> None:
        self.point, self.nth, self.action, self.seen = point, nth, action, 0

    def __call__(self, reached: str) -> None:
        if reached == self.point:
            self.seen += 1
            if self.seen == self.nth:
                self.point = ""
                self.action()


def _add(store: HybridStore, user_id: str, label: str) -> str:
    return add_with_shared_entity(
        store, f"{user_id} {label}", f"{user_id}-{label}", f"E{len(label) % 3}", user_id=user_id
    )


def _assert_names(
    error: pytest.ExceptionInfo[StoreUnavailableError], store: str, where: str
) -> None:
    assert store in str(error.value) and where in str(error.value), str(error.value)


def test_graph_then_vector_server_down_during_a_long_delete_all(
    servers: Servers, tmp_path: Path
) -> None:
    servers.ensure_up()
    trigger = Trigger()
    with HybridStore(
        servers.config(tmp_path / "d", "OutageLongErase"), fault_hook=trigger
    ) as store:
        store.reset()
        victims = [_add(store, "victim", f"m{i}") for i in range(40)]
        keepers = [_add(store, "keeper", f"m{i}") for i in range(5)]

        # The graph server stops in the third batch of the erasure (noted; its
        # graph delete meets the stopped server, its vector delete runs beside)...
        trigger.arm("delete_all.batch_fetched", 3, servers.neo4j.stop)
        with pytest.raises(StoreUnavailableError) as graph_down:
            store.delete_all(user_id="victim")
        _assert_names(graph_down, "Neo4j graph store", servers.neo4j.uri)
        # Back up first: the shared journal lives in the graph server that was down.
        servers.neo4j.start()
        [pending] = store.journal.pending()
        assert pending.kind == "delete_all"

        # ...and the vector server dies while recover() resumes it.
        trigger.arm("delete_all.batch_fetched", 2, servers.weaviate.kill)
        with pytest.raises(StoreUnavailableError) as vector_down:
            store.recover()
        _assert_names(vector_down, "Weaviate vector store", str(servers.weaviate.http_port))
        assert [op.id for op in store.journal.pending()] == [pending.id]
        servers.weaviate.start()

        [recovered] = store.recover()
        assert recovered.operation_id == pending.id and recovered.outcome == "completed"
        info = store.operation(pending.id)
        assert info is not None and info.state == "done" and info.counts["memories"] == 40
        assert_scope_empty(store, Scope(user_id="victim"))
        assert set(keepers) <= snapshot(store).vector_ids
        assert_no_half_memory_or_orphan(store)
        assert_history_consistent(store, victims + keepers)
        tally.count("outages survived", 2)


@pytest.mark.parametrize(
    ("store_name", "point"),
    [("Neo4j graph store", "add.vector_written"), ("Weaviate vector store", "add.journaled")],
    ids=["graph-down", "vector-down"],
)
def test_server_down_during_a_long_run_of_adds(
    servers: Servers, tmp_path: Path, store_name: str, point: str
) -> None:
    servers.ensure_up()
    trigger = Trigger()
    is_graph = store_name.startswith("Neo4j")
    server = servers.neo4j if is_graph else servers.weaviate
    with HybridStore(
        servers.config(tmp_path / "d", f"OutageAdds{'G' if is_graph else 'V'}"), fault_hook=trigger
    ) as store:
        store.reset()
        keepers = [_add(store, "keeper", f"m{i}") for i in range(3)]
        trigger.arm(point, 12, server.stop if is_graph else server.kill)
        added: list[str] = []
        with pytest.raises(StoreUnavailableError) as down:
            for i in range(30):
                added.append(_add(store, "bulk", f"m{i}"))
        _assert_names(down, store_name, str(server.uri if is_graph else server.http_port))
        assert len(added) == 11
        server.start()  # first: the shared journal lives in the graph server
        [pending] = store.journal.pending()
        assert pending.kind == "add"

        [recovered] = store.recover()
        assert recovered.outcome == "rolled_back"
        # The interrupted add is gone from both stores; the others are whole.
        assert pending.memory_id not in snapshot(store).vector_ids
        added += [_add(store, "bulk", f"m{i}") for i in range(11, 30)]
        assert {m.id for m in store.get_all(user_id="bulk")} == set(added)
        assert set(keepers) <= snapshot(store).vector_ids
        assert_no_half_memory_or_orphan(store)
        assert_history_consistent(store, [*added, *keepers, pending.memory_id or ""])
        tally.count("outages survived")
