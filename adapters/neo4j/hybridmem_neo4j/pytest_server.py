"""The ``neo4j_server`` fixture (a pytest plugin): env vars, else Docker, else native.

A server comes from ``HYBRIDMEM_TEST_NEO4J_URI`` (and ``_USER`` / ``_PASSWORD``)
when set; else, when ``docker info`` answers, from this package's compose file
through pytest-docker (``hybridmem.testing.docker_compose``); else from
``native_server``, started for the session and stopped after it. Named by the
``neo4j`` test backend (``hybridmem_neo4j.testing``) as its ``pytest_plugin``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

# Its docker_compose_file fixture (imported by pytest, so not imported here too).
pytest_plugins = ["hybridmem.testing.docker_compose"]


def native() -> ModuleType:
    """The native launcher's module (``start()`` for a throwaway server of a test's own)."""
    from hybridmem_neo4j import native_server

    return native_server


@dataclass(frozen=True)
class Neo4jServer:
    uri: str
    user: str
    password: str
    database: str = "neo4j"

    def graph_config(self) -> dict[str, Any]:
        return {
            "provider": "neo4j",
            "uri": self.uri,
            "user": self.user,
            "password": self.password,
            "database": self.database,
        }


@pytest.fixture(scope="session")
def neo4j_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Neo4jServer]:
    uri = os.environ.get("HYBRIDMEM_TEST_NEO4J_URI")
    if uri:
        yield Neo4jServer(
            uri,
            os.environ.get("HYBRIDMEM_TEST_NEO4J_USER", "neo4j"),
            os.environ.get("HYBRIDMEM_TEST_NEO4J_PASSWORD", "hybridmem-test"),
        )
        return
    from hybridmem.testing.docker_compose import docker_answers

    if docker_answers():
        services = request.getfixturevalue("docker_services")
        port = services.port_for("neo4j", 7687)
        server = Neo4jServer(f"bolt://127.0.0.1:{port}", "neo4j", "hybridmem-test")
        services.wait_until_responsive(timeout=180, pause=2, check=lambda: _bolt_ok(server))
        yield server
        return
    launched = native().start(tmp_path_factory.mktemp("neo4j-home"))
    print(f"\nneo4j started natively at {launched.uri} in {launched.start_seconds:.1f}s")
    try:
        yield Neo4jServer(launched.uri, "neo4j", launched.password)
    finally:
        launched.stop()


def _bolt_ok(server: Neo4jServer) -> bool:
    from neo4j import GraphDatabase

    try:
        with GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
            driver.verify_connectivity()
        return True
    except Exception:
        return False
