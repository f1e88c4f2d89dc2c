"""``hybridmem mcp`` as a subprocess, driven by the official MCP client over stdio."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from hybridmem.validation import NO_FILTER_MESSAGE
from tests.server.live import HYBRIDMEM, write_config

TOOLS = {
    "add_memory",
    "search_memories",
    "list_memories",
    "delete_memory",
    "delete_all_memories",
    "neighbors",
}


def _text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def _session_scenario(config: Path) -> None:
    params = StdioServerParameters(command=HYBRIDMEM, args=["mcp", "--config", str(config)])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = await session.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS

        added = []
        for text, run in (("Alice lives in Lisbon", "r1"), ("Alice likes trams", "r2")):
            result = await session.call_tool(
                "add_memory",
                {
                    "text": text,
                    "user_id": "mcp-alice",
                    "run_id": run,
                    "entities": [{"name": "Alice", "type": "person"}],
                },
            )
            assert not result.is_error, _text(result)
            added.append(result.structured_content)
        assert added[0]["user_id"] == "mcp-alice" and "embedding" not in added[0]
        # A caller's own embedding is used as given (dimension of the built-in embedder: 64).
        own = await session.call_tool(
            "add_memory",
            {"text": "Bob's note", "user_id": "mcp-bob", "embedding": [1.0] + [0.0] * 63},
        )
        assert not own.is_error, _text(own)

        hits = await session.call_tool(
            "search_memories", {"query": "where does Alice live", "user_id": "mcp-alice"}
        )
        assert not hits.is_error, _text(hits)
        assert hits.structured_content["result"][0]["memory"]["text"] == "Alice lives in Lisbon"

        listed_memories = await session.call_tool("list_memories", {"user_id": "mcp-alice"})
        assert len(listed_memories.structured_content["result"]) == 2

        refused = await session.call_tool("delete_all_memories", {})
        assert refused.is_error
        assert _text(refused) == NO_FILTER_MESSAGE

        preview = await session.call_tool(
            "delete_all_memories", {"user_id": "mcp-alice", "dry_run": True}
        )
        assert preview.structured_content["memories"] == 2
        erased = await session.call_tool("delete_all_memories", {"user_id": "mcp-alice"})
        assert not erased.is_error, _text(erased)
        counts = erased.structured_content
        assert counts["message"] == "Memories deleted successfully!"
        assert (counts["memories"], counts["vectors"], counts["memory_nodes"]) == (2, 2, 2)
        assert counts["orphan_entities"] == 1

        after = await session.call_tool("list_memories", {"user_id": "mcp-alice"})
        assert after.structured_content["result"] == []
        bob = await session.call_tool("list_memories", {"user_id": "mcp-bob"})
        assert [m["text"] for m in bob.structured_content["result"]] == ["Bob's note"]

        deleted = await session.call_tool(
            "delete_memory", {"memory_id": bob.structured_content["result"][0]["id"]}
        )
        assert deleted.structured_content["memories"] == 1
        invalid = await session.call_tool("list_memories", {"user_id": "  "})
        assert invalid.is_error and "invalid user_id" in _text(invalid)

        # A memory that expires: listed until then, with its expiry; a bad expiry refused.
        expiring = await session.call_tool(
            "add_memory", {"text": "gate code 4711", "user_id": "mcp-carl", "ttl": 3600}
        )
        assert not expiring.is_error, _text(expiring)
        assert expiring.structured_content["expires_at"] is not None
        carl = await session.call_tool("list_memories", {"user_id": "mcp-carl"})
        assert carl.structured_content["result"][0]["expires_at"] is not None
        past = await session.call_tool(
            "add_memory",
            {"text": "x", "user_id": "mcp-carl", "expires_at": "2020-01-01T00:00:00Z"},
        )
        assert past.is_error and "already expired" in _text(past)


def test_mcp_tools_over_stdio(tmp_path: Path) -> None:
    config = write_config(tmp_path / "hybridmem.toml", tmp_path / "data")
    asyncio.run(_session_scenario(config))
