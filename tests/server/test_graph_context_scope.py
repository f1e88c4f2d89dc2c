"""A run- or agent-bound key's /search with graph=true sees only its own relations (issue 25).

The key's scope is filled into the search's user_id/agent_id/run_id; the graph
context used to ignore all but the user: such keys got other runs' and other
agents' relations, and relations of expired memories, until the purge.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.live import LiveServer, start_server, write_config

ADMIN = "graph-scope-admin-key-0123456789"
RUN_KEY = "graph-scope-run-key-0123456789"
AGENT_KEY = "graph-scope-agent-key-0123456789"
KEYS = [
    {"key": ADMIN, "name": "admin"},
    {"key": RUN_KEY, "name": "run", "user_id": "gina", "agent_id": "bot", "run_id": "r1"},
    {"key": AGENT_KEY, "name": "agent", "user_id": "gina", "agent_id": "helper"},
]
PAST = "2020-01-01T00:00:00+00:00"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("graph-scope-server")
    live = start_server(write_config(home / "hybridmem.toml", home / "data", api_keys=KEYS))
    yield live
    live.stop()


def _item(agent_id: str, run_id: str, i: int, **extra: Any) -> dict[str, Any]:
    return {
        "text": f"Gina's {agent_id} {run_id} note {i} about Lisbon",
        "user_id": "gina",
        "agent_id": agent_id,
        "run_id": run_id,
        "entities": [{"name": "Lisbon", "type": "city"}],
        "relations": [{"source": "Lisbon", "target": f"{run_id}-{i}", "type": "has"}],
        **extra,
    }


def _call(server: LiveServer, key: str, method: str, path: str, body: Any) -> Any:
    response = httpx.request(
        method, server.url + path, json=body, headers={"X-API-Key": key}, timeout=60
    )
    assert response.status_code < 300, response.text
    return response.json()


def test_bound_keys_see_only_their_own_relations(server: LiveServer) -> None:
    items = (
        [_item("bot", "r1", i) for i in range(4)]
        + [_item("bot", "r2", i) for i in range(4)]
        + [_item("helper", "r3", i) for i in range(4)]
        + [_item("bot", "r1", 10 + i, expires_at=PAST) for i in range(4)]
    )
    _call(server, ADMIN, "POST", "/memories/batch", {"items": items})
    # The key fills in the parts it binds that the request leaves out.
    search = {"query": "Lisbon note", "user_id": "gina", "limit": 20, "graph": True}
    for key, bound in ((RUN_KEY, ("bot", "r1")), (AGENT_KEY, ("helper", "r3"))):
        hits = _call(server, key, "POST", "/search", search)
        assert len(hits) == 4
        relations = [r for hit in hits for r in hit["relations"]]
        # Each of the 4 hits mentions Lisbon: its context is the 4 own relations.
        assert len(relations) == 16
        assert {(r["agent_id"], r["run_id"]) for r in relations} == {bound}
        own = {hit["memory"]["id"] for hit in hits}
        assert {r["memory_id"] for r in relations} == own
    # The admin's whole-user search sees the three live runs.
    hits = _call(server, ADMIN, "POST", "/search", search)
    assert {r["run_id"] for hit in hits for r in hit["relations"]} == {"r1", "r2", "r3"}
