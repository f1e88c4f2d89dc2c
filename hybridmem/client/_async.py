"""AsyncHybridMemClient: HybridMemClient's methods, awaited (httpx.AsyncClient)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

import httpx

from hybridmem.client import _calls as calls
from hybridmem.client._calls import DEFAULT_URL, Call
from hybridmem.client._following import CompactionWatch, ErasureWatch, Watch, finished
from hybridmem.mem0_lookup import Mem0Location
from hybridmem.models import (
    AddManyResult,
    AddProgressCallback,
    CompactionProgressCallback,
    CompactionReport,
    DeleteResult,
    Entity,
    HistoryEvent,
    Memory,
    Neighborhood,
    OperationInfo,
    ProgressCallback,
    ReconcileReport,
    RecoveredOperation,
    Relation,
    SearchHit,
)

T = TypeVar("T")


class AsyncHybridMemClient:
    """The async twin of HybridMemClient: same methods, awaited; same errors."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=calls.headers(api_key),
            timeout=timeout,
            transport=transport,
        )

    async def _send(self, call: Call[T]) -> T:
        kwargs = calls.request_kwargs(call)
        try:
            response = await self._http.request(call.method, call.path, **kwargs)
        except httpx.TransportError as exc:
            raise calls.unreachable(self.base_url, exc) from None
        return calls.decode(call, response)

    async def _follow(self, watch: Watch[T]) -> T:
        """An operation the server answered 202 for, polled to its end."""
        while (result := watch.step(await self._send(watch.poll()), time.monotonic())) is None:
            await asyncio.sleep(watch.pause)
        return result

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncHybridMemClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def add(
        self,
        text: str,
        *,
        embedding: Sequence[float] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        entities: Sequence[Mapping[str, str]] | None = None,
        relations: Sequence[Mapping[str, str]] | None = None,
        memory_id: str | None = None,
        expires_at: datetime | str | None = None,
        ttl: float | timedelta | None = None,
    ) -> Memory:
        return await self._send(
            calls.add(
                text,
                embedding=embedding,
                user_id=user_id,
                agent_id=agent_id,
                run_id=run_id,
                metadata=metadata,
                entities=entities,
                relations=relations,
                memory_id=memory_id,
                expires_at=expires_at,
                ttl=ttl,
            )
        )

    async def add_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        batch_size: int | None = None,
        progress: AddProgressCallback | None = None,
    ) -> AddManyResult:
        """HybridStore.add_many over HTTP: ``batch_size`` items (default 1000) per request."""
        plan = calls.AddMany(items, batch_size, progress)
        for call in plan.calls():
            plan.tally.record(await self._send(call))
        return plan.tally.finish()

    async def update(
        self,
        memory_id: str,
        *,
        text: str | None = None,
        embedding: Sequence[float] | None = None,
        metadata: Mapping[str, Any] | None = None,
        expires_at: datetime | str | None = None,
        ttl: float | timedelta | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Memory:
        return await self._send(
            calls.update(
                memory_id,
                text=text,
                embedding=embedding,
                metadata=metadata,
                expires_at=expires_at,
                ttl=ttl,
                user_id=user_id,
                agent_id=agent_id,
                run_id=run_id,
            )
        )

    async def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> DeleteResult:
        return await self._send(
            calls.delete(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
        )

    async def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> DeleteResult:
        """As HybridStore.delete_all. An erasure the server answers 202 for (it outlasted
        ``[server] erasure_wait_seconds``, running or waiting for another's claim) is
        followed to its end, with ``progress`` after every poll; otherwise
        ``progress`` is called once, when the server answers."""
        started = time.monotonic()
        try:
            return await self._send(
                calls.delete_all(
                    user_id=user_id,
                    agent_id=agent_id,
                    run_id=run_id,
                    dry_run=dry_run,
                    progress=progress,
                )
            )
        except calls.Accepted as going_on:
            watch = ErasureWatch(going_on.accepted, started, progress=progress)
        return await self._follow(watch)

    async def purge_expired(self, *, progress: ProgressCallback | None = None) -> DeleteResult:
        """As HybridStore.purge_expired; ``progress`` is called once, when the server answers."""
        return await self._send(calls.purge_expired(progress=progress))

    async def reset(self) -> dict[str, int]:
        return await self._send(calls.reset())

    async def reconcile(self, *, fix: bool = False) -> ReconcileReport:
        return await self._send(calls.reconcile(fix=fix))

    async def recover(self) -> list[RecoveredOperation]:
        return await self._send(calls.recover())

    async def compact(
        self, *, progress: CompactionProgressCallback | None = None
    ) -> CompactionReport:
        """As HybridStore.compact, through ``POST /compact``. A compaction the server
        answers 202 for (it outlasted ``[server] erasure_wait_seconds``, or waits for
        the operations in flight) is followed to its end; ``progress`` is called
        once, at the end."""
        started = time.monotonic()
        try:
            report = await self._send(calls.compact())
        except calls.Accepted as going_on:
            watch = CompactionWatch(going_on.accepted, started, progress=progress)
        else:
            finished(progress)
            return report
        return await self._follow(watch)

    async def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Memory | None:
        return await self._send(
            calls.get(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
        )

    async def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        filters: Mapping[str, Any] | None = None,
        entity: str | None = None,
    ) -> list[Memory]:
        return await self._send(
            calls.get_all(
                user_id=user_id,
                agent_id=agent_id,
                run_id=run_id,
                limit=limit,
                offset=offset,
                filters=filters,
                entity=entity,
            )
        )

    async def search(
        self,
        query: str | Sequence[float] | None = None,
        *,
        embedding: Sequence[float] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 10,
        filters: Mapping[str, Any] | None = None,
        graph: bool = False,
        entities: Sequence[str] | None = None,
    ) -> list[SearchHit]:
        return await self._send(
            calls.search(
                query,
                embedding=embedding,
                user_id=user_id,
                agent_id=agent_id,
                run_id=run_id,
                limit=limit,
                filters=filters,
                graph=graph,
                entities=entities,
            )
        )

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await self._send(calls.embed(texts))

    async def neighbors(
        self, name: str, *, user_id: str, depth: int = 1, limit: int = 100
    ) -> Neighborhood:
        return await self._send(calls.neighbors(name, user_id=user_id, depth=depth, limit=limit))

    async def entities(self, *, user_id: str | None = None) -> list[Entity]:
        return await self._send(calls.entities(user_id=user_id))

    async def relations(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Relation]:
        return await self._send(calls.relations(user_id=user_id, agent_id=agent_id, run_id=run_id))

    async def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryEvent]:
        return await self._send(
            calls.history(memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id)
        )

    async def operation(self, operation_id: str) -> OperationInfo | None:
        return await self._send(calls.operation(operation_id))

    async def ready(self) -> None:
        """As HybridStore.ready, through the server's /readyz."""
        return await self._send(calls.ready())

    async def stats(self) -> dict[str, int]:
        return await self._send(calls.stats())

    async def mem0_lookup(self, mem0_ids: Sequence[str]) -> list[Mem0Location]:
        """Integration support, not a HybridStore method: where the live mem0
        memories of ``mem0_ids`` are (mem0 id, hybridmem id, scope), in any scope,
        through ``POST /mem0/lookup`` — what ``HybridMemMem0VectorStore`` uses to
        find a memory by mem0's id alone. Unknown, erased and expired ids are left
        out. Spans every scope: a key bound to a scope raises PermissionDeniedError;
        a server whose vector store cannot look ids up raises ConfigurationError."""
        found: list[Mem0Location] = []
        for call in calls.mem0_lookup(mem0_ids):
            answer: list[Mem0Location] = await self._send(call)
            found.extend(answer)
        return found
