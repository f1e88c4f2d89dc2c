"""A server that goes away mid-erasure: a clear error naming the store, the
operation pending in the journal, and recover() after the restart finishes it
with nothing outside the scope lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore, Scope, StoreUnavailableError
from hybridmem_neo4j.pytest_server import Neo4jServer
from hybridmem_neo4j.pytest_server import native as neo4j_native
from hybridmem_weaviate.pytest_server import WeaviateServer
from hybridmem_weaviate.pytest_server import native as weaviate_native
from tests.integration.checks import assert_no_half_memory_or_orphan, assert_scope_empty
from tests.integration.seeding import seed_victims_and_keepers


@dataclass
class Outage:
    """One throwaway server, how to take it down and bring it back, and the
    config of a store pair that uses it."""

    store_name: str
    address: str
    config: dict[str, Any]
    #: The coordinator step at which the server goes down (second batch).
    point: str
    down: Callable[[], None]
    up: Callable[[], None]
    stop: Callable[[], None]


def _neo4j(tmp_path: Path) -> Outage:
    server = neo4j_native().start(tmp_path / "neo4j-home")
    graph = {
        "provider": "neo4j",
        "uri": server.uri,
        "user": "neo4j",
        "password": server.password,
        "connection_timeout": 2,
        "retry_seconds": 1,
    }
    return Outage(
        "Neo4j graph store",
        server.uri,
        {"graph": graph, "vector": {"provider": "kuzu"}},
        # The batch is noted; its graph delete meets a stopped server (its vector
        # delete runs at the same time, on the vector store that is up).
        "delete_all.batch_fetched",
        server.stop,
        server.start,
        server.stop,
    )


def _weaviate(tmp_path: Path) -> Outage:
    server = weaviate_native().start(tmp_path / "weaviate-data")
    vector = {
        "provider": "weaviate",
        "host": server.host,
        "http_port": server.http_port,
        "grpc_port": server.grpc_port,
        "collection": "Outage",
        "timeout_seconds": 2,
    }
    return Outage(
        "Weaviate vector store",
        f"http://{server.host}:{server.http_port}",
        {"graph": {"provider": "kuzu"}, "vector": vector},
        # The batch's ids are fetched; the vector delete meets a killed server.
        "delete_all.batch_fetched",
        server.kill,
        server.start,
        server.stop,
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(_neo4j, id="neo4j-stopped", marks=pytest.mark.neo4j),
        pytest.param(_weaviate, id="weaviate-killed", marks=pytest.mark.weaviate),
    ],
)
def test_server_down_mid_delete_all_then_recover(
    make: Callable[[Path], Outage], tmp_path: Path
) -> None:
    outage = make(tmp_path)
    try:
        config = {**outage.config, "data_dir": str(tmp_path / "data"), "batch_size": 5}
        reached = 0

        def take_server_down_in_second_batch(point: str) -> None:
            nonlocal reached
            if point == outage.point:
                reached += 1
                if reached == 2:
                    outage.down()

        with HybridStore(config, fault_hook=take_server_down_in_second_batch) as store:
            ids = seed_victims_and_keepers(store, 20, 3)
            keepers = [ids[f"k{i}"] for i in range(3)]
            with pytest.raises(StoreUnavailableError) as caught:
                store.delete_all(user_id="victim")
            assert outage.store_name in str(caught.value)
            assert outage.address in str(caught.value)
            # Back up first: a shared journal lives in the graph server that was down.
            outage.up()
            [pending] = store.journal.pending()
            assert pending.kind == "delete_all" and pending.counts["memories"] == 5
            [recovered] = store.recover()
            assert recovered.operation_id == pending.id and recovered.outcome == "completed"
            assert_scope_empty(store, Scope(user_id="victim"))
            assert all(store.get(k) is not None for k in keepers)
            info = store.operation(pending.id)
            assert info is not None and info.state == "done" and info.counts["memories"] == 20
            assert_no_half_memory_or_orphan(store)
    finally:
        outage.stop()


@pytest.mark.neo4j
@pytest.mark.weaviate
def test_swapping_adapters_is_a_config_change(
    tmp_path: Path,
    neo4j_server: Neo4jServer,
    weaviate_server: WeaviateServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same code runs on every pair; only a TOML file (graph) and environment
    variables (vector) change."""
    graph_sections = {
        "kuzu": "",
        "neo4j": f'uri = "{neo4j_server.uri}"\nuser = "{neo4j_server.user}"\n'
        f'password = "{neo4j_server.password}"\n',
    }
    vector_env = {
        "kuzu": {},
        "weaviate": {
            "HYBRIDMEM_VECTOR__HOST": weaviate_server.host,
            "HYBRIDMEM_VECTOR__HTTP_PORT": str(weaviate_server.http_port),
            "HYBRIDMEM_VECTOR__GRPC_PORT": str(weaviate_server.grpc_port),
            "HYBRIDMEM_VECTOR__COLLECTION": "ConfigSwap",
        },
    }
    graph_class = {"kuzu": "KuzuGraphStore", "neo4j": "SharedNeo4jGraphStore"}
    vector_class = {"kuzu": "KuzuVectorStore", "weaviate": "WeaviateVectorStore"}
    for graph in ("kuzu", "neo4j"):
        for vector in ("kuzu", "weaviate"):
            toml = tmp_path / f"{graph}-{vector}.toml"
            toml.write_text(
                f'data_dir = "{tmp_path / graph / vector}"\n'
                f'[graph]\nprovider = "{graph}"\n{graph_sections[graph]}'
            )
            with monkeypatch.context() as env:
                env.setenv("HYBRIDMEM_VECTOR__PROVIDER", vector)
                for name, value in vector_env[vector].items():
                    env.setenv(name, value)
                with HybridStore.from_config(toml) as store:
                    store.reset()
                    assert type(store.graph).__name__ == graph_class[graph]
                    assert type(store.vector).__name__ == vector_class[vector]
                    store.add(
                        "x",
                        embedding=[1.0, 0.5],
                        user_id="u",
                        entities=[{"name": "E", "type": "t"}],
                    )
                    result = store.delete_all(user_id="u")
                    assert (result.memories, result.vectors, result.orphan_entities) == (1, 1, 1)
                    store.reset()
