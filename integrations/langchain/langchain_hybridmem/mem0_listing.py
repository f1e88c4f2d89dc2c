"""The listing mem0's ``langchain`` vector-store provider needs.

mem0's ``Memory.get_all`` and ``Memory.delete_all`` list memories through
``vectorstore._collection.get(where=…, limit=…)`` — Chroma's interface — and,
on any other vector store, silently list nothing: its ``delete_all`` would
report success and erase nothing. ``HybridMemVectorStore._collection`` answers
that call from the store's scope, with ``where`` as hybridmem filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_hybridmem.documents import to_document

if TYPE_CHECKING:
    from langchain_hybridmem.vectorstores import HybridMemVectorStore


class ChromaStyleListing:
    def __init__(self, vectorstore: HybridMemVectorStore) -> None:
        self._vectorstore = vectorstore

    def get(self, where: dict[str, Any] | None = None, limit: int | None = None) -> dict[str, Any]:
        scope = self._vectorstore.scope
        memories = self._vectorstore.store.get_all(
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            limit=limit,
            filters=_flatten(where),
        )
        documents = [to_document(m) for m in memories]
        return {"ids": [d.id for d in documents], "metadatas": [d.metadata for d in documents]}


def _flatten(where: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chroma's ``{"$and": [{…}, {…}]}`` is hybridmem's plain AND across keys."""
    if not where or set(where) != {"$and"}:
        return where
    merged: dict[str, Any] = {}
    for part in where["$and"]:
        merged.update(part)
    return merged
