"""LangChain documents ↔ hybridmem memories.

A document's id is a name within the VectorStore's scope: its memory id is
``hybridmem.ids.scoped_id(scope, doc_id)``, so the same id in two scopes names
two memories, the same id in one scope always names the same one, and no key
bound to another scope can take (or probe) a document's id. The document id is
kept in the memory's metadata under :data:`ORIGINAL_ID_KEY` and given back as
``Document.id``.

Every memory a VectorStore writes also carries :data:`SCOPE_KEY`, the exact
scope of the store that wrote it. Searches and reads by id keep to memories
holding this store's marker (a filter in the store, before the limit), so every
id a search returns resolves through ``get_by_ids`` and ``delete``, and memories
other writers made (LangGraph items, mem0 memories, plain ``HybridStore.add``)
never appear unless asked for (``all_memories=True``). Metadata keys starting
with :data:`RESERVED_PREFIX` are reserved.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.documents import Document

from hybridmem.ids import scoped_id
from hybridmem.models import Memory, Scope

#: Prefix of the metadata keys this package writes; documents may not carry them.
RESERVED_PREFIX = "_langchain_"
#: The document's id (a name within the scope).
ORIGINAL_ID_KEY = "_langchain_id"
#: The exact scope of the VectorStore that wrote the memory: the marker searches
#: filter on, and the one other integrations exclude.
SCOPE_KEY = "_langchain_scope"


def scope_marker(scope: Scope) -> str:
    return json.dumps([scope.user_id, scope.agent_id, scope.run_id])


def memory_id_for(doc_id: str, scope: Scope) -> str:
    return scoped_id(scope, doc_id)


def check_own_keys(metadata: dict[str, Any], where: str) -> None:
    reserved = sorted(k for k in metadata if k.startswith(RESERVED_PREFIX))
    if reserved:
        raise ValueError(
            f"{where}: metadata keys {reserved} are reserved by langchain-hybridmem"
            f" (prefix {RESERVED_PREFIX!r})"
        )


def stored_metadata(metadata: dict[str, Any] | None, doc_id: str, scope: Scope) -> dict[str, Any]:
    """The metadata to store for a document: its own, plus its id and the marker."""
    own = dict(metadata or {})
    check_own_keys(own, "document")
    own[ORIGINAL_ID_KEY] = doc_id
    own[SCOPE_KEY] = scope_marker(scope)
    return own


def is_own(memory: Memory, scope: Scope) -> bool:
    """Was ``memory`` written by a VectorStore of exactly ``scope``?"""
    return memory.metadata.get(SCOPE_KEY) == scope_marker(scope) and isinstance(
        memory.metadata.get(ORIGINAL_ID_KEY), str
    )


def document_parts(memory: Memory, scope: Scope) -> tuple[str, dict[str, Any]]:
    """(document id, document metadata) of a memory, as seen from ``scope``: its
    document id when this scope's VectorStore wrote it, else its memory id."""
    own = {k: v for k, v in memory.metadata.items() if not k.startswith(RESERVED_PREFIX)}
    doc_id = memory.metadata[ORIGINAL_ID_KEY] if is_own(memory, scope) else memory.id
    return str(doc_id), own


def to_document(memory: Memory, scope: Scope, **extra: Any) -> Document:
    """The document a memory stores, seen from ``scope``; ``extra`` joins its metadata."""
    doc_id, metadata = document_parts(memory, scope)
    return Document(id=doc_id, page_content=memory.text, metadata={**metadata, **extra})
