"""Expiry over HTTP: ``expires_at`` / ``ttl`` on add, ``expires_at`` on batch items,
``POST /memories/purge-expired`` — through both clients and as raw requests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hybridmem import ValidationError
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from tests.server.live import LiveServer

E1 = [1.0, 0.0, 0.0]
PAST = "2020-01-01T00:00:00+00:00"


@pytest.fixture
def client(open_server: LiveServer) -> Iterator[HybridMemClient]:
    with HybridMemClient(open_server.url) as opened:
        yield opened


def test_add_with_ttl_expires_and_purge_erases_it(client: HybridMemClient, name: str) -> None:
    kept = client.add("kept", embedding=E1, user_id=name, ttl=timedelta(hours=1))
    assert kept.expires_at is not None
    assert kept.expires_at - datetime.now(UTC) > timedelta(minutes=59)
    old = client.add_many(
        [{"text": f"old {i}", "embedding": E1, "user_id": name, "expires_at": PAST} for i in (1, 2)]
    ).ids
    assert [m.id for m in client.get_all(user_id=name)] == [kept.id]
    assert [h.memory.id for h in client.search(E1, user_id=name)] == [kept.id]
    assert all(client.get(m) is None for m in old)
    result = client.purge_expired()
    # The shared server may hold other tests' expired memories: at least ours went.
    assert result.memories >= 2 and result.operation_id != "none"
    assert [m.id for m in client.get_all(user_id=name)] == [kept.id]
    assert all(e.new_text is None for m in old for e in client.history(m))


def test_the_async_client_adds_with_expires_at_and_purges(
    open_server: LiveServer, name: str
) -> None:
    async def run() -> None:
        async with AsyncHybridMemClient(open_server.url) as client:
            at = datetime.now(UTC) + timedelta(days=1)
            memory = await client.add("x", embedding=E1, user_id=name, expires_at=at)
            assert memory.expires_at is not None
            assert abs(memory.expires_at - at) < timedelta(milliseconds=1)
            await client.purge_expired()
            assert await client.get(memory.id) == memory

    asyncio.run(run())


def test_bad_expiry_is_refused_by_the_client_before_any_request(
    client: HybridMemClient, name: str
) -> None:
    with pytest.raises(ValidationError, match="at most one of expires_at and ttl"):
        client.add("x", embedding=E1, user_id=name, ttl=5, expires_at="2999-01-01")
    with pytest.raises(ValidationError, match="already expired"):
        client.add("x", embedding=E1, user_id=name, expires_at=PAST)
    assert client.get_all(user_id=name) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ttl": 5, "expires_at": "2999-01-01T00:00:00Z"}, "at most one of expires_at and ttl"),
        ({"ttl": 0}, "invalid ttl"),
        ({"ttl": "60"}, "ttl"),
        ({"expires_at": PAST}, "already expired"),
        ({"expires_at": "soon"}, "not ISO 8601"),
        ({"expire_at": "2999-01-01T00:00:00Z"}, "expire_at"),
    ],
)
def test_rest_refuses_bad_expiry_with_422_and_stores_nothing(
    open_server: LiveServer,
    client: HybridMemClient,
    name: str,
    extra: dict[str, object],
    message: str,
) -> None:
    response = httpx.post(
        f"{open_server.url}/memories",
        json={"text": "x", "embedding": E1, "user_id": name, **extra},
    )
    assert response.status_code == 422, response.text
    assert message in response.text
    assert client.get_all(user_id=name) == []


def test_batch_items_take_expires_at_but_not_ttl(
    open_server: LiveServer, client: HybridMemClient, name: str
) -> None:
    item = {"text": "x", "embedding": E1, "user_id": name}
    refused = httpx.post(f"{open_server.url}/memories/batch", json={"items": [{**item, "ttl": 60}]})
    assert refused.status_code == 422 and "ttl" in refused.text
    at = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    taken = httpx.post(
        f"{open_server.url}/memories/batch", json={"items": [{**item, "expires_at": at}]}
    )
    assert taken.status_code == 200, taken.text
    [memory] = client.get_all(user_id=name)
    assert memory.expires_at == datetime.fromisoformat(at)


def test_purge_refuses_a_body_naming_a_scope_and_erases_nothing(
    open_server: LiveServer, client: HybridMemClient, name: str
) -> None:
    """A purge spans every scope: a body that reads like a scoped purge is a 422."""
    item = {"text": "x", "embedding": E1, "user_id": name, "expires_at": PAST}
    added = httpx.post(f"{open_server.url}/memories/batch", json={"items": [item]})
    assert added.status_code == 200, added.text
    stored = client.stats()["vectors"]
    refused = httpx.post(f"{open_server.url}/memories/purge-expired", json={"user_id": name})
    assert refused.status_code == 422 and "user_id" in refused.text
    assert client.stats()["vectors"] == stored
    assert httpx.post(f"{open_server.url}/memories/purge-expired").status_code == 200
    assert client.stats()["vectors"] < stored


def test_purge_expired_is_in_the_openapi_schema(open_server: LiveServer) -> None:
    schema = httpx.get(f"{open_server.url}/openapi.json").json()
    assert "post" in schema["paths"]["/memories/purge-expired"]
    add = schema["components"]["schemas"]["AddRequest"]["properties"]
    assert {"expires_at", "ttl"} <= set(add)
