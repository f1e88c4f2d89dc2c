"""mem0 on hybridmem, through mem0's ``langchain`` vector-store provider.

``HybridMemMem0VectorStore`` is the ``client`` of that provider (mem0's
supported extension point: ``{"provider": "langchain", "config": {"client":
...}}``). Unlike :class:`HybridMemVectorStore` it is bound to no scope: each mem0
memory is stored in the hybridmem scope of its own ``user_id`` / ``agent_id`` /
``run_id`` (from mem0's payload), so hybridmem's ``delete_all(user_id=...)``
erases mem0's user from both stores, and mem0's filters on those ids are
hybridmem's scope (in the store, before the limit).

What the provider calls, and what answers it:

* ``add_embeddings`` (mem0's vectors; nothing is embedded again): one
  ``add_many`` per scope;
* ``similarity_search_with_score_by_vector``: cosine similarities, so mem0's
  ``threshold`` works;
* ``get_by_ids`` / ``delete``: by mem0's id (see :data:`MEM0_ID_KEY`); a
  delete leaves a tombstone (see :data:`TOMBSTONE_TEXT`) for the erasure of
  mem0's history (:mod:`langchain_hybridmem.mem0_erasure`);
* ``_collection.get(where=..., limit=...)``: the listing mem0's ``get_all`` and
  ``delete_all`` use (Chroma's interface; on a store without it they list
  nothing and delete nothing).

A mem0 id names a memory within its scope (``scoped_id(scope, mem0_id)``). mem0
asks for a memory by id alone (``Memory.get/update/delete(memory_id)``), so the
scope is found from the record itself, in any process: each memory carries a
digest of its mem0 id (``_mem0_key``), which the vector store indexes
(:mod:`hybridmem.mem0_lookup`; SQLite, Kuzu and Weaviate all do), and a lookup
reads the matching records through that index, then the memory through the
store's ``get`` in the scope found. A ``HybridMemClient`` of a server asks the
server's index (``mem0_lookup``: ``POST /mem0/lookup``, an admin key's call, as
mem0 spans its users). Nothing else maps a mem0 id to its user, in no process:
an erased memory's index entry goes with it. A store with neither is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from hybridmem.api import MemoryStore
from hybridmem.errors import ConfigurationError
from hybridmem.ids import scoped_id
from hybridmem.mem0_lookup import (
    MEM0_ID_KEY,
    MEM0_KEY,
    MEM0_MARKER_KEY,
    Mem0Location,
    Mem0Lookup,
    mem0_key,
)
from hybridmem.models import Memory, Scope
from hybridmem.validation import scope_from

__all__ = [
    "MEM0_ID_KEY",
    "MEM0_KEY",
    "MEM0_MARKER_KEY",
    "TOMBSTONE_PREFIX",
    "TOMBSTONE_TEXT",
    "HybridMemMem0VectorStore",
]
# MEM0_ID_KEY: the mem0 id of the memory (mem0 makes its own ids).
# MEM0_MARKER_KEY: True on every memory mem0 wrote through this store: searches
# and listings keep to them, and other integrations exclude them.
# MEM0_KEY: the indexed digest of the mem0 id, found across scopes by id.
#: A deleted mem0 memory leaves a tombstone (``_mem0`` False, no text of its
#: own) in its scope, erased with it, naming the id mem0's history keeps.
TOMBSTONE_TEXT = "(deleted mem0 memory)"
TOMBSTONE_PREFIX = "mem0-deleted:"
_SCOPE_FIELDS = ("user_id", "agent_id", "run_id")
_INTERNAL = (MEM0_ID_KEY, MEM0_MARKER_KEY, MEM0_KEY)


@runtime_checkable
class _ServerLookup(Protocol):
    """A client of a server: the server's index through ``POST /mem0/lookup``."""

    def mem0_lookup(self, mem0_ids: Sequence[str]) -> list[Mem0Location]: ...


