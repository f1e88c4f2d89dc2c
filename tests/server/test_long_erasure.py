"""A delete_all that outlasts the request answers 202 and goes on; the clients follow
it to the same result as in process (before, the whole erasure ran inside one
request, and the clients timed out at 60 s on a large scope)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.models import DeleteProgress, OperationInfo
from tests.server.live import LiveServer, start_server

MEMORIES = 300


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An erasure answers within 1 ms, and goes in batches of 5: every delete_all of
    a few hundred memories outlasts its request."""
    home = tmp_path_factory.mktemp("long-erasure")
    config = home / "hybridmem.toml"
    config.write_text(
        f'data_dir = "{home / "data"}"\n'
        "batch_size = 5\n"
        '[embedder]\nprovider = "hashing"\n'
        "[server]\nerasure_wait_seconds = 0.001\n"
    )
    server = start_server(config)
    yield server
    server.stop()


def _seed(client: HybridMemClient, user: str) -> None:
    items = [
        {"text": f"fact {i}", "embedding": [1.0, float(i)], "user_id": user, "run_id": "r"}
        for i in range(MEMORIES)
    ]
    assert client.add_many(items).added == MEMORIES


def _until_done(client: HybridMemClient, operation_id: str) -> OperationInfo:
    """The operation's record once done: it goes on without the request."""
    for _ in range(600):
        info = client.operation(operation_id)
        if info is not None and info.state == "done":
            return info
        time.sleep(0.1)
    raise AssertionError(f"operation {operation_id} not done: {info}")


def test_a_long_erasure_answers_202_with_its_operation(slow_server: LiveServer) -> None:
    with HybridMemClient(slow_server.url) as client:
        _seed(client, "raw")
        response = httpx.delete(f"{slow_server.url}/memories", params={"user_id": "raw"})
        assert response.status_code == 202, response.text
        body = response.json()
        assert body["status"] == "running" and body["total"] == MEMORIES
        assert response.headers["location"] == body["url"] == f"/operations/{body['operation_id']}"
        info = _until_done(client, body["operation_id"])
        assert info.counts["memories"] == MEMORIES
        assert client.get_all(user_id="raw") == []


def test_the_clients_follow_it_to_the_in_process_result(slow_server: LiveServer) -> None:
    seen: list[DeleteProgress] = []
    with HybridMemClient(slow_server.url) as client:
        _seed(client, "sync")
        result = client.delete_all(user_id="sync", progress=seen.append)
        assert result["message"] == "Memories deleted successfully!"
        assert (result.memories, result.vectors, result.memory_nodes) == (MEMORIES,) * 3
        assert result.scope.parts() == {"user_id": "sync"}
        assert client.get_all(user_id="sync") == []
        _seed(client, "async")

    assert [p.phase for p in seen][-1] == "done" and seen[-1].done == MEMORIES
    assert len(seen) >= 2 and all(p.total == MEMORIES for p in seen)

    async def awaited() -> None:
        async with AsyncHybridMemClient(slow_server.url) as client:
            result = await client.delete_all(user_id="async")
            assert result.memories == MEMORIES
            assert await client.get_all(user_id="async") == []

    asyncio.run(awaited())


def test_a_preview_answers_at_once(slow_server: LiveServer) -> None:
    with HybridMemClient(slow_server.url) as client:
        _seed(client, "preview")
        preview = client.delete_all(user_id="preview", dry_run=True)
        assert preview.dry_run and preview.memories == MEMORIES
        assert len(client.get_all(user_id="preview", limit=MEMORIES)) == MEMORIES


def test_a_long_compaction_answers_202_and_the_clients_get_its_report(
    slow_server: LiveServer,
) -> None:
    with HybridMemClient(slow_server.url) as client:
        _seed(client, "compacted")
        client.delete_all(user_id="compacted", run_id="r")
        response = httpx.post(f"{slow_server.url}/compact", timeout=60)
        assert response.status_code == 202, response.text
        body = response.json()
        assert response.headers["location"] == body["url"] == f"/operations/{body['operation_id']}"
        assert _until_done(client, body["operation_id"]).kind == "compact"

        # The clients follow it and return the report of the worker that ran it, whole.
        report = client.compact()
        assert report.files and report.bytes_before > 0 and report.journal_scrubbed
        assert client.operation(report.operation_id).state == "done"  # type: ignore[union-attr]

    async def awaited() -> None:
        async with AsyncHybridMemClient(slow_server.url) as client:
            report = await client.compact()
            assert report.files and report.operation_id != body["operation_id"]

    asyncio.run(awaited())
