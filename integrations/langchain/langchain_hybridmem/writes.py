"""Writing documents: embedded and stored a batch at a time through ``add_many``.

``add_many`` writes a batch as one journaled operation, and leaves an id stored
with the same content as it is (so indexing the same documents again costs one
read). It refuses a batch holding an id stored with *other* content; LangChain
expects such a write to replace the document, so that batch is written again
one ``add`` per document, which replaces (the rare path: LangChain's indexing
API gives changed content a new id).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.embeddings import Embeddings

from hybridmem.api import MemoryStore
from hybridmem.bulk import check_batch_size
from hybridmem.errors import ValidationError
from hybridmem.models import Scope

__all__ = ["check_batch_size", "write_documents"]

_REPLACED = "add_many does not replace memories"


def write_documents(
    store: MemoryStore,
    embedding: Embeddings,
    scope: Scope,
    texts: Sequence[str],
    metadatas: Sequence[dict[str, Any]],
    memory_ids: Sequence[str],
    batch_size: int,
) -> None:
    batch_size = check_batch_size(batch_size)
    for start in range(0, len(texts), batch_size):
        end = start + batch_size
        chunk = list(texts[start:end])
        vectors = embedding.embed_documents(chunk)
        items: list[dict[str, Any]] = [
            {
                "text": text,
                "embedding": vector,
                "metadata": meta,
                "memory_id": memory_id,
                "user_id": scope.user_id,
                "agent_id": scope.agent_id,
                "run_id": scope.run_id,
            }
            for text, vector, meta, memory_id in zip(
                chunk, vectors, metadatas[start:end], memory_ids[start:end], strict=True
            )
        ]
        try:
            store.add_many(items, batch_size=len(items))
        except ValidationError as error:
            if _REPLACED not in str(error):
                raise
            for item in items:
                store.add(**item)
