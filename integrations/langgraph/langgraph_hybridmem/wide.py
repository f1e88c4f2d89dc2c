"""Reads under a prefix shorter than a scope (``()``, ``("memories",)``): namespace
by namespace, from the namespace index, with the limit pushed into each read.

Their cost is one read of the index plus one read per namespace visited, and an
unranked search stops at the namespace that fills its page, and reads the index
a page at a time: it costs what it returns, not the store's size. Namespaces
come newest first (the last first written first), each one's items newest first.
A query search ranks every namespace under the prefix (one vector search each,
the page's worth from each) and merges them by score.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from typing import Any

from hybridmem.api import MemoryStore
from hybridmem.models import Memory
from hybridmem.reads import cosine
from hybridmem.validation import MAX_LIMIT
from langgraph_hybridmem import filters as lg_filters
from langgraph_hybridmem.index import NamespaceIndex, exact_filters
from langgraph_hybridmem.items import UNINDEXED_KEY, alive_filter, value_of
from langgraph_hybridmem.namespaces import NamespaceLayout, scope_args
from langgraph_hybridmem.pages import items_under, newest

_INDEXED = {UNINDEXED_KEY: {"$ne": True}}


class WideReads:
    def __init__(self, store: MemoryStore, layout: NamespaceLayout, index: NamespaceIndex) -> None:
        self.store = store
        self.layout = layout
        self.index = index

    def _read(
        self,
        namespace: tuple[str, ...],
        filter: Mapping[str, Any] | None,
        limit: int | None,
        unindexed: bool = False,
        expired_too: bool = False,
    ) -> list[Memory]:
        """Items of exactly ``namespace`` passing ``filter``, newest first, at most
        ``limit``; only unindexed ones with ``unindexed``."""
        scope = scope_args(self.layout.item_scope(namespace))
        if expired_too:  # the sweep's and erasures' read: every item, however old
            pushed, _ = lg_filters.pushdown(filter)
            found = self.store.get_all(filters={**pushed, **exact_filters(namespace)}, **scope)
            return [m for m in found if lg_filters.matches(value_of(m), filter)]
        keep, filters, whole = items_under(
            namespace, filter, depth=len(namespace), indexed=False if unindexed else None
        )
        return newest(self.store, scope, keep, filters, limit, exact=whole)

    def matching(
        self, prefix: tuple[str, ...], filter: Mapping[str, Any] | None, expired_too: bool
    ) -> Iterator[Memory]:
        """Every item under ``prefix`` passing ``filter``, namespace by namespace."""
        for marker in self.index.markers(prefix):
            yield from self._read(marker.namespace, filter, None, expired_too=expired_too)

    def unranked(
        self, prefix: tuple[str, ...], filter: Mapping[str, Any] | None, offset: int, limit: int
    ) -> list[Memory]:
        page: list[Memory] = []
        skip = offset
        for marker in self.index.newest_first(prefix):
            wanted = skip + limit - len(page)
            found = self._read(marker.namespace, filter, wanted)
            if skip:
                dropped = min(skip, len(found))
                found, skip = found[dropped:], skip - dropped
            page += found
            if len(page) >= limit:
                break
        return page[:limit]

    def ranked(
        self,
        prefix: tuple[str, ...],
        filter: Mapping[str, Any] | None,
        vector: list[float],
        offset: int,
        limit: int,
    ) -> list[tuple[Memory, float | None]]:
        """The indexed items best first, paged; then unindexed ones, unscored, up to
        ``limit`` (as the one-scope search)."""
        end = offset + limit
        pushed, whole = lg_filters.pushdown(filter)
        namespaces = [m.namespace for m in self.index.markers(prefix)]
        candidates: list[list[tuple[float, int, Memory]]] = []
        order = 0
        for namespace in namespaces:
            scope = scope_args(self.layout.item_scope(namespace))
            if whole and end <= MAX_LIMIT:
                filters = alive_filter({**pushed, **exact_filters(namespace), **_INDEXED})
                hits = self.store.search(vector, limit=end, filters=filters, **scope)
                scored = [(-h.score, h.memory) for h in hits]
            else:
                scored = [
                    (-cosine(vector, m.embedding), m)
                    for m in self._read(namespace, filter, None)
                    if not m.metadata.get(UNINDEXED_KEY)
                ]
            ranked = []
            for negative, memory in sorted(scored, key=lambda pair: pair[0]):
                ranked.append((negative, order, memory))
                order += 1
            candidates.append(ranked)
        merged = heapq.merge(*candidates, key=lambda entry: (entry[0], entry[1]))
        page: list[tuple[Memory, float | None]] = []
        for position, (negative, _, memory) in enumerate(merged):
            if position >= end:
                break
            if position >= offset:
                page.append((memory, -negative))
        if len(page) < limit:
            for namespace in namespaces:
                page += [
                    (m, None)
                    for m in self._read(namespace, filter, limit - len(page), unindexed=True)
                ]
                if len(page) >= limit:
                    break
        return page
