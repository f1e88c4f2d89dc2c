"""``hybridmem mcp`` on a data directory a running ``hybridmem serve`` holds (issue 23,
part 2), and ``hybridmem mcp --url URL --api-key KEY`` against a server: every tool
answers as it does over the store itself, on each pair with an embedded Kuzu file."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from hybridmem import HybridStore
from hybridmem.errors import ConfigurationError
from tests.cli.owned import (
    ADMIN_KEY,
    API_KEYS,
    embedded_pair,
    normalized,
    reset_server_stores,
    serving,
    write_pair_config,
)
from tests.conftest import PairConfig
from tests.server.live import HYBRIDMEM

__all__ = ["embedded_pair"]

OWN_VECTOR = [1.0] + [0.0] * 63
ENTITIES = [{"name": "Alice", "type": "person"}, {"name": "Lisbon", "type": "city"}]
RELATIONS = [{"source": "Alice", "target": "Lisbon", "type": "lives_in"}]


async def _transcript(args: list[str]) -> str:
    params = StdioServerParameters(command=HYBRIDMEM, args=["mcp", *args], env=dict(os.environ))
    lines: list[str] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()

        async def call(tool: str, arguments: dict[str, Any]) -> Any:
            result = await session.call_tool(tool, arguments)
            text = "".join(getattr(block, "text", "") for block in result.content)
            lines.append(f"{tool} {json.dumps(arguments)}\nerror={result.is_error}\n{text}")
            return result.structured_content

        added = await call(
            "add_memory",
            {
                "text": "Alice lives in Lisbon",
                "user_id": "own-alice",
                "entities": ENTITIES,
                "relations": RELATIONS,
            },
        )
        await call(
            "add_memory",
            {"text": "Alice likes trams", "user_id": "own-alice", "metadata": {"topic": "t"}},
        )
        await call(
            "add_memory", {"text": "Bob's note", "user_id": "own-bob", "embedding": OWN_VECTOR}
        )
        await call("add_memory", {"text": "no scope"})
        await call("add_memory", {"text": "typo", "user_id": "own-alice", "agnt_id": "x"})
        await call(
            "add_memory",
            {"text": "both", "user_id": "own-alice", "ttl": 5, "expires_at": "2999-01-01T00:00:00"},
        )
        await call("search_memories", {"query": "where does Alice live", "user_id": "own-alice"})
        await call("search_memories", {"query": "x", "user_id": "own-bob", "embedding": OWN_VECTOR})
        await call(
            "search_memories",
            {"query": "Alice", "user_id": "own-alice", "graph": True, "entities": ["Lisbon"]},
        )
        await call(
            "search_memories",
            {"query": "trams", "user_id": "own-alice", "filters": {"topic": {"$bad": 1}}},
        )
        await call("list_memories", {"user_id": "own-alice"})
        await call("list_memories", {"user_id": "own-alice", "entity": "Lisbon"})
        await call("neighbors", {"name": "Alice", "user_id": "own-alice", "depth": 2})
        await call("neighbors", {"name": "Alice", "user_id": "own-alice", "depth": 9})
        await call("delete_all_memories", {})
        await call("delete_all_memories", {"user_id": "own-bob", "dry_run": True})
        await call("delete_all_memories", {"user_id": "own-bob"})
        await call("delete_memory", {"memory_id": added["id"]})
        await call("delete_memory", {"memory_id": added["id"]})
        await call("delete_memory", {"memory_id": "not-an-id"})
        await call("list_memories", {"user_id": "own-alice"})
    return normalized("\n".join(lines))


def test_mcp_through_a_running_serve_answers_as_over_the_store(
    embedded_pair: PairConfig, tmp_path: Path
) -> None:
    direct_config = write_pair_config(tmp_path / "direct.toml", embedded_pair(tmp_path / "direct"))
    direct = asyncio.run(_transcript(["--config", str(direct_config)]))
    reset_server_stores(embedded_pair, tmp_path / "scratch")
    config = write_pair_config(
        tmp_path / "served.toml", embedded_pair(tmp_path / "served"), api_keys=API_KEYS
    )
    with serving(config) as server:
        # Found by itself from the data directory, with the server's local key.
        through = asyncio.run(_transcript(["--config", str(config)]))
        assert server.process.poll() is None, server.log_tail()
    reset_server_stores(embedded_pair, tmp_path / "scratch")
    config = write_pair_config(
        tmp_path / "served2.toml", embedded_pair(tmp_path / "served2"), api_keys=API_KEYS
    )
    with serving(config) as server:
        # Told where the server is, with a configured key.
        by_url = asyncio.run(_transcript(["--url", server.url, "--api-key", ADMIN_KEY]))
    assert through == direct
    assert by_url == direct


def test_two_mcp_clients_share_one_served_store(tmp_path: Path) -> None:
    """A second MCP client used to exit 3 on Kuzu's file lock."""
    store = {
        "data_dir": str(tmp_path / "data"),
        "graph": {"provider": "kuzu"},
        "vector": {"provider": "kuzu"},
    }
    config = write_pair_config(tmp_path / "c.toml", store)

    async def both() -> tuple[Any, Any]:
        params = StdioServerParameters(
            command=HYBRIDMEM, args=["mcp", "--config", str(config)], env=dict(os.environ)
        )
        async with (
            stdio_client(params) as (r1, w1),
            ClientSession(r1, w1) as first,
            stdio_client(params) as (r2, w2),
            ClientSession(r2, w2) as second,
        ):
            await first.initialize()
            await second.initialize()
            wrote = await first.call_tool("add_memory", {"text": "shared", "user_id": "u"})
            read = await second.call_tool("list_memories", {"user_id": "u"})
            return wrote, read

    with serving(config):
        wrote, read = asyncio.run(both())
    assert not wrote.is_error
    assert [m["text"] for m in read.structured_content["result"]] == ["shared"]


def test_mcp_writes_record_the_embedder(tmp_path: Path) -> None:
    """Issue 25: the MCP tools embedded text themselves, so the store never recorded
    the embedder and reopening it with another one was not refused."""
    store = {
        "data_dir": str(tmp_path / "data"),
        "graph": {"provider": "kuzu"},
        "vector": {"provider": "kuzu"},
    }
    config = write_pair_config(tmp_path / "c.toml", store)

    async def add() -> Any:
        params = StdioServerParameters(
            command=HYBRIDMEM, args=["mcp", "--config", str(config)], env=dict(os.environ)
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await session.call_tool("add_memory", {"text": "Alice", "user_id": "u"})

    assert not asyncio.run(add()).is_error
    with pytest.raises(ConfigurationError, match="created with embedder 'hashing'"):
        HybridStore({**store, "embedder": {"provider": "hashing", "dimension": 32}})
