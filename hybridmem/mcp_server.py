"""MCP tools over HybridStore (``hybridmem mcp``, stdio): memory for an agent's model.

Tools take text. A tool call may carry its own ``embedding``; otherwise the
store embeds the text with its configured embedder (``[embedder]``: wordllama
when installed, see :mod:`hybridmem.embedders`) and records which one made the
vectors. The tools run over a HybridStore, or over a HybridMemClient when a
``hybridmem serve`` holds the store (or ``--url`` names one). Every store error becomes
an is_error result whose text is exactly the in-process message — ``delete_all_memories``
without a scope answers with the well-known "At least one filter is required…".
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.context import Context
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import (
    PARSE_ERROR,
    CallToolResult,
    ErrorData,
    InputRequiredResult,
    JSONRPCError,
    TextContent,
)
from pydantic import BaseModel, StrictBool, StrictFloat, StrictInt, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from hybridmem.client import HybridMemClient
from hybridmem.errors import HybridMemError
from hybridmem.models import DeleteResult, Entity, Memory, Neighborhood, Relation
from hybridmem.store import HybridStore

#: What the tools run against: the store itself, or a server's client.
MemoryBackend = HybridStore | HybridMemClient

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
    #: When it expires (None: never); no read returns it after that.
    expires_at: datetime | None = None

    @classmethod
    def of(cls, memory: Memory) -> MemoryView:
        return cls.model_validate(memory.model_dump(exclude={"embedding", "hash"}))


class HitView(BaseModel):
    memory: MemoryView
    score: float
    entities: list[Entity] = []
    relations: list[Relation] = []


def _refusal(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def _answer(action: Callable[[], Any]) -> CallToolResult:
    """The tool's result; a hybridmem error becomes an is_error result carrying exactly
    the in-process message (a raised ToolError would be prefixed by the SDK)."""
    try:
        value = action()
    except (HybridMemError, ValueError) as exc:
        return _refusal(str(exc))
    data = TypeAdapter(Any).dump_python(value, mode="json")
    # Lists travel wrapped, as the SDK wraps a list-returning tool's output schema.
    structured = data if isinstance(data, dict) else {"result": data}
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(data))], structured_content=structured
    )


def _unparsable_request_answer(item: Exception) -> JSONRPCError | None:
    """The error answer to a request line the SDK could not parse, if it names an id.

    The SDK parses each stdio line with pydantic's JSON parser, which refuses a lone
    surrogate escape (``"\\udc00"``, valid JSON) where Python's json accepts it; the SDK
    then drops the line, so the client waits forever for its answer. Python's
    parser finds the request's id, and the client gets a parse error for it.
    """
    if not isinstance(item, PydanticValidationError) or not item.errors():
        return None
    line = item.errors()[0].get("input")
    try:
        request = json.loads(line) if isinstance(line, str) else None
    except ValueError:
        return None
    request_id = request.get("id") if isinstance(request, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)):
        return None
    reason = item.errors()[0].get("msg", "invalid JSON")
    return JSONRPCError(
        jsonrpc="2.0",
        id=request_id,
        error=ErrorData(code=PARSE_ERROR, message=f"invalid request: {reason}"),
    )


_Tool = TypeVar("_Tool", bound=Callable[..., Any])


class _MemoryServer(MCPServer[Any]):
    """MCPServer that refuses unknown tool arguments (the SDK would drop them silently:
    a misspelt ``agnt_id`` turned an agent's erasure into its whole user's), and that
    answers every request line, even one the SDK cannot parse."""

    def __init__(self) -> None:
        super().__init__(name="hybridmem", instructions=INSTRUCTIONS)
        self.parameters: dict[str, tuple[str, ...]] = {}

    def memory_tool(self, fn: _Tool) -> _Tool:
        self.parameters[fn.__name__] = tuple(inspect.signature(fn).parameters)
        return self.tool(structured_output=True)(fn)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        declared = self.parameters.get(name)
        unknown = sorted(set(arguments) - set(declared)) if declared is not None else []
        if unknown and declared is not None:
            return _refusal(
                f"invalid {unknown[0]}: unknown argument{'s' if len(unknown) > 1 else ''}"
                f" {', '.join(map(repr, unknown))} of {name} (it takes {', '.join(declared)})"
            )
        return await super().call_tool(name, arguments, context)

    async def run_stdio_async(self) -> None:
        async with stdio_server() as (read_stream, write_stream):
            send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](0)

            async def answer_unparsable() -> None:
                async with send:
                    async for item in read_stream:
                        answer = (
                            _unparsable_request_answer(item)
                            if isinstance(item, Exception)
                            else None
                        )
                        if answer is not None:
                            await write_stream.send(SessionMessage(answer))
                        else:
                            await send.send(item)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(answer_unparsable)
                await self._lowlevel_server.run(
                    receive, write_stream, self._lowlevel_server.create_initialization_options()
                )
                tasks.cancel_scope.cancel()


def build_mcp(store: MemoryBackend) -> MCPServer[Any]:
    """The MCP server with the memory tools over ``store`` (a HybridStore or a
    HybridMemClient); the caller runs and closes it.

    Arguments are typed strictly (StrictFloat, StrictInt, StrictBool), so the SDK
    never coerces ``true`` or ``"1"`` into a number the shared validators would
    accept: they are refused, as the Python API refuses them.
    """
    server = _MemoryServer()

    @server.memory_tool
    def add_memory(
        text: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        entities: list[dict[str, str]] | None = None,
        relations: list[dict[str, str]] | None = None,
        embedding: list[StrictFloat] | None = None,
        ttl: StrictFloat | StrictInt | None = None,
        expires_at: str | None = None,
    ) -> Annotated[CallToolResult, MemoryView]:
        """Store a memory for a scope (at least one of user_id, agent_id, run_id).

        entities: [{"name": …, "type": …}]; relations: [{"source": name,
        "target": name, "type": …}]. embedding: optional; without it the server's
        configured embedder is used. ttl (seconds) or expires_at (ISO 8601, UTC
        without an offset), at most one: the memory is forgotten from then on.
        """
        return _answer(
            lambda: MemoryView.of(
                store.add(
                    text,
                    embedding=embedding,
                    user_id=user_id,
                    agent_id=agent_id,
                    run_id=run_id,
                    metadata=metadata,
                    entities=entities,
                    relations=relations,
                    expires_at=expires_at,
                    ttl=ttl,
                )
            )
        )

    @server.memory_tool
    def search_memories(
        query: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: StrictInt = 10,
        embedding: list[StrictFloat] | None = None,
        filters: dict[str, Any] | None = None,
        graph: StrictBool = False,
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
                    query if embedding is None else None,
                    embedding=embedding,
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

    @server.memory_tool
    def neighbors(
        name: str, user_id: str, depth: StrictInt = 1, limit: StrictInt = 100
    ) -> Annotated[CallToolResult, Neighborhood]:
        """What the graph knows around the entity ``name`` in user_id's namespace:
        the entities and relations within ``depth`` hops (1 to 3)."""
        return _answer(lambda: store.neighbors(name, user_id=user_id, depth=depth, limit=limit))

    @server.memory_tool
    def list_memories(
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: StrictInt | None = None,
        offset: StrictInt = 0,
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

    @server.memory_tool
    def delete_memory(
        memory_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Annotated[CallToolResult, DeleteResult]:
        """Erase one memory from both stores (and its text from history). With
        user_id / agent_id / run_id, only a memory of that scope: another scope's
        is left alone, answered like an unknown id (zero counts)."""
        return _answer(
            lambda: store.delete(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
        )

    @server.memory_tool
    def delete_all_memories(
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        dry_run: StrictBool = False,
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
