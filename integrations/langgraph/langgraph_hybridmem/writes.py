"""Puts and deletes of LangGraph items as hybridmem writes, one by one or in bulk.

One put is one ``MemoryStore.add`` (with the caller's id it rewrites an existing
item under its claim, no read first), between the namespace index's two steps
(:mod:`langgraph_hybridmem.index`). A batch of puts writes its new items with
one ``add_many`` (one journaled operation, one embedder call): acknowledged
means durable, as for ``add``; items that exist already are rewritten one by one
with ``add``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from langchain_core.embeddings import Embeddings
from langgraph.store.base import IndexConfig, PutOp

from hybridmem.api import MemoryStore
from hybridmem.errors import ConfigurationError, ValidationError
from hybridmem.journal import now
from langgraph_hybridmem.index import NamespaceIndex, exact_filters
from langgraph_hybridmem.items import (
    EXPIRES_KEY,
    NEVER,
    TTL_KEY,
    UNINDEXED_KEY,
    Fields,
    core_ttl,
    index_fields,
    indexed_texts,
)
from langgraph_hybridmem.namespaces import (
    ITEM_KEY,
    NamespaceLayout,
    erase,
    namespace_metadata,
    scope_args,
)

#: Items per add_many call of a batch of puts.
_BULK = 1000


class ItemWriter:
    def __init__(
        self,
        store: MemoryStore,
        layout: NamespaceLayout,
        index_config: IndexConfig | None,
        embeddings: Embeddings | None,
    ) -> None:
        self.store = store
        self.layout = layout
        self.index_config = index_config
        self.embeddings = embeddings
        self.fields = index_fields((index_config or {}).get("fields"))
        self._dimension: int | None = None
        self.namespaces = NamespaceIndex(store, layout, self.unit_vector)

    def unit_vector(self) -> list[float] | None:
        """The vector of what is stored but never ranked (unindexed items, markers):
        of the index's ``dims``, else of the store's embedder (asked once); None
        when neither is known (the store then refuses the write, naming why)."""
        dims = (self.index_config or {}).get("dims") or self._store_dimension()
        return [1.0] + [0.0] * (int(dims) - 1) if dims else None

    def _store_dimension(self) -> int | None:
        if self._dimension is None:
            try:
                self._dimension = len(self.store.embed(["dimension"])[0])
            except ConfigurationError:  # no embedder configured
                return None
        return self._dimension

    def _fields_of(self, index: Any) -> Fields:
        return self.fields if index is None else index_fields(list(index))

    def _memories(self, ops: Sequence[PutOp]) -> list[dict[str, Any]]:
        """``add``'s arguments for each put (a value, not a delete); the indexed
        texts are embedded in one call."""
        prepared: list[dict[str, Any]] = []
        to_embed: list[int] = []
        for op in ops:
            assert op.value is not None
            value = dict(op.value)
            texts = [] if op.index is False else indexed_texts(value, self._fields_of(op.index))
            metadata: dict[str, Any] = {
                **value,
                **namespace_metadata(op.namespace, op.key),
                TTL_KEY: op.ttl,
                EXPIRES_KEY: NEVER,
            }
            fields: dict[str, Any] = {
                "metadata": metadata,
                "memory_id": self.layout.memory_id(op.namespace, op.key),
                **scope_args(self.layout.item_scope(op.namespace)),
            }
            if texts:
                fields["text"] = "\n".join(texts)
                fields["embedding"] = None
                if self.embeddings is not None:
                    to_embed.append(len(prepared))
            else:
                # Stored and filtered, never ranked: a query search lists it unscored.
                metadata[UNINDEXED_KEY] = True
                fields["text"] = json.dumps(value, sort_keys=True, ensure_ascii=False) or "{}"
                fields["embedding"] = self.unit_vector()
            prepared.append(fields)
        if to_embed and self.embeddings is not None:
            vectors = self.embeddings.embed_documents([prepared[i]["text"] for i in to_embed])
            for i, vector in zip(to_embed, vectors, strict=True):
                prepared[i]["embedding"] = list(vector)
        return prepared

    def put(self, op: PutOp) -> None:
        if op.value is None:
            erase(
                self.store,
                self.layout.memory_id(op.namespace, op.key),
                scope_args(self.layout.item_scope(op.namespace)),
            )
            self.namespaces.retire_if_empty(op.namespace)
            return
        [fields] = self._memories([op])
        expiring = op.ttl is not None
        marker = self.namespaces.before_put(op.namespace, expiring)
        self.store.add(**fields, ttl=core_ttl(op.ttl))
        self.namespaces.after_put(op.namespace, marker, expiring)

    def put_many(self, ops: Sequence[PutOp]) -> None:
        """Each put of ``ops`` (one per item): the new items with ``add_many``."""
        writes = [op for op in ops if op.value is not None]
        if len(writes) < 2:
            for op in ops:
                self.put(op)
            return
        for op in ops:
            if op.value is None:
                self.put(op)
        namespaces = {op.namespace: op.ttl is not None for op in writes}
        for op in writes:
            namespaces[op.namespace] |= op.ttl is not None
        markers = {ns: self.namespaces.before_put(ns, exp) for ns, exp in namespaces.items()}
        for start in range(0, len(writes), _BULK):
            self._write_chunk(writes[start : start + _BULK])
        for ns, expiring in namespaces.items():
            self.namespaces.after_put(ns, markers[ns], expiring)

    def _write_chunk(self, ops: Sequence[PutOp]) -> None:
        prepared = self._memories(ops)
        stored = self._stored(ops)
        new = [(op, f) for op, f in zip(ops, prepared, strict=True) if f["memory_id"] not in stored]
        rewrites = [
            (op, f) for op, f in zip(ops, prepared, strict=True) if f["memory_id"] in stored
        ]
        if new:
            at = now()
            items = [{**f, "expires_at": _expiry(op.ttl, at)} for op, f in new]
            try:
                self.store.add_many(items, batch_size=len(items))
            except ValidationError:
                # Written meanwhile by another writer (add_many replaces nothing):
                # one by one, where add rewrites under each item's claim.
                rewrites += new
        for op, fields in rewrites:
            self.store.add(**fields, ttl=core_ttl(op.ttl))

    def _stored(self, ops: Sequence[PutOp]) -> set[str]:
        """The memory ids of ``ops`` already stored: one read per namespace (the
        keys as one ``$in`` filter), else one read per item."""
        keys: dict[tuple[str, ...], list[str]] = {}
        for op in ops:
            keys.setdefault(op.namespace, []).append(op.key)
        stored: set[str] = set()
        for namespace, names in keys.items():
            scope = scope_args(self.layout.item_scope(namespace))
            ids = {self.layout.memory_id(namespace, key) for key in names}
            try:
                found = self.store.get_all(
                    filters={**exact_filters(namespace), ITEM_KEY: {"$in": names}}, **scope
                )
            except ValidationError:  # a key hybridmem's filters do not take
                found = [m for m in (self.store.get(i, **scope) for i in ids) if m]
            stored |= {m.id for m in found if m.id in ids}
        return stored


def _expiry(minutes: float | None, at: Any) -> Any:
    return None if minutes is None else at + timedelta(minutes=float(minutes))
