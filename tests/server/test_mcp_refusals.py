"""``hybridmem mcp``: misspelt arguments are refused on every tool, arguments are as strict
as the Python API, and every request gets an answer (none may hang the client)."""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
from pathlib import Path
from typing import Any

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.server.live import HYBRIDMEM, write_config

#: A valid call of each tool, to which the sweep adds one misspelt argument.
VALID: dict[str, dict[str, Any]] = {
    "add_memory": {"text": "a fact", "user_id": "alice", "agent_id": "A"},
    "search_memories": {"query": "fact", "user_id": "alice"},
    "list_memories": {"user_id": "alice"},
    "neighbors": {"name": "Lisbon", "user_id": "alice"},
    "delete_memory": {"memory_id": "00000000-0000-4000-8000-000000000000"},
    "delete_all_memories": {"user_id": "alice", "agent_id": "A", "dry_run": True},
}


def _text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def _misspellings(declared: list[str]) -> list[str]:
    names = ["dryrun", "agnt_id"]
    for name in declared:
        names += [name.replace("_", ""), name.upper(), name[:-1]]
    return [name for name in dict.fromkeys(names) if name not in declared]


async def _memories(session: ClientSession, **scope: str) -> list[dict[str, Any]]:
    listed = await session.call_tool("list_memories", dict(scope))
    assert not listed.is_error, _text(listed)
    result: list[dict[str, Any]] = listed.structured_content["result"]  # type: ignore[index]
    return result


async def _scenario(config: Path) -> int:
    # The whole environment, not the SDK's short default list: the server process must
    # run under the same settings as the test (the mutation matrix's break included).
    params = StdioServerParameters(
        command=HYBRIDMEM, args=["mcp", "--config", str(config)], env=dict(os.environ)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = {
            t.name: list(t.input_schema["properties"]) for t in (await session.list_tools()).tools
        }
        assert set(tools) == set(VALID), "every tool is swept"
        for agent in ("A", "B"):
            added = await session.call_tool(
                "add_memory", {"text": f"alice {agent}", "user_id": "alice", "agent_id": agent}
            )
            assert not added.is_error, _text(added)
        before = await _memories(session, user_id="alice")
        tried = 0
        for name, declared in tools.items():
            for wrong in _misspellings(declared):
                with anyio.fail_after(60):
                    result = await session.call_tool(name, {**VALID[name], wrong: "B"})
                tried += 1
                assert result.is_error, (name, wrong, _text(result))
                assert f"invalid {wrong}: unknown argument" in _text(result), _text(result)
        # The case: a misspelt agent_id erased every agent's memories.
        erased = await session.call_tool(
            "delete_all_memories", {"user_id": "alice", "agnt_id": "A"}
        )
        assert erased.is_error
        assert await _memories(session, user_id="alice") == before, "a refused call changed data"

        # As strict as the Python API: no bool or string where a number goes.
        for embedding in ([True] + [0.0] * 63, ["1"] + [0.0] * 63):
            for tool, args in (
                ("add_memory", {"text": "x", "user_id": "alice"}),
                ("search_memories", {"query": "x", "user_id": "alice"}),
            ):
                result = await session.call_tool(tool, {**args, "embedding": embedding})
                assert result.is_error, (tool, embedding, _text(result))
        for limit in (10**30, "5", True):
            result = await session.call_tool("list_memories", {"user_id": "alice", "limit": limit})
            assert result.is_error, (limit, _text(result))
            assert "Unable to cast" not in _text(result)
        huge = await session.call_tool("list_memories", {"user_id": "alice", "limit": 10**30})
        assert "invalid limit: must be an integer from 1 to 100000" in _text(huge)
        as_text = await session.call_tool(
            "delete_all_memories", {"user_id": "alice", "dry_run": "false"}
        )
        assert as_text.is_error, "a string dry_run is refused, not read as a real erasure"
        assert await _memories(session, user_id="alice") == before
        return tried


def test_every_tool_refuses_misspelt_and_loosely_typed_arguments(tmp_path: Path) -> None:
    config = write_config(tmp_path / "hybridmem.toml", tmp_path / "data")
    tried = asyncio.run(_scenario(config))
    assert tried >= 20


def _exchange(process: subprocess.Popen[bytes], line: str, timeout: float = 60) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line.encode() + b"\n")
    process.stdin.flush()
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"no answer within {timeout}s to {line[:120]}"
    answer: dict[str, Any] = json.loads(process.stdout.readline())
    return answer


def test_a_request_with_a_lone_surrogate_gets_an_answer(tmp_path: Path) -> None:
    """Raw JSON-RPC lines: the official client cannot even send a lone surrogate, but any
    client may, and the SDK used to drop such a line without answering (a hang)."""
    config = write_config(tmp_path / "hybridmem.toml", tmp_path / "data")
    process = subprocess.Popen(
        [HYBRIDMEM, "mcp", "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        }
        assert "result" in _exchange(process, json.dumps(init))
        assert process.stdin is not None
        process.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
        call = (
            '{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add_memory",'
            ' "arguments": {"text": "x", "user_id": "s", "metadata": {"k": "\\udc00"}}}}'
        )
        answer = _exchange(process, call)
        assert answer["id"] == 2 and "surrogate" in answer["error"]["message"]
        listed = _exchange(
            process,
            '{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params":'
            ' {"name": "list_memories", "arguments": {"user_id": "s"}}}',
        )
        assert listed["id"] == 3 and listed["result"]["structuredContent"] == {"result": []}
    finally:
        process.terminate()
        process.wait(20)
