"""The async methods of HybridMemVectorStore: the synchronous ones, in a worker thread.

LangChain's defaults do the same (``run_in_executor``); these also bind the
store's bridge first, so a VectorStore over an ``AsyncHybridMemClient`` runs its
HTTP calls on the caller's event loop (:mod:`hybridmem.loop_bridge`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from langchain_core.documents import Document
from langchain_core.vectorstores import VectorStore

from hybridmem.loop_bridge import LoopBridge

T = TypeVar("T")


class ThreadedAsync(VectorStore):
    """Every async method LangChain would run in an executor, run in a thread."""

    _bridge: LoopBridge | None

    async def _threaded(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._bridge is not None:
            self._bridge.bind()
        return await asyncio.to_thread(method, *args, **kwargs)

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        return await self._threaded(self.add_texts, list(texts), metadatas, ids=ids, **kwargs)

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        return await self._threaded(self.delete, ids, **kwargs)

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return await self._threaded(self.get_by_ids, ids)

    async def asimilarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return await self._threaded(self.similarity_search, query, k, **kwargs)

    async def asimilarity_search_with_score(
        self, *args: Any, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return await self._threaded(self.similarity_search_with_score, *args, **kwargs)

    async def _asimilarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return await self._threaded(
            self._similarity_search_with_relevance_scores, query, k, **kwargs
        )

    async def asimilarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        return await self._threaded(self.similarity_search_by_vector, embedding, k, **kwargs)

    async def amax_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        **kwargs: Any,
    ) -> list[Document]:
        return await self._threaded(
            self.max_marginal_relevance_search, query, k, fetch_k, lambda_mult, **kwargs
        )

    async def amax_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        **kwargs: Any,
    ) -> list[Document]:
        return await self._threaded(
            self.max_marginal_relevance_search_by_vector,
            embedding,
            k,
            fetch_k,
            lambda_mult,
            **kwargs,
        )
