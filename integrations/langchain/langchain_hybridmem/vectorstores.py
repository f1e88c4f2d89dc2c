"""HybridMemVectorStore: LangChain's ``VectorStore`` over one scope of a hybridmem store
(a ``HybridStore``, or a ``HybridMemClient`` / ``AsyncHybridMemClient`` of a server
many processes share)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from hybridmem.api import AsyncMemoryStore, MemoryStore
from hybridmem.errors import NotFoundError
from hybridmem.loop_bridge import synchronous
from hybridmem.models import Memory, SearchHit
from hybridmem.validation import scope_from
from langchain_hybridmem.awaited import ThreadedAsync
from langchain_hybridmem.documents import (
    SCOPE_KEY,
    check_own_keys,
    is_own,
    memory_id_for,
    scope_marker,
    stored_metadata,
    to_document,
)
from langchain_hybridmem.writes import write_documents

#: Documents per add_many call when the caller names no batch size (LangChain's
#: indexing API passes its own).
DEFAULT_BATCH_SIZE = 1_000


class HybridMemVectorStore(ThreadedAsync):
    """Documents as memories of one scope (``user_id`` / ``agent_id`` / ``run_id``).

    Vectors come from the LangChain ``embedding`` given here (hybridmem's own
    embedder is not used). ``add_texts`` / ``add_documents`` embed and write
    ``batch_size`` documents at a time (default: the store's ``batch_size``),
    each batch one journaled ``add_many``;
    writing an id again replaces that document. ``delete(ids)`` erases those
    documents from both stores; ``delete()`` without ids is hybridmem's
    ``delete_all`` of the scope (everything the scope owns, whoever wrote it).

    Searches and reads by id see the documents a VectorStore of exactly this
    scope wrote (a metadata marker, filtered in the store before ``k``): every id
    a search returns resolves through ``get_by_ids`` and ``delete``. With
    ``all_memories=True`` they see every memory of the scope, as hybridmem's
    ``search`` does (narrower scopes, LangGraph items, mem0 memories, plain
    ``add``); a memory this store did not write then has its memory id as
    ``Document.id``, which ``get_by_ids`` and ``delete`` also take.
    ``store`` may be awaited (``AsyncHybridMemClient``, ``AsyncHybridStore``): use
    the async methods then (``aadd_documents``, ``asimilarity_search``, …). The
    async methods run these in a worker thread (as LangChain's defaults do); over
    an ``AsyncHybridMemClient`` each HTTP call runs on the caller's event loop.
    """

    def __init__(
        self,
        store: MemoryStore | AsyncMemoryStore,
        embedding: Embeddings,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        all_memories: bool = False,
    ) -> None:
        self.store, self._bridge = synchronous(store)
        self._embedding = embedding
        self.scope = scope_from(user_id, agent_id, run_id)
        self.all_memories = all_memories

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    # -- writes --------------------------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> list[str]:
        _refuse(kwargs, "add_texts")
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"got {len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"got {len(ids)} ids for {len(texts)} texts")
        # add_documents passes None for documents without an id.
        given: list[str | None] = list(ids) if ids is not None else [None] * len(texts)
        doc_ids = [i if i else str(uuid.uuid4()) for i in given]
        # Validate every document before the first write.
        metas = [
            stored_metadata(m, i, self.scope)
            for m, i in zip(metadatas or [{}] * len(texts), doc_ids, strict=True)
        ]
        # An id given twice in one call: the last document wins, as in LangChain's
        # in-memory store (one batch may not hold an id twice).
        last = {doc_id: position for position, doc_id in enumerate(doc_ids)}
        keep = sorted(last.values())
        write_documents(
            self.store,
            self._embedding,
            self.scope,
            [texts[p] for p in keep],
            [metas[p] for p in keep],
            [memory_id_for(doc_ids[p], self.scope) for p in keep],
            batch_size if batch_size is not None else DEFAULT_BATCH_SIZE,
        )
        return doc_ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Erase the documents ``ids`` (unknown ones are no-ops); without ids, erase
        the whole scope (hybridmem ``delete_all``)."""
        _refuse(kwargs, "delete")
        scope = self.scope
        if ids is None:
            self.store.delete_all(
                user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id
            )
            return True
        for memory in self._resolve(ids):
            try:
                self.store.delete(
                    memory.id, user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id
                )
            except NotFoundError:  # erased meanwhile: a server's answer to a scoped caller
                pass
        return True

    # -- reads ---------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return [to_document(memory, self.scope) for memory in self._resolve(ids)]

    def _resolve(self, ids: Sequence[str]) -> list[Memory]:
        """The memories the document ids name, as searches show them, in order."""
        found = []
        scope = self.scope
        for doc_id in dict.fromkeys(ids):
            memory = self.store.get(
                memory_id_for(doc_id, scope),
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                run_id=scope.run_id,
            )
            if memory is not None and is_own(memory, self.scope):
                found.append(memory)
            elif self.all_memories and _is_uuid(doc_id):
                memory = self.store.get(
                    doc_id, user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id
                )
                if memory is not None and not is_own(memory, self.scope):
                    found.append(memory)
        return found

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Documents with their cosine similarity to ``query`` (higher is closer).
        ``filter`` takes hybridmem's metadata filters (``{"key": value}`` or
        ``{"key": {"$gt": 1}}``), applied in the store before ``k``."""
        if k == 0:
            return []
        return self.similarity_search_with_score_by_vector(
            self._embedding.embed_query(query), k, **kwargs
        )

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        scored = self.similarity_search_with_score_by_vector(embedding, k, **kwargs)
        return [doc for doc, _ in scored]

    def similarity_search_with_score_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """As ``similarity_search_with_score``, from a vector."""
        _refuse(kwargs, "similarity_search")
        return [
            (to_document(hit.memory, self.scope), hit.score)
            for hit in self._hits(embedding, k, filter)
        ]

    def _hits(self, vector: list[float], k: int, filter: dict[str, Any] | None) -> list[SearchHit]:
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ValueError(f"k must be a non-negative integer, not {k!r}")
        if k == 0:
            return []
        scope = self.scope
        return self.store.search(
            vector,
            limit=k,
            filters=self._filters(filter),
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
        )

    def _filters(self, filter: dict[str, Any] | None) -> dict[str, Any] | None:
        """The caller's filter, and, unless ``all_memories``, this store's marker."""
        if filter is not None and not isinstance(filter, dict):
            raise TypeError(f"filter must be a dict, not {type(filter).__name__}")
        own = dict(filter or {})
        check_own_keys(own, "filter")
        if not self.all_memories:
            own[SCOPE_KEY] = scope_marker(self.scope)
        return own or None

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        **kwargs: Any,
    ) -> list[Document]:
        if k == 0:
            return []
        return self.max_marginal_relevance_search_by_vector(
            self._embedding.embed_query(query), k, fetch_k, lambda_mult, **kwargs
        )

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The ``k`` documents of the ``fetch_k`` closest that balance similarity to
        the query against diversity among themselves (``lambda_mult``: 1 is
        similarity only, 0 diversity only). ``filter`` applies before ``fetch_k``."""
        _refuse(kwargs, "max_marginal_relevance_search")
        if not 0.0 <= lambda_mult <= 1.0:
            raise ValueError(f"lambda_mult must be in [0, 1], not {lambda_mult!r}")
        hits = self._hits(embedding, max(fetch_k, k), filter)
        if not hits or k == 0:
            return []
        chosen = maximal_marginal_relevance(
            np.array(embedding, dtype=np.float64),
            [hit.memory.embedding for hit in hits],
            lambda_mult=lambda_mult,
            k=k,
        )
        return [to_document(hits[i].memory, self.scope) for i in chosen]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        # Scores are cosine similarities in [-1, 1]; relevance wants [0, 1].
        return lambda score: (score + 1.0) / 2.0

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        store: MemoryStore | AsyncMemoryStore | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> Self:
        """A vector store on ``store`` (a HybridStore, or a HybridMemClient of a shared
        server) in the given scope, with ``texts``."""
        _refuse(kwargs, "from_texts")
        if store is None:
            raise TypeError("from_texts needs store=HybridStore(...) or HybridMemClient(...)")
        vectorstore = cls(store, embedding, user_id=user_id, agent_id=agent_id, run_id=run_id)
        vectorstore.add_texts(
            texts,
            metadatas,
            ids=list(ids) if ids is not None else None,
            batch_size=batch_size,
        )
        return vectorstore

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        store: MemoryStore | AsyncMemoryStore | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> Self:
        """``from_texts``, awaited (for an ``AsyncHybridMemClient`` too)."""
        _refuse(kwargs, "afrom_texts")
        if store is None:
            raise TypeError(
                "afrom_texts needs store=HybridStore(...) or (Async)HybridMemClient(...)"
            )
        vectorstore = cls(store, embedding, user_id=user_id, agent_id=agent_id, run_id=run_id)
        await vectorstore.aadd_texts(
            texts,
            metadatas,
            ids=list(ids) if ids is not None else None,
            batch_size=batch_size,
        )
        return vectorstore


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _refuse(kwargs: dict[str, Any], method: str) -> None:
    """Unknown parameters are refused, never ignored."""
    if kwargs:
        raise TypeError(f"{method} got unexpected keyword arguments: {sorted(kwargs)}")
