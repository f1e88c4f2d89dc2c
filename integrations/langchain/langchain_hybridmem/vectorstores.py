"""HybridMemVectorStore: LangChain's ``VectorStore`` over one scope of a HybridStore."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from hybridmem import HybridStore
from hybridmem.models import Memory
from hybridmem.validation import scope_from
from langchain_hybridmem.documents import memory_id_for, stored_metadata, to_document
from langchain_hybridmem.mem0_listing import ChromaStyleListing


class HybridMemVectorStore(VectorStore):
    """Documents as memories of one scope (``user_id`` / ``agent_id`` / ``run_id``).

    Vectors come from the LangChain ``embedding`` given here (hybridmem's own
    embedder is not used). Every write is one journaled hybridmem ``add`` (with
    the document id; writing an id again replaces that memory); ``delete(ids)``
    erases those memories from both stores; ``delete()`` without ids is
    ``delete_all`` of the scope. Searches see only the scope's memories.
    The async methods are LangChain's defaults, which run these in a thread.
    """

    def __init__(
        self,
        store: HybridStore,
        embedding: Embeddings,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> None:
        self.store = store
        self._embedding = embedding
        self.scope = scope_from(user_id, agent_id, run_id)

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    @property
    def _collection(self) -> ChromaStyleListing:
        """For mem0's ``langchain`` provider, which lists memories only this way."""
        return ChromaStyleListing(self)

    # -- writes --------------------------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
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
            stored_metadata(m, i)
            for m, i in zip(metadatas or [{}] * len(texts), doc_ids, strict=True)
        ]
        vectors = self._embedding.embed_documents(texts) if texts else []
        for text, vector, meta, doc_id in zip(texts, vectors, metas, doc_ids, strict=True):
            self.store.add(
                text,
                embedding=vector,
                metadata=meta,
                memory_id=memory_id_for(doc_id, self.scope),
                user_id=self.scope.user_id,
                agent_id=self.scope.agent_id,
                run_id=self.scope.run_id,
            )
        return doc_ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Erase the documents ``ids`` of this scope (missing ones are no-ops); without
        ids, erase the whole scope (hybridmem ``delete_all``)."""
        _refuse(kwargs, "delete")
        if ids is None:
            scope = self.scope
            self.store.delete_all(
                user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id
            )
            return True
        for memory in self._own(ids):
            self.store.delete(memory.id)
        return True

    # -- reads ---------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return [to_document(memory) for memory in self._own(ids)]

    def _own(self, ids: Sequence[str]) -> list[Memory]:
        """The memories of this scope stored under the document ids, in their order."""
        found = []
        for doc_id in dict.fromkeys(ids):
            memory = self.store.get(memory_id_for(doc_id, self.scope))
            if memory is not None and self.scope.matches(memory.scope):
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
        vector = self._embedding.embed_query(query)
        return self._search(vector, k, **kwargs)

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self._search(embedding, k, **kwargs)]

    def _search(
        self, vector: list[float], k: int, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        _refuse(kwargs, "similarity_search")
        scope = self.scope
        hits = self.store.search(
            vector,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            limit=k,
            filters=filter,
        )
        return [(to_document(hit.memory), hit.score) for hit in hits]

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
        store: HybridStore | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        **kwargs: Any,
    ) -> Self:
        """A vector store on ``store`` (a HybridStore) in the given scope, with ``texts``."""
        _refuse(kwargs, "from_texts")
        if store is None:
            raise TypeError("from_texts needs store=HybridStore(...)")
        vectorstore = cls(store, embedding, user_id=user_id, agent_id=agent_id, run_id=run_id)
        vectorstore.add_texts(texts, metadatas, ids=list(ids) if ids is not None else None)
        return vectorstore


def _refuse(kwargs: dict[str, Any], method: str) -> None:
    """Unknown parameters are refused, never ignored."""
    if kwargs:
        raise TypeError(f"{method} got unexpected keyword arguments: {sorted(kwargs)}")
