"""The ``weaviate_server`` fixture (a pytest plugin): env vars, else Docker, else native.

A server comes from ``HYBRIDMEM_TEST_WEAVIATE_HOST`` (and ``_HTTP_PORT`` /
``_GRPC_PORT``) when set; else, when ``docker info`` answers, from this package's
compose file through pytest-docker (``hybridmem.testing.docker_compose``); else
from ``native_server``, started for the session and stopped after it. Named by
the ``weaviate`` and ``weaviate_mt`` test backends (``hybridmem_weaviate.testing``)
as their ``pytest_plugin``.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

# Its docker_compose_file fixture (imported by pytest, so not imported here too).
pytest_plugins = ["hybridmem.testing.docker_compose"]


def native() -> ModuleType:
    """The native launcher's module (``start()`` for a throwaway server of a test's own)."""
    from hybridmem_weaviate import native_server

    return native_server


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
    from hybridmem.testing.docker_compose import docker_answers

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
