"""A Neo4j server that goes away mid-erasure: clear error, pending journal, recover() finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridmem import HybridStore, Scope, StoreUnavailableError
from hybridmem.testing.builders import embedding
from tests.integration.checks import assert_no_half_memory_or_orphan, assert_scope_empty
from tests.servers.neo4j import Neo4jServer, native

pytestmark = pytest.mark.neo4j


def test_server_stopped_mid_delete_all_then_recover(tmp_path: Path) -> None:
    server = native().start(tmp_path / "neo4j-home")
    try:
        config = {
            "data_dir": str(tmp_path / "data"),
            "batch_size": 5,
            "graph": {
                "provider": "neo4j",
                "uri": server.uri,
                "user": "neo4j",
                "password": server.password,
                "connection_timeout": 2,
                "retry_seconds": 1,
            },
            "vector": {"provider": "kuzu"},
        }
        batches = 0

        def stop_server_in_second_batch(point: str) -> None:
            nonlocal batches
            if point == "delete_all.vectors_deleted":
                batches += 1
                if batches == 2:
                    server.stop()

        with HybridStore(config, fault_hook=stop_server_in_second_batch) as store:
            for i in range(20):
                store.add(
                    f"victim {i}",
                    embedding=embedding(f"v{i}"),
                    user_id="victim",
                    entities=[{"name": f"E{i % 3}", "type": "t"}],
                )
            keepers = [
                store.add(
                    f"keeper {i}",
                    embedding=embedding(f"k{i}"),
                    user_id="keeper",
                    entities=[{"name": "E0", "type": "t"}],
                ).id
                for i in range(3)
            ]
            with pytest.raises(StoreUnavailableError) as caught:
                store.delete_all(user_id="victim")
            assert "Neo4j graph store" in str(caught.value) and server.uri in str(caught.value)
            [pending] = store.journal.pending()
            assert pending.kind == "delete_all" and pending.counts["memories"] == 5

            server.start()
            [recovered] = store.recover()
            assert recovered.operation_id == pending.id and recovered.outcome == "completed"
            assert_scope_empty(store, Scope(user_id="victim"))
            assert all(store.get(k) is not None for k in keepers)
            info = store.operation(pending.id)
            assert info is not None and info.state == "done" and info.counts["memories"] == 20
            assert_no_half_memory_or_orphan(store)
    finally:
        server.stop()


def test_swapping_kuzu_for_neo4j_is_a_config_change(
    tmp_path: Path, neo4j_server: Neo4jServer
) -> None:
    toml = tmp_path / "hybridmem.toml"
    for provider, extra in (
        ("kuzu", ""),
        (
            "neo4j",
            f'uri = "{neo4j_server.uri}"\n'
            f'user = "{neo4j_server.user}"\n'
            f'password = "{neo4j_server.password}"\n',
        ),
    ):
        toml.write_text(
            f'data_dir = "{tmp_path / provider}"\n[graph]\nprovider = "{provider}"\n'
            f'{extra}[vector]\nprovider = "kuzu"\n'
        )
        with HybridStore.from_config(toml) as store:
            store.reset()
            assert (
                type(store.graph).__name__
                == {"kuzu": "KuzuGraphStore", "neo4j": "Neo4jGraphStore"}[provider]
            )
            store.add("x", embedding=[1.0, 0.5], user_id="u", entities=[{"name": "E", "type": "t"}])
            result = store.delete_all(user_id="u")
            assert (result.memories, result.orphan_entities) == (1, 1)
