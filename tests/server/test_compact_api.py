"""``POST /compact``: the store's compaction over REST, for an unrestricted key only;
and ``compact()`` on both clients (before, neither the route nor the clients'
method existed, and HybridStore's API was not the clients').

The route runs on every pair (TestClient over a real store); the clients over a
live ``hybridmem serve`` on the embedded pair."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hybridmem import HybridStore
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.compaction import RewritableStore
from hybridmem.config import ApiKeyConfig
from hybridmem.errors import PermissionDeniedError
from hybridmem.journal import Journal
from hybridmem.models import CompactionProgress, CompactionReport
from hybridmem.server import create_app
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig
from tests.integration.erasure_bytes import Erased, files_holding
from tests.server.conftest import ADMIN_KEY, ALICE_KEY
from tests.server.live import LiveServer

ADMIN = {"X-API-Key": "compact-admin-key-0123456789"}
BOUND = {"X-API-Key": "compact-alice-key-0123456789"}
KEYS = [
    ApiKeyConfig.model_validate({"key": ADMIN["X-API-Key"], "name": "admin"}),
    ApiKeyConfig.model_validate(
        {"key": BOUND["X-API-Key"], "name": "alice", "user_id": "compact-alice"}
    ),
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def served(pair_config: PairConfig, data: Path) -> Iterator[tuple[HybridStore, TestClient]]:
    with (
        HybridStore(pair_config(data)) as store,
        TestClient(create_app(store, api_keys=KEYS)) as client,
    ):
        yield store, client


def _add(client: TestClient, text: str, user_id: str, entity: str) -> None:
    body = {
        "text": text,
        "embedding": embedding(text),
        "user_id": user_id,
        "entities": [{"name": entity, "type": "thing"}],
    }
    assert client.post("/memories", json=body, headers=ADMIN).status_code == 201


def test_admin_compacts_and_erased_values_leave_the_data_directory(
    served: tuple[HybridStore, TestClient], data: Path
) -> None:
    store, client = served
    erased = Erased()
    gone_user = erased.new("USER")
    for _ in range(2):
        _add(client, erased.new("TEXT"), gone_user, erased.new("ENT"))
    for i in range(3):
        _add(client, f"kept {i}", "compact-alice", f"Kept{i}")
    erasure = client.delete("/memories", params={"user_id": gone_user}, headers=ADMIN)
    assert erasure.status_code == 200 and erasure.json()["memories"] == 2

    answer = client.post("/compact", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    report = CompactionReport.model_validate(answer.json())
    rewritten = [r for r in (store.graph, store.vector) if isinstance(r, RewritableStore)]
    assert report.files == [str(r.file_path) for r in rewritten]
    # The counts are what was copied: the live records of each rewritten file.
    graph_copied = isinstance(store.graph, RewritableStore)
    assert report.memory_nodes == (3 if graph_copied else 0)
    assert report.entities == (3 if graph_copied else 0)
    assert report.vectors == (3 if isinstance(store.vector, RewritableStore) else 0)
    local_journal = isinstance(store.journal, Journal)
    assert report.journal_scrubbed is local_journal
    assert (report.scope_ids_scrubbed >= 1) is local_journal
    info = client.get(f"/operations/{report.operation_id}", headers=ADMIN).json()
    assert (info["kind"], info["state"]) == ("compact", "done")
    assert files_holding(data, erased.values) == {}
    kept = client.get("/memories", params={"user_id": "compact-alice"}, headers=ADMIN).json()
    assert sorted(m["text"] for m in kept) == ["kept 0", "kept 1", "kept 2"]


def test_a_bound_key_is_refused_and_nothing_is_compacted(
    served: tuple[HybridStore, TestClient], data: Path
) -> None:
    store, client = served
    erased = Erased()
    text = erased.new("TEXT")
    _add(client, text, "compact-alice", "Thing")
    mine = client.get("/memories", params={"user_id": "compact-alice"}, headers=BOUND).json()
    assert client.delete(f"/memories/{mine[0]['id']}", headers=BOUND).status_code == 200

    refused = client.post("/compact", headers=BOUND)
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "PermissionDeniedError"
    assert "compact spans every scope" in refused.json()["error"]["message"]
    assert client.post("/compact", headers={"X-API-Key": "wrong-key-0123456789"}).status_code == 401
    assert client.post("/compact", params={"fix": "true"}, headers=ADMIN).status_code == 422
    # Not run: the erased text is still in the embedded files.
    if any(isinstance(r, RewritableStore) for r in (store.graph, store.vector)):
        assert files_holding(data, [text]) != {}, "the refused call compacted"


def test_both_clients_compact_with_the_same_report_type(keyed_server: LiveServer) -> None:
    heard: list[CompactionProgress] = []
    with HybridMemClient(keyed_server.url, api_key=ADMIN_KEY) as admin:
        report = admin.compact(progress=heard.append)
        assert isinstance(report, CompactionReport)
        # The live server's store is the embedded pair: both files rewritten.
        assert len(report.files) == 2 and report.journal_scrubbed
        assert admin.operation(report.operation_id).kind == "compact"  # type: ignore[union-attr]
    assert [e.phase for e in heard] == ["done"]
    with (
        HybridMemClient(keyed_server.url, api_key=ALICE_KEY) as alice,
        pytest.raises(PermissionDeniedError, match="compact spans every scope"),
    ):
        alice.compact()

    async def awaited() -> CompactionReport:
        async with AsyncHybridMemClient(keyed_server.url, api_key=ADMIN_KEY) as client:
            return await client.compact()

    again = asyncio.run(awaited())
    assert isinstance(again, CompactionReport) and again.operation_id != report.operation_id
