"""The public API, declared once: what every memory store answers.

``MemoryStore`` is the synchronous API that :class:`hybridmem.HybridStore` (in
process) and :class:`hybridmem.client.HybridMemClient` (over HTTP) both
implement; ``AsyncMemoryStore`` is the awaited twin that
:class:`hybridmem.AsyncHybridStore` and
:class:`hybridmem.client.AsyncHybridMemClient` implement. mypy checks each of the
four against its protocol (the assignments at the end of this module), so a
parameter added to one and not the others fails the type check rather than a
user. Framework integrations take a ``MemoryStore``: an app may hand them the
store itself or a client of a shared server.

Each method's contract is the docstring of the ``HybridStore`` method of the same
name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

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


@runtime_checkable
class MemoryStore(Protocol):
    """The synchronous API of a hybridmem store, in process or over HTTP."""

    def add(
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
    ) -> Memory: ...

    def add_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        batch_size: int | None = None,
        progress: AddProgressCallback | None = None,
    ) -> AddManyResult: ...

    def update(
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
    ) -> Memory: ...

    def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> DeleteResult: ...

    def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> DeleteResult: ...

    def purge_expired(self, *, progress: ProgressCallback | None = None) -> DeleteResult: ...

    def reset(self) -> dict[str, int]: ...

    def reconcile(self, *, fix: bool = False) -> ReconcileReport: ...

    def recover(self) -> list[RecoveredOperation]: ...

    def compact(
        self, *, progress: CompactionProgressCallback | None = None
    ) -> CompactionReport: ...

    def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Memory | None: ...

    def get_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        filters: Mapping[str, Any] | None = None,
        entity: str | None = None,
    ) -> list[Memory]: ...

    def search(
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
    ) -> list[SearchHit]: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def neighbors(
        self,
        name: str,
        *,
        user_id: str,
        depth: int = 1,
        limit: int = 100,
    ) -> Neighborhood: ...

    def entities(self, *, user_id: str | None = None) -> list[Entity]: ...

    def relations(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Relation]: ...

    def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryEvent]: ...

    def operation(self, operation_id: str) -> OperationInfo | None: ...

    def ready(self) -> None: ...

    def stats(self) -> dict[str, int]: ...

    def close(self) -> None: ...


@runtime_checkable
class AsyncMemoryStore(Protocol):
    """The awaited API: the same methods, parameters and results as MemoryStore."""

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
    ) -> Memory: ...

    async def add_many(
        self,
        items: Iterable[Mapping[str, Any]],
        *,
        batch_size: int | None = None,
        progress: AddProgressCallback | None = None,
    ) -> AddManyResult: ...

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
    ) -> Memory: ...

    async def delete(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> DeleteResult: ...

    async def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> DeleteResult: ...

    async def purge_expired(self, *, progress: ProgressCallback | None = None) -> DeleteResult: ...

    async def reset(self) -> dict[str, int]: ...

    async def reconcile(self, *, fix: bool = False) -> ReconcileReport: ...

    async def recover(self) -> list[RecoveredOperation]: ...

    async def compact(
        self, *, progress: CompactionProgressCallback | None = None
    ) -> CompactionReport: ...

    async def get(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Memory | None: ...

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
    ) -> list[Memory]: ...

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
    ) -> list[SearchHit]: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    async def neighbors(
        self,
        name: str,
        *,
        user_id: str,
        depth: int = 1,
        limit: int = 100,
    ) -> Neighborhood: ...

    async def entities(self, *, user_id: str | None = None) -> list[Entity]: ...

    async def relations(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Relation]: ...

    async def history(
        self,
        memory_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[HistoryEvent]: ...

    async def operation(self, operation_id: str) -> OperationInfo | None: ...

    async def ready(self) -> None: ...

    async def stats(self) -> dict[str, int]: ...

    async def close(self) -> None: ...


if TYPE_CHECKING:
    # mypy checks every implementation against its protocol here.
    from hybridmem.async_store import AsyncHybridStore
    from hybridmem.client import AsyncHybridMemClient, HybridMemClient
    from hybridmem.store import HybridStore

    def _in_process(store: HybridStore) -> MemoryStore:
        return store

    def _over_http(client: HybridMemClient) -> MemoryStore:
        return client

    def _awaited_in_process(store: AsyncHybridStore) -> AsyncMemoryStore:
        return store

    def _awaited_over_http(client: AsyncHybridMemClient) -> AsyncMemoryStore:
        return client
