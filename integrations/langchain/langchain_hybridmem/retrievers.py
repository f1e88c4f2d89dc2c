"""HybridMemGraphRetriever: vector hits with their graph context, as LangChain Documents."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, model_validator

from hybridmem.api import AsyncMemoryStore, MemoryStore
from hybridmem.models import Scope, SearchHit
from hybridmem.validation import scope_from
from langchain_hybridmem.documents import to_document


class HybridMemGraphRetriever(BaseRetriever):
    """The ``k`` memories of a scope closest to the query, each with its graph context.

    Each Document's metadata holds the memory's own metadata plus ``score`` (cosine
    similarity), ``entities`` (``{"name", "type"}`` of the entities the memory
    mentions) and ``relations`` (``{"source", "type", "target"}`` of the relations
    around them, in the user's namespace). ``entities=[names]`` anchors the search
    on those entities (hybridmem's fused graph + vector ranking). ``k`` may also be
    given per call: ``retriever.invoke(query, k=3)``.

    ``store`` is a ``HybridStore`` or a ``HybridMemClient``, or an awaited store
    (``AsyncHybridMemClient``, ``AsyncHybridStore``) used through ``ainvoke``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: MemoryStore | AsyncMemoryStore
    embeddings: Embeddings
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    k: int = Field(default=4, ge=1)
    #: hybridmem metadata filters, applied in the store before ``k``.
    filter: dict[str, Any] | None = None
    #: Entity names to anchor the search on (needs ``user_id``).
    entities: list[str] | None = None

    @model_validator(mode="after")
    def _check_scope(self) -> HybridMemGraphRetriever:
        scope_from(self.user_id, self.agent_id, self.run_id)
        return self

    @property
    def scope(self) -> Scope:
        return scope_from(self.user_id, self.agent_id, self.run_id)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        search: Callable[..., list[SearchHit]] = self.store.search  # type: ignore[assignment]
        if inspect.iscoroutinefunction(search):
            raise TypeError(
                "this retriever's store is awaited (an AsyncHybridMemClient): use ainvoke"
            )
        hits = search(self.embeddings.embed_query(query), **self._search_args(kwargs))
        return [_document(hit, self.scope) for hit in hits]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        arguments = self._search_args(kwargs)
        vector = await self.embeddings.aembed_query(query)
        search: Callable[..., Any] = self.store.search
        hits: list[SearchHit]
        if inspect.iscoroutinefunction(search):
            hits = await search(vector, **arguments)
        else:
            hits = await asyncio.to_thread(search, vector, **arguments)
        return [_document(hit, self.scope) for hit in hits]

    def _search_args(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        k = kwargs.pop("k", self.k)
        if kwargs:
            raise TypeError(f"unexpected keyword arguments: {sorted(kwargs)}")
        return {
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "run_id": self.run_id,
            "limit": k,
            "filters": self.filter,
            "graph": True,
            "entities": self.entities,
        }


def _document(hit: SearchHit, scope: Scope) -> Document:
    # Every memory of the scope, whoever wrote it: a document this retriever's
    # scope's VectorStore wrote has its document id, any other its memory id.
    return to_document(
        hit.memory,
        scope,
        score=hit.score,
        entities=[{"name": e.name, "type": e.type} for e in hit.entities],
        relations=[{"source": r.source, "type": r.type, "target": r.target} for r in hit.relations],
    )
