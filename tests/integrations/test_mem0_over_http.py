"""mem0 by id over HTTP (issue 26): mem0 on ``HybridMemClient``s of one live
``hybridmem serve`` finds a memory by its mem0 id from any process, through the
server's index (``POST /mem0/lookup``), never through what a process remembers:
after ``delete_all(user_id=...)`` through a client, the id finds nothing. The
route spans every scope: a key bound to a scope is refused, unknown fields too.

Each production pair: the lookup is each vector adapter's own code, served.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.errors import PermissionDeniedError, ValidationError
from hybridmem.mem0_lookup import MAX_LOOKUP_IDS
from tests.conftest import open_pair, pair_params, production_pairs
from tests.integrations.mem0_child import mem0_on
from tests.server.live import LiveServer, start_server

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "mem0-admin-key-0123456789"
ALICE = "alice-5b2e90c4"
BOB = "bob-71d3e6fa"
#: An id a memory written around mem0 carries in its metadata, without the marker.
NOT_MEM0 = "bob-memory-id-4f1c"
#: Bound to alice: may read her memories, never look ids up across users.
ALICE_KEY = "mem0-alice-key-0123456789"
API_KEYS = [
    {"key": ADMIN_KEY, "name": "admin"},
    {"key": ALICE_KEY, "name": "alice", "user_id": ALICE},
]


def _toml(config: dict[str, Any]) -> str:
    """The pair's config as a TOML file for ``hybridmem serve --config`` (JSON
    strings, numbers and booleans are TOML values)."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in config.items() if not isinstance(v, dict)]
    for section, values in config.items():
        if isinstance(values, dict):
            lines.append(f"[{section}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in values.items() if v is not None]
    for key in API_KEYS:
        lines.append("[[server.api_keys]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in key.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(params=pair_params(production_pairs()))
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """``hybridmem serve`` in a subprocess over this pair's (emptied) stores."""
    pair = open_pair(request, request.param)
    config = next(pair)(tmp_path / "data")
    # Not embedded by the server: mem0 sends its own vectors.
    config["embedder"] = {"provider": "hashing"}
    path = tmp_path / "hybridmem.toml"
    path.write_text(_toml(config))
    live = start_server(path)
    try:
        yield live
    finally:
        live.stop()
        next(pair, None)


def _other_process(server: LiveServer, history: Path, command: dict[str, Any]) -> Any:
    """``command`` run by mem0 on a client of ``server``, in a process of its own."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integrations.mem0_client_child",
            server.url,
            ADMIN_KEY,
            str(history),
            json.dumps(command),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_found_updated_deleted_by_id_from_other_processes(
    server: LiveServer, tmp_path: Path
) -> None:
    history = tmp_path / "mem0-history.db"
    kept, gone = _other_process(
        server, history, {"add": [["Alice likes tea", ALICE], ["Alice's old address", ALICE]]}
    )

    with HybridMemClient(server.url, api_key=ADMIN_KEY) as client:
        memory, _ = mem0_on(client, history)
        # This process never listed nor searched alice: the server's index finds her.
        found = memory.get(kept)
        assert found is not None
        assert (found["memory"], found["user_id"]) == ("Alice likes tea", ALICE)
        memory.update(kept, "Alice likes green tea")
        assert memory.get(kept)["memory"] == "Alice likes green tea"
        memory.delete(gone)
        assert memory.get(gone) is None
        listed = memory.get_all(filters={"user_id": ALICE})["results"]
        assert [m["memory"] for m in listed] == ["Alice likes green tea"]

    # Another process updates and deletes by id what this one never touched...
    [later] = _other_process(server, history, {"add": [["Alice moved to Porto", ALICE]]})
    assert _other_process(server, history, {"update": [later, "Alice lives in Porto"]})
    assert _other_process(server, history, {"get": [kept, gone, later]}) == [
        "Alice likes green tea",
        None,
        "Alice lives in Porto",
    ]
    assert _other_process(server, history, {"delete": later})
    # ...and a third sees it, by id alone.
    assert _other_process(server, history, {"get": [kept, later]}) == [
        "Alice likes green tea",
        None,
    ]


def test_an_erased_user_is_not_found_by_id(server: LiveServer, tmp_path: Path) -> None:
    history = tmp_path / "mem0-history.db"
    alices, bobs = _other_process(
        server, history, {"add": [["Alice likes tea", ALICE], ["Bob likes coffee", BOB]]}
    )
    with HybridMemClient(server.url, api_key=ADMIN_KEY) as client:
        memory, _ = mem0_on(client, history)
        # Read by id first: nothing this process learnt may bring her back.
        assert memory.get(alices)["memory"] == "Alice likes tea"
        listed = memory.get_all(filters={"user_id": ALICE})["results"]
        assert [m["id"] for m in listed] == [alices]
        client.delete_all(user_id=ALICE)
        assert memory.get(alices) is None
        assert memory.get(bobs)["memory"] == "Bob likes coffee"
        assert [at.mem0_id for at in client.mem0_lookup([alices, bobs])] == [bobs]
    assert _other_process(server, history, {"get": [alices, bobs]}) == [None, "Bob likes coffee"]


def test_the_lookup_answers_where_a_memory_is(server: LiveServer, tmp_path: Path) -> None:
    history = tmp_path / "mem0-history.db"
    [alices] = _other_process(server, history, {"add": [["Alice likes tea", ALICE]]})
    with HybridMemClient(server.url, api_key=ADMIN_KEY) as client:
        # A memory that is not mem0's never answers, even with the id as its own.
        client.add("not mem0's", user_id=BOB, embedding=[0.5] * 16, metadata={"_mem0_id": NOT_MEM0})
        [found] = client.mem0_lookup([alices, alices, "unknown-id", NOT_MEM0])
        assert (found.mem0_id, found.user_id, found.agent_id, found.run_id) == (
            alices,
            ALICE,
            None,
            None,
        )
        stored = client.get(found.memory_id, user_id=ALICE)
        assert stored is not None and stored.text == "Alice likes tea"
        assert client.mem0_lookup([]) == []
        # More ids than one request takes: sent in turns.
        many = [f"missing-{i}" for i in range(MAX_LOOKUP_IDS)] + [alices]
        assert [at.mem0_id for at in client.mem0_lookup(many)] == [alices]


async def test_the_async_client_looks_up(server: LiveServer, tmp_path: Path) -> None:
    history = tmp_path / "mem0-history.db"
    [alices] = _other_process(server, history, {"add": [["Alice likes tea", ALICE]]})
    async with AsyncHybridMemClient(server.url, api_key=ADMIN_KEY) as client:
        [found] = await client.mem0_lookup([alices])
        assert (found.mem0_id, found.user_id) == (alices, ALICE)
    async with AsyncHybridMemClient(server.url, api_key=ALICE_KEY) as bound:
        with pytest.raises(PermissionDeniedError, match="mem0_lookup spans every scope"):
            await bound.mem0_lookup([alices])


def test_a_bound_key_and_unknown_fields_are_refused(server: LiveServer, tmp_path: Path) -> None:
    history = tmp_path / "mem0-history.db"
    [alices] = _other_process(server, history, {"add": [["Alice likes tea", ALICE]]})
    url = f"{server.url}/mem0/lookup"
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}

    # Even alice's own key: the lookup spans every user.
    with HybridMemClient(server.url, api_key=ALICE_KEY) as bound:
        with pytest.raises(PermissionDeniedError, match="mem0_lookup spans every scope"):
            bound.mem0_lookup([alices])
        memory, _ = mem0_on(bound, history)
        with pytest.raises(PermissionDeniedError):
            memory.get(alices)
    refused = httpx.post(url, json={"ids": [alices]}, headers={"X-API-Key": ALICE_KEY})
    assert refused.status_code == 403
    assert alices not in refused.text
    assert httpx.post(url, json={"ids": [alices]}).status_code == 401

    bodies: list[Any] = [
        {"ids": [alices], "user_id": ALICE},  # a scope is not a filter here
        {"ids": []},
        {"ids": ["x"] * (MAX_LOOKUP_IDS + 1)},
        {"ids": [""]},
        {"ids": alices},
        {"mem0_ids": [alices]},
    ]
    for body in bodies:
        answer = httpx.post(url, json=body, headers=admin)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["type"] == "ValidationError"
    scoped = httpx.post(f"{url}?user_id={ALICE}", json={"ids": [alices]}, headers=admin)
    assert scoped.status_code == 422

    with HybridMemClient(server.url, api_key=ADMIN_KEY) as client:
        with pytest.raises(ValidationError, match=r"invalid ids\[1\]"):
            client.mem0_lookup([alices, ""])
        # Nothing was erased by the refusals.
        assert [at.mem0_id for at in client.mem0_lookup([alices])] == [alices]