class HybridMemMem0VectorStore(VectorStore):
    """mem0 memories as hybridmem memories, each in its mem0 user/agent/run scope."""

    def __init__(self, store: MemoryStore, embedding: Embeddings) -> None:
        self.store = store
        self._embedding = embedding
        vector = getattr(store, "vector", None)
        # The index that finds a mem0 id's record in any scope: the vector store's
        # in process, the server's through a client.
        self._lookup: Mem0Lookup | None = vector if isinstance(vector, Mem0Lookup) else None
        self._server: _ServerLookup | None = (
            store if self._lookup is None and isinstance(store, _ServerLookup) else None
        )
        if self._lookup is None and self._server is None:
            raise ConfigurationError(
                f"mem0 finds a memory by its id alone: {type(store).__name__} (vector store"
                f" {type(vector).__name__}) cannot look a mem0 id up in any scope; use a"
                " HybridStore whose vector provider has the Mem0Lookup capability (sqlite,"
                " kuzu, weaviate) or a HybridMemClient of a hybridmem server"
            )

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    @property
    def _collection(self) -> _Listing:
        return _Listing(self)

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
        return self.add_embeddings(
            self._embedding.embed_documents(texts), metadatas=metadatas, ids=ids, texts=texts
        )

    def add_embeddings(
        self,
        embeddings: Sequence[Sequence[float]],
        metadatas: Sequence[dict[str, Any]] | None = None,
        ids: Sequence[str] | None = None,
        *,
        texts: Sequence[str] | None = None,
    ) -> list[str]:
        """Store mem0's vectors; the text is the payload's ``data`` unless given."""
        count = len(embeddings)
        if metadatas is None or ids is None or len(metadatas) != count or len(ids) != count:
            raise ValueError("add_embeddings needs one metadata dict and one id per vector")
        by_scope: dict[Scope, list[dict[str, Any]]] = {}
        for position, (vector, payload, mem0_id) in enumerate(
            zip(embeddings, metadatas, ids, strict=True)
        ):
            scope = _scope_of(payload)
            text = texts[position] if texts is not None else payload.get("data", "")
            metadata = {k: v for k, v in payload.items() if k not in _SCOPE_FIELDS}
            metadata.update(
                {MEM0_ID_KEY: mem0_id, MEM0_MARKER_KEY: True, MEM0_KEY: mem0_key(mem0_id)}
            )
            by_scope.setdefault(scope, []).append(
                {
                    "text": text,
                    "embedding": list(vector),
                    "metadata": metadata,
                    "memory_id": scoped_id(scope, mem0_id),
                    "user_id": scope.user_id,
                    "agent_id": scope.agent_id,
                    "run_id": scope.run_id,
                }
            )
        for items in by_scope.values():
            self.store.add_many(items, batch_size=min(len(items), 10_000))
        return list(ids)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        _refuse(kwargs, "delete")
        if ids is None:
            raise ValueError(
                "mem0 memories live in their users' scopes: erase one with"
                " HybridStore.delete_all(user_id=...) (and mem0's delete_all)"
            )
        for memory in self._resolve(ids):
            mem0_id = str(memory.metadata[MEM0_ID_KEY])
            # mem0 writes the erased text into its history database next: the
            # tombstone lets erase_mem0_scope find that row when the scope goes.
            self.store.add(
                TOMBSTONE_TEXT,
                embedding=memory.embedding,
                metadata={MEM0_ID_KEY: mem0_id, MEM0_MARKER_KEY: False},
                memory_id=scoped_id(memory.scope, TOMBSTONE_PREFIX + mem0_id),
                user_id=memory.user_id,
                agent_id=memory.agent_id,
                run_id=memory.run_id,
            )
            self.store.delete(
                memory.id, user_id=memory.user_id, agent_id=memory.agent_id, run_id=memory.run_id
            )
        return True

    # -- reads ---------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return [_document(memory) for memory in self._resolve(ids)]

    def _resolve(self, ids: Sequence[str]) -> list[Memory]:
        """The live mem0 memories of ``ids``, each read through the store's ``get``
        in the scope its record is in (expired and erased ones are not found)."""
        wanted = [str(i) for i in dict.fromkeys(ids)]
        scopes = self._scopes_of(wanted)
        found = []
        for mem0_id in wanted:
            scope = scopes.get(mem0_id)
            if scope is None:
                continue
            memory = self.store.get(
                scoped_id(scope, mem0_id),
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                run_id=scope.run_id,
            )
            if (
                memory is not None
                and memory.metadata.get(MEM0_ID_KEY) == mem0_id
                and memory.metadata.get(MEM0_MARKER_KEY) is True
            ):
                found.append(memory)
        return found

    def _scopes_of(self, mem0_ids: list[str]) -> dict[str, Scope]:
        """The scope each id's record is in, from the store's index (the server's,
        through a client)."""
        found: list[tuple[str, Scope]]
        if self._lookup is not None:
            records = self._lookup.mem0_records(mem0_ids)
            found = [(str(r.metadata[MEM0_ID_KEY]), r.scope) for r in records]
        else:
            assert self._server is not None
            found = [
                (at.mem0_id, Scope(user_id=at.user_id, agent_id=at.agent_id, run_id=at.run_id))
                for at in self._server.mem0_lookup(mem0_ids)
            ]
        scopes: dict[str, set[Scope]] = {}
        for mem0_id, scope in found:
            scopes.setdefault(mem0_id, set()).add(scope)
        ambiguous = sorted(i for i, found in scopes.items() if len(found) > 1)
        if ambiguous:
            # mem0's ids are random: another copy was written around the integration.
            raise ValueError(f"mem0 ids found in more than one scope: {ambiguous}")
        return {i: next(iter(found)) for i, found in scopes.items()}

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        vector = self._embedding.embed_query(query)
        return [d for d, _ in self.similarity_search_with_score_by_vector(vector, k, **kwargs)]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)]

    def similarity_search_with_score_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """The ``k`` closest mem0 memories with their cosine similarity (higher is
        closer). ``filter`` is mem0's: its ``user_id`` / ``agent_id`` / ``run_id``
        are the scope (at least one is required), the rest hybridmem filters."""
        _refuse(kwargs, "similarity_search")
        if k == 0:
            return []
        scope, filters = _split(filter)
        hits = self.store.search(
            embedding,
            limit=k,
            filters=filters,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
        )
        return [(_document(hit.memory), hit.score) for hit in hits]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> HybridMemMem0VectorStore:
        raise NotImplementedError("make it with HybridMemMem0VectorStore(store, embedding)")


