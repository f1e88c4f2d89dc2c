"""The ``weaviate_server`` fixture: env vars → Docker (compose/) → the native launcher."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from tests.servers import compose
from tests.servers.neo4j import docker_answers


def native() -> ModuleType:
    return compose.load("weaviate_native")


@dataclass(frozen=True)
class WeaviateServer:
    host: str
    http_port: int
    grpc_port: int

    def vector_config(self, collection: str) -> dict[str, Any]:
        return {
            "provider": "weaviate",
            "host": self.host,
            "http_port": self.http_port,
            "grpc_port": self.grpc_port,
            "collection": collection,
        }


def _ready(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/v1/.well-known/ready", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def weaviate_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WeaviateServer]:
    host = os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HOST")
    if host:
        yield WeaviateServer(
            host,
            int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HTTP_PORT", "8080")),
            int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_GRPC_PORT", "50051")),
        )
        return
    if docker_answers():
        services = request.getfixturevalue("docker_services")
        server = WeaviateServer(
            "127.0.0.1", services.port_for("weaviate", 8080), services.port_for("weaviate", 50051)
        )
        services.wait_until_responsive(
            timeout=120, pause=1, check=lambda: _ready(server.host, server.http_port)
        )
        yield server
        return
    launched = native().start(tmp_path_factory.mktemp("weaviate-data"))
    print(f"\nweaviate started natively on {launched.http_port} in {launched.start_seconds:.1f}s")
    try:
        yield WeaviateServer(launched.host, launched.http_port, launched.grpc_port)
    finally:
        launched.stop()
