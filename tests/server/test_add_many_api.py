"""add_many over REST and through both clients, against a live ``hybridmem serve``.

The clients send a long input in requests of ``batch_size`` items and sum the
answers; an error names the item as the caller numbers it, whichever request
carried it; an API key bound to a user narrows every item, and refuses an item
naming another user before anything of the request is written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hybridmem import ValidationError
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.errors import PermissionDeniedError
from hybridmem.models import AddProgress
from tests.server.conftest import ALICE_BOT_KEY, ALICE_KEY
from tests.server.live import LiveServer


def _items(user_id: str, n: int, dimension: int = 3) -> list[dict[str, Any]]:
    """Items for ``user_id``; the session's servers fix their dimension (open 3, keyed 2)."""
    return [
        {
            "text": f"fact {i}",
            "embedding": [1.0, float(i), 0.5][:dimension],
            "user_id": user_id,
            "metadata": {"i": i},
            "entities": [{"name": "Paris", "type": "city"}],
        }
        for i in range(n)
    ]


@pytest.fixture
def client(open_server: LiveServer) -> Iterator[HybridMemClient]:
    with HybridMemClient(open_server.url) as opened:
        yield opened


def test_the_client_sends_batches_and_sums_the_answers(client: HybridMemClient, name: str) -> None:
    reports: list[AddProgress] = []
    result = client.add_many(_items(name, 5), batch_size=2, progress=reports.append)
    assert (result.added, result.unchanged, result.batches) == (5, 0, 3)
    assert len(result.operation_ids) == 3
    assert [(r.phase, r.done, r.total) for r in reports] == [
        ("adding", 2, 5),
        ("adding", 4, 5),
        ("adding", 5, 5),
        ("done", 5, 5),
    ]
    stored = {m.id: m for m in client.get_all(user_id=name)}
    assert set(stored) == set(result.ids)
    assert [stored[i].text for i in result.ids] == [f"fact {i}" for i in range(5)]
    assert [e.name for e in client.entities(user_id=name)] == ["Paris"]
    again = client.add_many(
        [{**item, "memory_id": mid} for item, mid in zip(_items(name, 5), result.ids, strict=True)]
    )
    assert (again.added, again.unchanged) == (0, 5)


def test_an_error_names_the_item_as_the_caller_numbers_it(
    client: HybridMemClient, open_server: LiveServer, name: str
) -> None:
    items = _items(name, 5)
    # Caught by the server (the client cannot see an id clash): the 4th item, second request.
    items[3]["memory_id"] = items[2]["memory_id"] = str(uuid.uuid4())
    with pytest.raises(ValidationError, match=r"^items\[3\]: memory_id .* is repeated"):
        client.add_many(items, batch_size=2)
    assert sorted(m.text for m in client.get_all(user_id=name)) == ["fact 0", "fact 1"]
    # Caught by the client before its request is sent.
    items = _items(f"{name}-b", 3)
    items[2]["colour"] = "red"
    with pytest.raises(ValidationError, match=r"^items\[2\]: unknown field 'colour'"):
        client.add_many(items, batch_size=2)
    assert len(client.get_all(user_id=f"{name}-b")) == 2


def test_the_endpoint_refuses_unknown_fields_and_oversized_requests(
    open_server: LiveServer, name: str
) -> None:
    with httpx.Client(base_url=open_server.url) as http:
        response = http.post("/memories/batch", json={"items": _items(name, 1), "size": 3})
        assert response.status_code == 422, response.text
        response = http.post("/memories/batch", json={"items": [{**_items(name, 1)[0], "x": 1}]})
        assert response.status_code == 422, response.text
        response = http.post("/memories/batch", json={"items": _items(name, 1), "batch_size": 0})
        assert response.status_code == 422, response.text
        assert http.get("/memories", params={"user_id": name}).json() == []


def test_an_api_key_narrows_every_item(keyed_server: LiveServer) -> None:
    with HybridMemClient(keyed_server.url, api_key=ALICE_KEY) as alice:
        before = len(alice.get_all(user_id="auth-alice"))
        result = alice.add_many(_items("auth-alice", 2, 2))
        assert result.added == 2
        stored = [alice.get(i) for i in result.ids]
        assert all(m is not None and m.user_id == "auth-alice" for m in stored)
        with pytest.raises(PermissionDeniedError):
            alice.add_many([*_items("auth-alice", 1, 2), *_items("auth-bob", 1, 2)])
        # Refused whole: not even the item of alice's own scope was written.
        assert len(alice.get_all(user_id="auth-alice")) == before + 2
    with HybridMemClient(keyed_server.url, api_key=ALICE_BOT_KEY) as bot:
        [memory_id] = bot.add_many(_items("auth-alice", 1, 2)).ids
        memory = bot.get(memory_id)
        assert memory is not None and memory.agent_id == "auth-bot"


def test_the_async_client_gives_the_same_answers(open_server: LiveServer, name: str) -> None:
    async def run() -> tuple[int, int, list[str]]:
        async with AsyncHybridMemClient(open_server.url) as client:
            result = await client.add_many(iter(_items(name, 3)), batch_size=2)
            stored = await client.get_all(user_id=name)
            return result.added, result.batches, sorted(m.text for m in stored)

    assert asyncio.run(run()) == (3, 2, ["fact 0", "fact 1", "fact 2"])