class _Listing:
    """Chroma's ``collection.get``, as mem0's provider lists memories."""

    def __init__(self, vectorstore: HybridMemMem0VectorStore) -> None:
        self._vectorstore = vectorstore

    def get(self, where: dict[str, Any] | None = None, limit: int | None = None) -> dict[str, Any]:
        scope, filters = _split(where)
        memories = self._vectorstore.store.get_all(
            limit=limit,
            filters=filters,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
        )
        documents = [_document(m) for m in memories]
        return {"ids": [d.id for d in documents], "metadatas": [d.metadata for d in documents]}


def _scope_of(payload: dict[str, Any]) -> Scope:
    return scope_from(*(payload.get(name) for name in _SCOPE_FIELDS))


def _split(where: dict[str, Any] | None) -> tuple[Scope, dict[str, Any]]:
    """mem0's filter: its scope ids, and the rest as hybridmem filters (Chroma's
    ``{"$and": [{…}, {…}]}`` is hybridmem's plain AND across keys)."""
    merged: dict[str, Any] = {}
    if where and set(where) == {"$and"}:
        for part in where["$and"]:
            merged.update(part)
    else:
        merged.update(where or {})
    scope = scope_from(*(merged.pop(name, None) for name in _SCOPE_FIELDS))
    for key in _INTERNAL:
        if key in merged:
            raise ValueError(f"metadata key {key!r} is reserved by langchain-hybridmem")
    merged[MEM0_MARKER_KEY] = True
    return scope, merged


def _document(memory: Memory) -> Document:
    metadata = {k: v for k, v in memory.metadata.items() if k not in _INTERNAL}
    metadata.update(memory.scope.parts())
    return Document(
        id=str(memory.metadata[MEM0_ID_KEY]), page_content=memory.text, metadata=metadata
    )


def _refuse(kwargs: dict[str, Any], method: str) -> None:
    if kwargs:
        raise TypeError(f"{method} got unexpected keyword arguments: {sorted(kwargs)}")
