"""The ``neo4j_server`` fixture: env vars → Docker (compose/) → the native launcher."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.servers import compose

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose" / "docker-compose.yml"


def native() -> ModuleType:
    return compose.load("neo4j_native")


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


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


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


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(COMPOSE)
