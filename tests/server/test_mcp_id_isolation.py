"""MCP's delete_memory with a scope: another scope's id answers as an unknown one."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from hybridmem import HybridStore
from tests.server.live import HYBRIDMEM, write_config

UNKNOWN = "7d3c2b1a-0f9e-4d8c-8b7a-6a5f4e3d2c1b"


def _answer(result: Any, memory_id: str) -> tuple[bool, Any]:
    content = dict(result.structured_content or {})
    content.pop("elapsed_seconds", None)
    text = "".join(getattr(block, "text", "") for block in result.content)
    return result.is_error, (content, "" if content else text.replace(memory_id, "ID"))


async def _scenario(config: Path, alices: str) -> None:
    params = StdioServerParameters(
        command=HYBRIDMEM, args=["mcp", "--config", str(config)], env=dict(os.environ)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        answers = []
        for memory_id in (alices, UNKNOWN):
            result = await session.call_tool(
                "delete_memory", {"memory_id": memory_id, "user_id": "mcp-bob"}
            )
            answers.append(_answer(result, memory_id))
        assert answers[0] == answers[1]
        assert answers[0][1][0]["memories"] == 0


def test_delete_memory_leaves_another_scopes_memory(tmp_path: Path) -> None:
    config = write_config(tmp_path / "hybridmem.toml", tmp_path / "data")
    with HybridStore.from_config(config) as store:
        alices = store.add("alice's", embedding=[1.0] + [0.0] * 63, user_id="mcp-alice").id
    asyncio.run(_scenario(config, alices))
    with HybridStore.from_config(config) as store:
        assert store.get(alices) is not None
