"""A real store outage: the server answers 503 naming the store and its address, never a 500.

The graph store is a throwaway Neo4j (tests/servers/neo4j.py's native launcher),
killed under the running server. Neo4j rather than Weaviate: with its short
connection timeout it reports the outage in about a second, while the Weaviate
client retries with back-off for about a minute per request.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from hybridmem import StoreUnavailableError
from hybridmem.client import HybridMemClient
from hybridmem_neo4j.pytest_server import native
from tests.server.live import start_server, write_config

pytestmark = pytest.mark.neo4j

E1 = [1.0, 0.0, 0.0]
STORE = "Neo4j graph store"


def test_graph_store_killed_gives_503_naming_it(tmp_path: Path) -> None:
    neo4j = native().start(tmp_path / "neo4j-home")
    config = write_config(
        tmp_path / "hybridmem.toml",
        tmp_path / "data",
        graph={
            "provider": "neo4j",
            "uri": neo4j.uri,
            "user": "neo4j",
            "password": neo4j.password,
            "connection_timeout": 2,
            "retry_seconds": 1,
        },
    )
    server = start_server(config)
    try:
        with HybridMemClient(server.url, timeout=30) as client:
            kept = client.add("before the outage", embedding=E1, user_id="outage")
            assert httpx.get(f"{server.url}/readyz").status_code == 200

            neo4j.kill()

            raw = httpx.get(f"{server.url}/relations", params={"user_id": "outage"}, timeout=30)
            assert raw.status_code == 503, raw.text
            error = raw.json()["error"]
            assert error["type"] == "StoreUnavailableError"
            assert (error["store"], error["address"]) == (STORE, neo4j.uri)
            assert error["message"].startswith(f"{STORE} at {neo4j.uri}: unavailable")
            assert "Traceback" not in raw.text

            for attempt in (
                lambda: client.entities(user_id="outage"),
                lambda: client.delete(kept.id),
                lambda: client.delete_all(user_id="outage"),
            ):
                with pytest.raises(StoreUnavailableError) as caught:
                    attempt()
                assert (caught.value.store, caught.value.address) == (STORE, neo4j.uri)
                assert str(caught.value).startswith(f"{STORE} at {neo4j.uri}: unavailable")

            ready = httpx.get(f"{server.url}/readyz", timeout=30)
            assert ready.status_code == 503
            assert (ready.json()["error"]["store"], ready.json()["error"]["address"]) == (
                STORE,
                neo4j.uri,
            )
            with pytest.raises(StoreUnavailableError) as caught:
                client.ready()
            assert (caught.value.store, caught.value.address) == (STORE, neo4j.uri)
            # The interrupted erasures wait in the journal for recover().
            assert server.process.poll() is None, "the server died with its store"
    finally:
        server.stop()
        neo4j.kill()
