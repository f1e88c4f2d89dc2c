"""A refused request leaves no trace, and a misspelt parameter is refused, never ignored.

Through the ASGI app (TestClient) over a real store. The no-trace test runs on
every adapter pair; the rest is about the REST layer, over the embedded pair.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hybridmem import HybridStore
from hybridmem.config import ApiKeyConfig, HybridMemConfig, ServerConfig
from hybridmem.errors import ConfigurationError
from hybridmem.server import create_app
from hybridmem.server.auth import KeyRing
from tests.integration import raw
from tests.integration.checks import snapshot

E = [1.0, 0.0, 0.0]


def _trace(store: HybridStore, memory_ids: list[str]) -> Any:
    """Everything a refused write could have touched: both stores and the history."""
    return (
        snapshot(store),
        [store.history(memory_id) for memory_id in memory_ids],
        [m.model_dump() for m in store.get_all(user_id="no-trace", limit=1000)],
        [raw.operation_events(store.journal.path, kind) for kind in ("DELETE_ALL", "RESET")],
    )


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


#: Raw JSON bodies: a lone surrogate is a valid JSON escape, which Python's json keeps.
REFUSED_ADDS = {
    "surrogate in a metadata value": '{"k": "\\udc00"}',
    "surrogate in a metadata key": '{"\\udc00": 1}',
    "surrogate pair half in a nested value": '{"a": [{"b": "x\\ud800"}]}',
    "metadata 500 levels deep": None,
}


@pytest.fixture
def client(store: HybridStore) -> Iterator[TestClient]:
    with TestClient(create_app(store)) as opened:
        yield opened


def test_a_write_answered_4xx_leaves_no_trace(store: HybridStore, client: TestClient) -> None:
    kept = store.add("kept", embedding=E, user_id="no-trace", agent_id="shared")
    neighbour = store.add("neighbour", embedding=E, user_id="other", agent_id="shared")
    before = _trace(store, [kept.id, neighbour.id])
    bodies = []
    for label, metadata in REFUSED_ADDS.items():
        meta = metadata if metadata is not None else json.dumps(_deep(500))
        bodies.append(
            (
                label,
                "POST",
                "/memories",
                f'{{"text": "t", "embedding": [1.0, 0.0, 0.0], "user_id": "no-trace",'
                f' "agent_id": "shared", "metadata": {meta}}}',
            )
        )
    bodies += [
        (
            "surrogate in the text",
            "POST",
            "/memories",
            '{"text": "a\\udc00b", "embedding": [1.0, 0.0, 0.0], "user_id": "no-trace"}',
        ),
        (
            "components whose squares overflow float32",
            "POST",
            "/memories",
            '{"text": "big", "embedding": [3e38, 3e38, 3e38], "user_id": "no-trace"}',
        ),
        (
            "update with a surrogate in metadata",
            "PATCH",
            f"/memories/{kept.id}",
            '{"metadata": {"k": "\\udc00"}}',
        ),
        (
            "update with a surrogate in the text",
            "PATCH",
            f"/memories/{kept.id}",
            '{"text": "\\ud800"}',
        ),
        (
            "update metadata too deep",
            "PATCH",
            f"/memories/{kept.id}",
            f'{{"metadata": {json.dumps(_deep(40))}}}',
        ),
        (
            "update with an overflowing embedding",
            "PATCH",
            f"/memories/{kept.id}",
            '{"embedding": [3e38, 3e38, 1]}',
        ),
    ]
    for label, method, path, body in bodies:
        response = client.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (label, response.status_code, response.text)
        assert _trace(store, [kept.id, neighbour.id]) == before, (
            f"{label}: answered 4xx, left a trace"
        )
    # Reads of every scope holding the memories still answer.
    for params in ({"user_id": "no-trace"}, {"agent_id": "shared"}):
        assert client.get("/memories", params=params).status_code == 200
    assert client.post("/search", json={"embedding": E, "agent_id": "shared"}).status_code == 200
    assert client.get(f"/memories/{kept.id}").json()["text"] == "kept"


# -- misspelt and unknown query parameters, on every route -----------------------------------


def _operations(app: Any) -> list[tuple[str, str, list[str]]]:
    """Every (method, path, declared query parameters) the API documents."""
    return [
        (method.upper(), path, [p["name"] for p in op.get("parameters", []) if p["in"] == "query"])
        for path, methods in app.openapi()["paths"].items()
        for method, op in methods.items()
    ]


def _misspellings(declared: list[str]) -> list[str]:
    """A made-up name, and for each declared parameter a typo and a case change."""
    names = ["dryrun"]
    for name in declared:
        names += [name.replace("_", ""), name.upper(), name[:-1]]
    return [name for name in dict.fromkeys(names) if name not in declared]


def test_every_route_refuses_unknown_query_parameters(embedded: HybridStore) -> None:
    memory = embedded.add("victim", embedding=E, user_id="alice", agent_id="A")
    other_agent = embedded.add("other agent", embedding=E, user_id="alice", agent_id="B")
    before = snapshot(embedded)
    app = create_app(embedded)
    operations = _operations(app)
    assert len(operations) >= 17, "every route of the API is swept"
    tried = 0
    with TestClient(app) as client:
        for method, path, declared in operations:
            for wrong in _misspellings(declared):
                # The real parameters are given too, so only the misspelt one is wrong.
                params = {
                    k: v for k, v in (("user_id", "alice"), ("agent_id", "A")) if k in declared
                }
                params[wrong] = "true"
                url = re.sub(r"\{[^}]+\}", memory.id, path)
                response = client.request(method, url, params=params)
                tried += 1
                assert response.status_code == 422, (method, path, wrong, response.text)
                error = response.json()["error"]
                assert error["parameter"] == wrong and repr(wrong) in error["message"]
    assert tried >= 50
    assert snapshot(embedded) == before, "a request with a misspelt parameter changed the stores"
    assert embedded.get(other_agent.id) is not None


def test_misspelt_dry_run_and_scope_are_refused_not_ignored(embedded: HybridStore) -> None:
    """The cases of the issue: each was a real (or wider) erasure before."""
    kept = [embedded.add(f"m{i}", embedding=E, user_id="alice", agent_id=f"A{i}") for i in (1, 2)]
    with TestClient(create_app(embedded)) as client:
        for params in (
            {"user_id": "alice", "dryrun": "true"},
            {"user_id": "alice", "DRY_RUN": "true"},
            {"user_id": "alice", "agnt_id": "A1", "dry_run": "true"},
            {"user_id": "alice", "agnt_id": "A1"},
        ):
            response = client.delete("/memories", params=params)
            assert response.status_code == 422, (params, response.text)
    assert all(embedded.get(m.id) is not None for m in kept)


# -- a bound key cannot probe which ids exist ------------------------------------------------

ALICE = "finality-alice-key-0123456789"
ADMIN = "finality-admin-key-0123456789"


def test_a_bound_key_gets_the_same_404_for_every_id_outside_its_scope(
    embedded: HybridStore,
) -> None:
    mine = embedded.add("mine", embedding=E, user_id="alice")
    theirs = embedded.add("theirs", embedding=E, user_id="bob")
    erased = embedded.add("erased", embedding=E, user_id="bob")
    embedded.delete(erased.id)
    keys = [
        ApiKeyConfig.model_validate({"key": ADMIN, "name": "admin"}),
        ApiKeyConfig.model_validate({"key": ALICE, "name": "alice", "user_id": "alice"}),
    ]
    never = str(uuid.uuid4())
    with TestClient(create_app(embedded, api_keys=keys)) as client:
        alice = {"X-API-Key": ALICE}
        for method, suffix, body in (
            ("GET", "", None),
            ("GET", "/history", None),
            ("PATCH", "", {"text": "x"}),
            ("DELETE", "", None),
        ):
            answers = {
                client.request(
                    method, f"/memories/{memory_id}{suffix}", json=body, headers=alice
                ).status_code
                for memory_id in (theirs.id, erased.id, never)
            }
            assert answers == {404}, (method, suffix, answers)
        own = client.get(f"/memories/{mine.id}/history", headers=alice)
        assert own.status_code == 200 and [e["kind"] for e in own.json()] == ["ADD"]
        # An admin key still reads an unknown id's (empty) history.
        assert client.get(f"/memories/{never}/history", headers={"X-API-Key": ADMIN}).json() == []
    assert embedded.get(theirs.id) is not None


# -- request body cap, duplicate keys ----------------------------------------------------------


def test_a_request_body_over_the_cap_is_413_and_stores_nothing(embedded: HybridStore) -> None:
    app = create_app(embedded, server=ServerConfig(max_body_bytes=4096))
    big = "x" * 10_000

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'", "embedding": [1.0], "user_id": "big"}'

    with TestClient(app) as client:
        declared = client.post("/memories", json={"text": big, "embedding": E, "user_id": "big"})
        streamed = client.post(
            "/memories", content=chunks(), headers={"content-type": "application/json"}
        )
        for response in (declared, streamed):
            assert response.status_code == 413, response.text
            assert response.json()["error"]["type"] == "RequestTooLargeError"
            assert "4096 bytes" in response.json()["error"]["message"]
        small = client.post("/memories", json={"text": "ok", "embedding": E, "user_id": "big"})
        assert small.status_code == 201
    assert [m.text for m in embedded.get_all(user_id="big")] == ["ok"]
    assert ServerConfig().max_body_bytes == 4 * 1024 * 1024


def test_the_same_api_key_twice_is_refused_at_start(tmp_path: Path) -> None:
    keys = [
        {"key": ADMIN, "name": "admin"},
        {"key": ADMIN, "name": "meant-for-alice", "user_id": "alice"},
    ]
    with pytest.raises(
        ConfigurationError, match=r"entries 1 \(admin\) and 2 \(meant-for-alice\)"
    ) as info:
        HybridMemConfig.load({"data_dir": tmp_path, "server": {"api_keys": keys}})
    assert ADMIN not in str(info.value), "the key itself is never printed"
    with pytest.raises(ConfigurationError, match="same key"):
        KeyRing([ApiKeyConfig.model_validate(k) for k in keys])
