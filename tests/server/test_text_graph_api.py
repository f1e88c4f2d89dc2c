"""Text in, filters, paging and graph reads through the HTTP clients and a live server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from hybridmem import ValidationError
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from tests.server.live import LiveServer, start_server, write_config


@pytest.fixture(scope="module")
def text_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Its own server: the shared ones hold 3-dimension test vectors, and the
    configured embedder (the hashing placeholder) makes 64."""
    home = tmp_path_factory.mktemp("text-server")
    server = start_server(write_config(home / "hybridmem.toml", home / "data"))
    yield server
    server.stop()


@pytest.fixture
def client(text_server: LiveServer) -> Iterator[HybridMemClient]:
    with HybridMemClient(text_server.url) as opened:
        yield opened


def _seed(client: HybridMemClient, user: str) -> dict[str, str]:
    ids = {}
    ids["lisbon"] = client.add(
        "Alice lives in Lisbon with Sam",
        user_id=user,
        metadata={"topic": "home", "score": 5},
        entities=[{"name": "Alice", "type": "person"}, {"name": "Lisbon", "type": "city"}],
        relations=[
            {"source": "Alice", "target": "Lisbon", "type": "lives_in"},
            {"source": "Alice", "target": "Sam", "type": "partner_of"},
        ],
    ).id
    ids["kyoto"] = client.add(
        "Alice plans a trip to Kyoto",
        user_id=user,
        metadata={"topic": "travel", "score": 2},
        entities=[{"name": "Kyoto", "type": "city"}],
        relations=[{"source": "Alice", "target": "Kyoto", "type": "plans_trip_to"}],
    ).id
    ids["seats"] = client.add(
        "Alice prefers window seats", user_id=user, metadata={"topic": "travel", "score": 9}
    ).id
    return ids


def test_text_add_and_search_over_rest(client: HybridMemClient) -> None:
    ids = _seed(client, "rest-text")
    hits = client.search("Kyoto trip", user_id="rest-text", limit=1)
    assert hits[0].memory.id == ids["kyoto"]
    assert len(hits[0].memory.embedding) == 64  # the server's hashing placeholder


def test_filters_and_paging_over_rest(client: HybridMemClient) -> None:
    ids = _seed(client, "rest-filters")
    travel = client.get_all(user_id="rest-filters", filters={"topic": "travel"})
    assert {m.id for m in travel} == {ids["kyoto"], ids["seats"]}
    high = client.search("Alice", user_id="rest-filters", filters={"score": {"$gte": 5}}, limit=5)
    assert {h.memory.id for h in high} == {ids["lisbon"], ids["seats"]}
    pages = [client.get_all(user_id="rest-filters", limit=1, offset=o) for o in range(4)]
    assert [m.id for page in pages for m in page] == [ids["seats"], ids["kyoto"], ids["lisbon"]]
    with pytest.raises(ValidationError, match=r"unknown operator '\$regex'"):
        client.get_all(user_id="rest-filters", filters={"topic": {"$regex": "t.*"}})


def test_graph_reads_over_rest(client: HybridMemClient) -> None:
    ids = _seed(client, "rest-graph")
    _seed(client, "rest-graph-other")
    assert [m.id for m in client.get_all(user_id="rest-graph", entity="lisbon")] == [ids["lisbon"]]
    near = client.neighbors("Alice", user_id="rest-graph")
    # Two entities are named Alice (a person, and the untyped relation endpoint of
    # the second memory): entities are keyed by name and type; both are reached.
    assert sorted({e.name for e in near.entities}) == ["Alice", "Kyoto", "Lisbon", "Sam"]
    assert {r.user_id for r in near.relations} == {"rest-graph"}
    [hit] = client.search("window seats", user_id="rest-graph", limit=1, graph=True)
    assert hit.memory.id == ids["seats"] and hit.entities == []
    anchored = client.search("window seats", user_id="rest-graph", limit=3, entities=["Kyoto"])
    assert anchored[0].memory.id == ids["kyoto"] and anchored[0].fused_score is not None


def test_async_client_text_and_graph(text_server: LiveServer) -> None:
    async def scenario() -> None:
        async with AsyncHybridMemClient(text_server.url) as client:
            memory = await client.add(
                "Bob maintains the billing service",
                user_id="rest-async",
                entities=[{"name": "Billing", "type": "system"}],
                relations=[{"source": "Bob", "target": "Billing", "type": "maintains"}],
            )
            [hit] = await client.search("billing", user_id="rest-async", graph=True)
            assert hit.memory.id == memory.id
            assert [(r.source, r.type, r.target) for r in hit.relations] == [
                ("Bob", "maintains", "Billing")
            ]
            near = await client.neighbors("billing", user_id="rest-async")
            assert sorted(e.name for e in near.entities) == ["Billing", "Bob"]

    asyncio.run(scenario())
