"""Every adapter reaches only its configured servers, and a server store refuses a
collection it did not create (issue 15)."""

from __future__ import annotations

import hashlib
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property

from hybridmem import HybridStore
from hybridmem.errors import ConfigurationError
from hybridmem.testing.builders import embedding
from hybridmem_neo4j.pytest_server import Neo4jServer
from hybridmem_weaviate import WeaviateVectorStore
from hybridmem_weaviate.pytest_server import WeaviateServer


class _Guard:
    """An audit hook (they cannot be removed, so it is installed once and acts only
    while ``allowed`` is set): refuses, and records, every socket connect and name
    lookup outside ``allowed``. It sees Python sockets (Bolt, HTTP), not the gRPC
    C core's; the gRPC port is still only ever the configured one."""

    allowed: set[tuple[str, int]] | None = None
    refused: list[str] = []
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        allowed = cls.allowed
        if allowed is None:
            return
        if event == "socket.getaddrinfo":
            host = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            if host not in {h for h, _ in allowed}:
                cls.refuse(f"name lookup of {host}")
        elif event == "socket.connect":
            sock, address = args
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                cls.refuse(f"connect to {address!r}")
            elif (address[0], int(address[1])) not in allowed:
                cls.refuse(f"connect to {address[0]}:{address[1]}")

    @classmethod
    def refuse(cls, what: str) -> None:
        cls.refused.append(what)
        raise ConnectionRefusedError(f"socket guard: {what} is outside the configured servers")


@contextmanager
def only(servers: set[tuple[str, int]]) -> Iterator[list[str]]:
    """Inside: only ``servers`` may be reached; yields the list of refused attempts."""
    if not _Guard.installed:
        sys.addaudithook(_Guard.hook)
        _Guard.installed = True
    _Guard.refused = []
    _Guard.allowed = servers
    try:
        yield _Guard.refused
    finally:
        _Guard.allowed = None


def _use(store: HybridStore) -> None:
    """Every kind of call an application makes, erasures included."""
    kept = store.add(
        "alice lives in Lisbon",
        embedding=embedding("a"),
        user_id="alice",
        entities=[{"name": "Alice", "type": "person"}, {"name": "Lisbon", "type": "city"}],
        relations=[{"source": "Alice", "target": "Lisbon", "type": "lives in"}],
    )
    gone = store.add("bob likes tea", embedding=embedding("b"), user_id="bob")
    assert store.search(embedding("a"), user_id="alice", limit=1)[0].memory.id == kept.id
    assert store.get(kept.id) is not None and len(store.get_all(user_id="alice")) == 1
    assert sorted(e.name for e in store.entities(user_id="alice")) == ["Alice", "Lisbon"]
    assert len(store.relations(user_id="alice")) == 1
    store.update(kept.id, text="alice lives in Porto")
    assert store.delete(gone.id).memories == 1
    assert store.delete_all(user_id="alice").memories == 1
    assert store.reconcile(fix=True).found.total() == 0
    assert store.stats()["vectors"] == 0
    store.reset()


def test_the_embedded_pair_opens_no_socket(tmp_path: Path) -> None:
    with only(set()) as refused:
        with HybridStore.embedded(tmp_path / "data") as store:
            _use(store)
    assert refused == []


@pytest.mark.neo4j
@pytest.mark.weaviate
def test_server_adapters_reach_only_their_configured_servers(
    neo4j_server: Neo4jServer,
    weaviate_server: WeaviateServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    collection = "T" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:20]
    bolt = neo4j_server.uri.removeprefix("bolt://").removeprefix("neo4j://")
    neo4j_host, neo4j_port = bolt.rsplit(":", 1)
    servers = {
        (neo4j_host, int(neo4j_port)),
        (weaviate_server.host, weaviate_server.http_port),
        (weaviate_server.host, weaviate_server.grpc_port),
    }
    config = {
        "data_dir": str(tmp_path / "data"),
        "graph": {**neo4j_server.graph_config(), "label_prefix": "Reach"},
        "vector": weaviate_server.vector_config(collection),
    }
    try:
        with only(servers) as refused:
            with HybridStore(config) as store:
                _use(store)
        assert refused == []
    finally:
        WeaviateVectorStore(
            weaviate_server.host, weaviate_server.http_port, weaviate_server.grpc_port, collection
        ).drop()


@pytest.mark.weaviate
def test_a_collection_hybridmem_did_not_create_is_refused(
    weaviate_server: WeaviateServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Another application's collection under the configured name: hybridmem refuses
    it at open and writes nothing into it."""
    name = "T" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:20]
    client = weaviate.connect_to_local(
        host=weaviate_server.host,
        port=weaviate_server.http_port,
        grpc_port=weaviate_server.grpc_port,
        skip_init_checks=True,
    )
    try:
        client.collections.delete(name)
        theirs = client.collections.create(
            name,
            properties=[Property(name="title", data_type=DataType.TEXT)],
            vector_config=Configure.Vectors.self_provided(),
        )
        theirs.data.insert({"title": "not hybridmem's"}, vector=[1.0, 0.0])
        config = {
            "data_dir": str(tmp_path / "data"),
            "vector": weaviate_server.vector_config(name),
        }
        with pytest.raises(ConfigurationError, match="user_key"):
            HybridStore(config)
        assert len(theirs) == 1
        assert {p.name for p in theirs.config.get().properties} == {"title"}
    finally:
        client.collections.delete(name)
        client.close()
