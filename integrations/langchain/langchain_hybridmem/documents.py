"""LangChain documents ↔ hybridmem memories.

Memory ids are UUIDs. A document id that is a canonical UUID string is used as
is. Any other id (``"1"``, ``"doc-7"``) maps to a UUID5 of the scope and the id,
so the same id in two scopes names two memories, and the same id in one scope
always names the same one; the original is kept in the memory's metadata under
:data:`ORIGINAL_ID_KEY` and given back as ``Document.id``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from langchain_core.documents import Document

from hybridmem.models import Memory, Scope

#: Metadata key holding a document id that is not a canonical UUID. Reserved:
#: documents may not carry it in their own metadata.
ORIGINAL_ID_KEY = "_langchain_id"

_NAMESPACE = uuid.UUID("5b0c4c2e-7f2a-4a59-9d43-1d8f0e7c6a11")


def is_canonical_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def memory_id_for(doc_id: str, scope: Scope) -> str:
    if is_canonical_uuid(doc_id):
        return doc_id
    name = json.dumps([scope.user_id, scope.agent_id, scope.run_id, doc_id])
    return str(uuid.uuid5(_NAMESPACE, name))


def stored_metadata(metadata: dict[str, Any] | None, doc_id: str) -> dict[str, Any]:
    """The metadata to store for a document: its own, plus its id when not a UUID."""
    own = dict(metadata or {})
    if ORIGINAL_ID_KEY in own:
        raise ValueError(f"metadata key {ORIGINAL_ID_KEY!r} is reserved by langchain-hybridmem")
    if not is_canonical_uuid(doc_id):
        own[ORIGINAL_ID_KEY] = doc_id
    return own


def document_parts(memory_id: str, metadata: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(document id, document metadata) of a stored memory."""
    own = dict(metadata)
    return str(own.pop(ORIGINAL_ID_KEY, memory_id)), own


def to_document(memory: Memory, **extra: Any) -> Document:
    """The document a memory stores; ``extra`` is added to its metadata."""
    doc_id, metadata = document_parts(memory.id, memory.metadata)
    return Document(id=doc_id, page_content=memory.text, metadata={**metadata, **extra})
