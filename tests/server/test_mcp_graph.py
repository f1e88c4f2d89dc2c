"""MCP tools an agent uses every turn: search with graph context, neighbors, filters, paging."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.server.live import HYBRIDMEM, write_config


async def _call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> Any:
    result = await session.call_tool(tool, arguments)
    text = "".join(getattr(block, "text", "") for block in result.content)
    assert not result.is_error, text
    content = result.structured_content
    return content["result"] if isinstance(content, dict) and "result" in content else content


async def _scenario(config: Path) -> None:
    params = StdioServerParameters(command=HYBRIDMEM, args=["mcp", "--config", str(config)])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for text, topic, relations in (
            ("Alice lives in Lisbon", "home", [["Alice", "Lisbon", "lives_in"]]),
            ("Alice flies to Kyoto in April", "travel", [["Alice", "Kyoto", "visits"]]),
        ):
            await _call(
                session,
                "add_memory",
                {
                    "text": text,
                    "user_id": "mcp-graph",
                    "metadata": {"topic": topic},
                    "relations": [{"source": s, "target": t, "type": r} for s, t, r in relations],
                },
            )
        hits = await _call(
            session,
            "search_memories",
            {"query": "Lisbon", "user_id": "mcp-graph", "limit": 1, "graph": True},
        )
        assert hits[0]["memory"]["text"] == "Alice lives in Lisbon"
        # Its own relation, and the 1-hop neighbourhood of the entities it mentions.
        assert sorted((r["source"], r["type"], r["target"]) for r in hits[0]["relations"]) == [
            ("Alice", "lives_in", "Lisbon"),
            ("Alice", "visits", "Kyoto"),
        ]
        assert sorted(e["name"] for e in hits[0]["entities"]) == ["Alice", "Lisbon"]
        near = await _call(session, "neighbors", {"name": "alice", "user_id": "mcp-graph"})
        assert sorted(e["name"] for e in near["entities"]) == ["Alice", "Kyoto", "Lisbon"]
        travel = await _call(
            session,
            "list_memories",
            {"user_id": "mcp-graph", "filters": {"topic": {"$in": ["travel"]}}},
        )
        assert [m["text"] for m in travel] == ["Alice flies to Kyoto in April"]
        second = await _call(
            session, "list_memories", {"user_id": "mcp-graph", "limit": 1, "offset": 1}
        )
        assert [m["text"] for m in second] == ["Alice lives in Lisbon"]
        bad = await session.call_tool(
            "neighbors", {"name": "Alice", "user_id": "mcp-graph", "depth": 9}
        )
        assert bad.is_error


def test_search_with_graph_context_and_neighbors(tmp_path: Path) -> None:
    config = write_config(tmp_path / "hybridmem.toml", tmp_path / "data")
    asyncio.run(_scenario(config))
