"""AsyncHybridStore: the same API, awaited. One worker-thread hop per call.

No logic lives here: each method runs the HybridStore method in a thread. A
deletion keeps running in its thread even if the awaiting task is cancelled —
which is what a two-store erasure needs: it finishes, or stays pending in the
journal for recover(), but is never abandoned half-way by a cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

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
from hybridmem.store import ConfigSource, HybridStore


class AsyncHybridStore:
    """HybridStore's methods, awaited; ``store=`` wraps an open HybridStore, otherwise
    the arguments are HybridStore's."""

    def __init__(
        self, config: ConfigSource = None, *, store: HybridStore | None = None, **kwargs: Any
    ) -> None:
        self.sync = store or HybridStore(config, **kwargs)

    @classmethod
    def embedded(cls, data_dir: str | Path, **settings: Any) -> AsyncHybridStore:
        return cls(store=HybridStore.embedded(data_dir, **settings))

    @classmethod
    def from_config(cls, config: ConfigSource, **kwargs: Any) -> AsyncHybridStore:
        return cls(store=HybridStore.from_config(config, **kwargs))

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> AsyncHybridStore:
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
        return await asyncio.to_thread(
            self.sync.add,
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

    async def add_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        batch_size: int | None = None,
        progress: AddProgressCallback | None = None,
    ) -> AddManyResult:
        return await asyncio.to_thread(
            self.sync.add_many, items, batch_size=batch_size, progress=progress
        )

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
        return await asyncio.to_thread(
            self.sync.update,
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

    async def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> DeleteResult:
        return await asyncio.to_thread(
            self.sync.delete, memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id
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
        return await asyncio.to_thread(
            self.sync.delete_all,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            dry_run=dry_run,
            progress=progress,
        )

    async def purge_expired(self, *, progress: ProgressCallback | None = None) -> DeleteResult:
        return await asyncio.to_thread(self.sync.purge_expired, progress=progress)

    async def reset(self) -> dict[str, int]:
        return await asyncio.to_thread(self.sync.reset)

    async def reconcile(self, *, fix: bool = False) -> ReconcileReport:
        return await asyncio.to_thread(self.sync.reconcile, fix=fix)

    async def recover(self) -> list[RecoveredOperation]:
        return await asyncio.to_thread(self.sync.recover)

    async def compact(
        self, *, progress: CompactionProgressCallback | None = None
    ) -> CompactionReport:
        # Like an erasure, a compaction cancelled by its awaiting task goes on in its
        # thread to the end (or stays journaled for recover()): never cut half-way.
        return await asyncio.to_thread(self.sync.compact, progress=progress)

    async def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Memory | None:
        return await asyncio.to_thread(
            self.sync.get, memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id
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
        return await asyncio.to_thread(
            self.sync.get_all,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            limit=limit,
            offset=offset,
            filters=filters,
            entity=entity,
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
        return await asyncio.to_thread(
            self.sync.search,
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

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.sync.embed, texts)

    async def neighbors(
        self, name: str, *, user_id: str, depth: int = 1, limit: int = 100
    ) -> Neighborhood:
        return await asyncio.to_thread(
            self.sync.neighbors, name, user_id=user_id, depth=depth, limit=limit
        )

    async def entities(self, *, user_id: str | None = None) -> list[Entity]:
        return await asyncio.to_thread(self.sync.entities, user_id=user_id)

    async def relations(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Relation]:
        return await asyncio.to_thread(
            self.sync.relations, user_id=user_id, agent_id=agent_id, run_id=run_id
        )

    async def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryEvent]:
        return await asyncio.to_thread(
            self.sync.history, memory_id, user_id=user_id, agent_id=agent_id, run_id=run_id
        )

    async def operation(self, operation_id: str) -> OperationInfo | None:
        return await asyncio.to_thread(self.sync.operation, operation_id)

    async def ready(self) -> None:
        await asyncio.to_thread(self.sync.ready)

    async def stats(self) -> dict[str, int]:
        return await asyncio.to_thread(self.sync.stats)
