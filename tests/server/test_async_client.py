"""AsyncHybridMemClient against a live server: same results and errors as the sync client."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hybridmem import InvalidScopeError, MissingScopeError, NotFoundError
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.validation import NO_FILTER_MESSAGE
from tests.server.live import LiveServer, start_server, write_config

E1 = [1.0, 0.0, 0.0]


def test_async_results_equal_sync_results(open_server: LiveServer, name: str) -> None:
    def scenario_sync(user: str) -> list[object]:
        with HybridMemClient(open_server.url) as client:
            memory = client.add(
                "x", embedding=E1, user_id=user, entities=[{"name": "E", "type": "t"}]
            )
            return [
                memory,
                client.get(memory.id),
                client.get_all(user_id=user),
                client.search(E1, user_id=user),
                client.entities(user_id=user),
                client.delete_all(user_id=user, dry_run=True),
                client.delete_all(user_id=user),
                client.history(memory.id),
            ]

    async def scenario_async(user: str) -> list[object]:
        async with AsyncHybridMemClient(open_server.url) as client:
            memory = await client.add(
                "x", embedding=E1, user_id=user, entities=[{"name": "E", "type": "t"}]
            )
            return [
                memory,
                await client.get(memory.id),
                await client.get_all(user_id=user),
                await client.search(E1, user_id=user),
                await client.entities(user_id=user),
                await client.delete_all(user_id=user, dry_run=True),
                await client.delete_all(user_id=user),
                await client.history(memory.id),
            ]

    sync_results = scenario_sync(f"{name}-s")
    async_results = asyncio.run(scenario_async(f"{name}-a"))
    assert [type(r) for r in sync_results] == [type(r) for r in async_results]
    volatile = {
        "id",
        "operation_id",
        "elapsed_seconds",
        "created_at",
        "updated_at",
        "user_id",
        "scope",
        "memory_id",
        "hash",
        "erased_by",
    }

    def shape(value: object) -> object:
        if hasattr(value, "model_dump"):
            value = value.model_dump()
        if isinstance(value, list):
            return [shape(v) for v in value]
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items() if k not in volatile}
        return value

    assert shape(sync_results) == shape(async_results)
    deleted = async_results[6]
    assert deleted["message"] == "Memories deleted successfully!"  # type: ignore[index]
    assert deleted.memories == 1 and deleted.orphan_entities == 1  # type: ignore[attr-defined]


def test_async_errors_are_the_in_process_exceptions(open_server: LiveServer, name: str) -> None:
    async def scenario() -> None:
        async with AsyncHybridMemClient(open_server.url) as client:
            with pytest.raises(MissingScopeError, match=r"^At least one filter is required"):
                await client.delete_all()
            with pytest.raises(InvalidScopeError) as invalid:
                await client.get_all(user_id="")
            assert invalid.value.parameter == "user_id"
            with pytest.raises(NotFoundError):
                await client.update("00000000-0000-4000-8000-000000000001", text="x")
            assert await client.get("00000000-0000-4000-8000-000000000001") is None

    asyncio.run(scenario())
    assert str(MissingScopeError(NO_FILTER_MESSAGE)) == NO_FILTER_MESSAGE


def test_a_long_delete_all_does_not_block_other_requests(tmp_path: Path) -> None:
    """Endpoints run in the thread pool: the server keeps answering during an erasure."""
    config = write_config(tmp_path / "hybridmem.toml", tmp_path / "data")
    # One memory per batch: each batch is a journal checkpoint, so the erasure takes a while.
    config.write_text("batch_size = 1\n" + config.read_text())
    server = start_server(config)
    try:
        asyncio.run(_erase_while_probing(server))
    finally:
        server.stop()


async def _erase_while_probing(server: LiveServer) -> None:
    async with AsyncHybridMemClient(server.url) as client:
        await asyncio.gather(
            *(client.add(f"m{i}", embedding=E1, user_id="slow") for i in range(100))
        )
        erase = asyncio.create_task(client.delete_all(user_id="slow"))
        answered = 0
        while not erase.done():
            assert (await client.get_all(user_id="someone-else")) == []
            answered += 1
            await asyncio.sleep(0.01)
        result = await erase
    assert result.memories == 100
    # Probes answered while the erasure ran; how fast they answered is measured
    # against an idle floor in benchmarks/server_responsiveness.py.
    assert answered >= 3, f"the erasure was too quick to probe ({answered} probes)"
