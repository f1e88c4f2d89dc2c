"""MCP tools over HybridStore (``hybridmem mcp``, stdio): memory for an agent's model.

Tools take text. A tool call may carry its own ``embedding``; otherwise the
configured embedder (``[embedder]``: wordllama when installed, see
:mod:`hybridmem.embedders`) makes one. Every store error becomes
an is_error result whose text is exactly the in-process message — ``delete_all_memories``
without a scope answers with the well-known "At least one filter is required…".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, TypeAdapter

from hybridmem.embedder import Embedder
from hybridmem.errors import HybridMemError
from hybridmem.models import DeleteResult, Entity, Memory, Neighborhood, Relation
from hybridmem.store import HybridStore

INSTRUCTIONS = (
    "Long-term memory scoped by user_id, agent_id and run_id (give at least one). "
    "add_memory stores a fact; search_memories finds related ones (graph=true adds the "
    "entities and relations each memory touches; entities=[names] favours memories near "
    "them); neighbors shows what the graph knows around an entity; "
    "delete_all_memories erases everything a scope owns from both stores."
)


class MemoryView(BaseModel):
    """A memory as a model sees it: no embedding (hundreds of floats of noise in a context)."""

    id: str
    text: str
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, memory: Memory) -> MemoryView:
        return cls.model_validate(memory.model_dump(exclude={"embedding", "hash"}))


class HitView(BaseModel):
    memory: MemoryView
    score: float
    entities: list[Entity] = []
    relations: list[Relation] = []


def _answer(action: Callable[[], Any]) -> CallToolResult:
    """The tool's result; a hybridmem error becomes an is_error result carrying exactly
    the in-process message (a raised ToolError would be prefixed by the SDK)."""
    try:
        value = action()
    except (HybridMemError, ValueError) as exc:
        return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)
    data = TypeAdapter(Any).dump_python(value, mode="json")
    # Lists travel wrapped, as the SDK wraps a list-returning tool's output schema.
    structured = data if isinstance(data, dict) else {"result": data}
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(data))], structured_content=structured
    )


def build_mcp(store: HybridStore, embedder: Embedder) -> MCPServer[Any]:
    """The MCP server with the memory tools over ``store``; the caller runs and closes it."""
    server: MCPServer[Any] = MCPServer(name="hybridmem", instructions=INSTRUCTIONS)

    def vector(text: str, embedding: list[float] | None) -> list[float]:
        return embedding if embedding is not None else embedder.embed(text)

    @server.tool(structured_output=True)
    def add_memory(
        text: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        entities: list[dict[str, str]] | None = None,
        relations: list[dict[str, str]] | None = None,
        embedding: list[float] | None = None,
    ) -> Annotated[CallToolResult, MemoryView]:
        """Store a memory for a scope (at least one of user_id, agent_id, run_id).

        entities: [{"name": …, "type": …}]; relations: [{"source": name,
        "target": name, "type": …}]. embedding: optional; without it the server's
        configured embedder is used.
        """
        return _answer(
            lambda: MemoryView.of(
                store.add(
                    text,
                    embedding=vector(text, embedding),
                    user_id=user_id,
                    agent_id=agent_id,
                    run_id=run_id,
                    metadata=metadata,
                    entities=entities,
                    relations=relations,
                )
            )
        )

    @server.tool(structured_output=True)
    def search_memories(
        query: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 10,
        embedding: list[float] | None = None,
        filters: dict[str, Any] | None = None,
        graph: bool = False,
        entities: list[str] | None = None,
    ) -> Annotated[CallToolResult, list[HitView]]:
        """The memories of a scope closest to ``query``, best first (score: cosine similarity).

        filters: {"key": value} or {"key": {"$gt": 1}} over metadata and
        created_at/updated_at ($eq $ne $gt $gte $lt $lte $in $nin), ANDed.
        graph=true: each hit also lists the entities its memory mentions and the
        relations around them. entities: names to anchor on (needs user_id).
        """
        return _answer(
            lambda: [
                HitView(
                    memory=MemoryView.of(h.memory),
                    score=h.score,
                    entities=h.entities,
                    relations=h.relations,
                )
                for h in store.search(
                    vector(query, embedding),
                    user_id=user_id,
                    agent_id=agent_id,
                    run_id=run_id,
                    limit=limit,
                    filters=filters,
                    graph=graph,
                    entities=entities,
                )
            ]
        )

    @server.tool(structured_output=True)
    def neighbors(
        name: str, user_id: str, depth: int = 1, limit: int = 100
    ) -> Annotated[CallToolResult, Neighborhood]:
        """What the graph knows around the entity ``name`` in user_id's namespace:
        the entities and relations within ``depth`` hops (1 to 3)."""
        return _answer(lambda: store.neighbors(name, user_id=user_id, depth=depth, limit=limit))

    @server.tool(structured_output=True)
    def list_memories(
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        filters: dict[str, Any] | None = None,
        entity: str | None = None,
    ) -> Annotated[CallToolResult, list[MemoryView]]:
        """The memories of a scope (at least one of user_id, agent_id, run_id), newest
        first; page with limit and offset. filters as in search_memories; entity:
        only memories that mention that entity (needs user_id)."""
        return _answer(
            lambda: [
                MemoryView.of(m)
                for m in store.get_all(
                    user_id=user_id,
                    agent_id=agent_id,
                    run_id=run_id,
                    limit=limit,
                    offset=offset,
                    filters=filters,
                    entity=entity,
                )
            ]
        )

    @server.tool(structured_output=True)
    def delete_memory(memory_id: str) -> Annotated[CallToolResult, DeleteResult]:
        """Erase one memory from both stores (and its text from history)."""
        return _answer(lambda: store.delete(memory_id))

    @server.tool(structured_output=True)
    def delete_all_memories(
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
    ) -> Annotated[CallToolResult, DeleteResult]:
        """Erase everything a scope owns from both stores; a scope is required.

        dry_run=true only counts what would be erased.
        """
        return _answer(
            lambda: store.delete_all(
                user_id=user_id, agent_id=agent_id, run_id=run_id, dry_run=dry_run
            )
        )

    return server
