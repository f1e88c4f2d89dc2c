"""HybridMemStore: LangGraph's ``BaseStore`` over a hybridmem store: a ``HybridStore``
in process, or a client of ``hybridmem serve`` (``HybridMemClient``,
``AsyncHybridMemClient``) that many app processes share. It uses the public API
only (:mod:`hybridmem.api`), so every store answers the same.

Each item is one hybridmem memory: its id is an id of its scope named by
(namespace, key) (see :mod:`langgraph_hybridmem.namespaces`), so a key is a
stable id that no other scope can take; its text is what the index embeds; its
metadata is the item's value (top-level keys as they are) plus the namespace and
key under reserved ``_lg_`` keys. Every put and delete is a hybridmem
``add``/``delete`` — claimed, journaled, in both stores; ``delete_namespace`` of
a scope's namespace is ``delete_all``.

Reads follow LangGraph's semantics (``InMemoryStore``'s), with the differences
listed in the integration's README: a batch's reads see the state before the
batch; ``search`` filters compare values as JSON (:mod:`langgraph_hybridmem.filters`);
items put with ``index=False`` are returned by a query search after the ranked
ones, unscored, as ``InMemoryStore`` returns them.

A TTL is hybridmem's own expiry: an item put with ``ttl`` (minutes) is a memory
with that ``ttl``, so once it expires no read of hybridmem returns it and
``purge_expired()`` erases it. A read that refreshes it calls
``HybridStore.update(id, ttl=…)``, which only moves the expiry, under the
memory's claim, and never writes back an item erased meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from langgraph.store.base import _validate_namespace as validate_namespace
from langgraph.store.base.embed import ensure_embeddings

from hybridmem import HybridStore
from hybridmem.api import AsyncMemoryStore, MemoryStore
from hybridmem.errors import ConfigurationError, NotFoundError
from hybridmem.journal import now
from hybridmem.loop_bridge import synchronous
from hybridmem.models import Memory
from hybridmem.reads import cosine
from hybridmem.validation import MAX_LIMIT
from langgraph_hybridmem import filters as lg_filters
from langgraph_hybridmem.index import Marker
from langgraph_hybridmem.items import (
    EXPIRES_KEY,
    NEVER,
    TTL_KEY,
    UNINDEXED_KEY,
    alive,
    alive_filter,
    core_ttl,
    to_item,
    to_search_item,
    value_of,
)
from langgraph_hybridmem.namespaces import (
    NAMESPACE_KEY,
    RESERVED_PREFIX,
    NamespaceLayout,
    erase,
    prefix_filters,
    scope_args,
)
from langgraph_hybridmem.pages import items_under, newest
from langgraph_hybridmem.ttl import TTLSweeper
from langgraph_hybridmem.wide import WideReads
from langgraph_hybridmem.writes import ItemWriter

#: Batch size of repair_namespace_index's scan of the store.
_SCAN_BATCH = 500
_INDEXED = {UNINDEXED_KEY: {"$ne": True}}
_UNINDEXED = {UNINDEXED_KEY: True}


class HybridMemStore(TTLSweeper, BaseStore):
    """A LangGraph store whose items are hybridmem memories.

    ``index``: LangGraph's index config. With ``embed``, the configured ``fields``
    (default ``["$"]``, the whole value) are embedded by it; without ``embed``
    (or without ``index``), hybridmem's own embedder embeds them. The fields'
    texts are joined into the memory's text, one vector per item.
    ``layout``: the namespace → scope rule. ``ttl``: LangGraph's TTL config.

    Reads whose namespace prefix decides a scope (``("memories", user_id, …)``)
    run in the store; a shorter prefix (``()``, ``("memories",)``) and
    ``list_namespaces`` read the namespace index (:mod:`langgraph_hybridmem.index`),
    then the namespaces they need (:mod:`langgraph_hybridmem.wide`).
    """

    supports_ttl = True

    def __init__(
        self,
        store: HybridStore | MemoryStore | AsyncMemoryStore,
        *,
        index: IndexConfig | None = None,
        layout: NamespaceLayout | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        TTLSweeper.__init__(self)
        # An awaited store (AsyncHybridMemClient) is bridged: the async methods bind
        # it to their loop and run this store's logic in a worker thread.
        self.store, self._bridge = synchronous(store)
        self.layout = layout or NamespaceLayout()
        self.ttl_config = ttl
        self.index_config = index
        embed = (index or {}).get("embed")
        self.embeddings: Embeddings | None = ensure_embeddings(embed) if embed else None
        self._writer = ItemWriter(self.store, self.layout, index, self.embeddings)
        self.namespaces = self._writer.namespaces
        self._wide = WideReads(self.store, self.layout, self.namespaces)

    # -- batch ------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Every read sees the state before the batch (as ``InMemoryStore``'s do);
        then the puts are applied, the last one of each (namespace, key) winning."""
        ops = list(ops)
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for op in ops:
            if isinstance(op, PutOp):
                validate_namespace(op.namespace)
                if op.value is not None:
                    _check_value(op.value)
                puts[(op.namespace, op.key)] = op
            elif isinstance(op, SearchOp):
                _check_search(op)
            elif not isinstance(op, (GetOp, ListNamespacesOp)):
                raise ValueError(f"unknown operation type: {type(op).__name__}")
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append(self._get(op))
            elif isinstance(op, SearchOp):
                results.append(self._search(op))
            elif isinstance(op, ListNamespacesOp):
                results.append(self._list_namespaces(op))
            else:
                results.append(None)
        self._writer.put_many(list(puts.values()))
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        # One worker-thread hop, like AsyncHybridStore: the logic is batch's.
        self._bind()
        return await asyncio.to_thread(self.batch, list(ops))

    def _bind(self) -> None:
        if self._bridge is not None:
            self._bridge.bind()

    # -- writes -----------------------------------------------------------------------

    async def adelete_namespace(self, prefix: tuple[str, ...]) -> int:
        self._bind()
        return await asyncio.to_thread(self.delete_namespace, prefix)

    def delete_namespace(self, prefix: tuple[str, ...]) -> int:
        """Erase every item whose namespace starts with ``prefix``; returns how many.

        A prefix that is exactly a scope (``("memories", user_id[, agent_id[, run_id]])``)
        is one ``delete_all`` of that scope, which also erases the scope's other
        memories and its graph: the coordinated erasure. Longer prefixes erase their
        items one by one; shorter ones find their namespaces in the index. The
        markers of the namespaces emptied are retired."""
        scope = self.layout.scope(prefix)
        markers = self.namespaces.markers(prefix)
        if scope is not None and self.layout.scope_width(prefix) == len(prefix):
            erased = int(self.store.delete_all(**scope_args(scope))["memories"])
            if scope.run_id is None:  # the markers sit in the scope: erased with it
                return erased - len(markers)
        else:
            erased = 0
            for memory in self._matching(prefix, None, expired_too=True):
                erase(self.store, memory.id, scope_args(memory))
                erased += 1
        for marker in markers:
            self.namespaces.retire_if_empty(marker.namespace)
        return erased

    # -- reads ------------------------------------------------------------------------

    def _get(self, op: GetOp) -> Item | None:
        scope = self.layout.item_scope(op.namespace)
        memory = self.store.get(self.layout.memory_id(op.namespace, op.key), **scope_args(scope))
        if memory is None or not alive(memory) or not _holds(memory, op.namespace, op.key):
            return None
        if op.refresh_ttl:
            refreshed = self._refresh(memory)
            if refreshed is None:
                return None
            memory = refreshed
        return to_item(memory)

    def _refresh(self, memory: Memory) -> Memory | None:
        """Move the item's expiry ``_lg_ttl`` minutes from now; None when it was
        erased (or expired) since it was read: it is not written back."""
        minutes = memory.metadata.get(TTL_KEY)
        if minutes is None:
            return memory
        scope = scope_args(memory)
        legacy = float(memory.metadata.get(EXPIRES_KEY, NEVER)) < NEVER
        try:
            if legacy:  # its expiry is in metadata too (written before the core expiry)
                return self.store.update(
                    memory.id,
                    metadata={**memory.metadata, EXPIRES_KEY: NEVER},
                    ttl=core_ttl(minutes),
                    **scope,
                )
            return self.store.update(memory.id, ttl=core_ttl(minutes), **scope)
        except NotFoundError:
            return None

    def _search(self, op: SearchOp) -> list[SearchItem]:
        if op.limit == 0:
            return []
        if op.query:
            page = self._ranked(op)
        else:
            page = [(m, None) for m in self._unranked(op)]
        if op.refresh_ttl:
            kept: list[tuple[Memory, float | None]] = []
            for memory, score in page:
                refreshed = self._refresh(memory)
                if refreshed is not None:
                    kept.append((refreshed, score))
            page = kept
        return [to_search_item(m, s) for m, s in page]

    def _unranked(self, op: SearchOp) -> list[Memory]:
        """Newest first, ``op.offset`` skipped, at most ``op.limit``."""
        scope = self.layout.scope(op.namespace_prefix)
        if scope is None:
            return self._wide.unranked(op.namespace_prefix, op.filter, op.offset, op.limit)
        end = op.offset + op.limit
        keep, filters, whole = items_under(op.namespace_prefix, op.filter)
        found = newest(self.store, scope_args(scope), keep, filters, end, exact=whole)
        return found[op.offset : end]

    def _ranked(self, op: SearchOp) -> list[tuple[Memory, float | None]]:
        """As InMemoryStore: the indexed items best first, paged; then, when the page
        is not full, unindexed items (unscored) up to ``op.limit``."""
        assert op.query
        vector = self._query_vector(op.query)
        scope = self.layout.scope(op.namespace_prefix)
        pushed, whole = lg_filters.pushdown(op.filter)
        end = op.offset + op.limit
        scored: list[tuple[Memory, float | None]]
        if scope is not None and whole and end <= MAX_LIMIT:
            filters = alive_filter({**pushed, **prefix_filters(op.namespace_prefix)})
            hits = self.store.search(
                vector, limit=end, filters={**filters, **_INDEXED}, **scope_args(scope)
            )
            scored = [(h.memory, h.score) for h in hits[op.offset :]]
            if len(scored) < op.limit:
                rest = self.store.get_all(
                    limit=op.limit - len(scored),
                    filters={**filters, **_UNINDEXED},
                    **scope_args(scope),
                )
                scored += [(m, None) for m in rest]
            return scored
        if scope is None:
            return self._wide.ranked(op.namespace_prefix, op.filter, vector, op.offset, op.limit)
        found = list(self._matching(op.namespace_prefix, op.filter))
        found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        ranked = sorted(
            ((m, cosine(vector, m.embedding)) for m in found if not m.metadata.get(UNINDEXED_KEY)),
            key=lambda pair: -pair[1],
        )
        scored = [(m, s) for m, s in ranked[op.offset : end]]
        if len(scored) < op.limit:
            unindexed = [m for m in found if m.metadata.get(UNINDEXED_KEY)]
            scored += [(m, None) for m in unindexed[: op.limit - len(scored)]]
        return scored

    def _query_vector(self, query: str) -> list[float]:
        if self.embeddings is not None:
            return list(self.embeddings.embed_query(query))
        try:
            return self.store.embed([query])[0]
        except ConfigurationError:
            raise ValueError(
                "search with a query needs index={'embed': …} or a hybridmem embedder"
            ) from None

    def _matching(
        self, prefix: tuple[str, ...], filter: Mapping[str, Any] | None, expired_too: bool = False
    ) -> Iterator[Memory]:
        """Every item whose namespace starts with ``prefix`` and passes ``filter``
        (LangGraph's semantics), newest first when the prefix decides a scope.

        In the store when the prefix decides a scope; else namespace by namespace."""
        pushed, _ = lg_filters.pushdown(filter)
        core = {**pushed, **prefix_filters(prefix)}
        if not expired_too:
            core = alive_filter(core)
        scope = self.layout.scope(prefix)
        if scope is not None:
            candidates: Iterable[Memory] = self.store.get_all(filters=core, **scope_args(scope))
        else:
            candidates = self._wide.matching(prefix, filter, expired_too)
        for memory in candidates:
            if lg_filters.matches(value_of(memory), filter):
                yield memory

    def _scan(self, prefix: tuple[str, ...], expired_too: bool) -> Iterator[Memory]:
        """Every item of the store under ``prefix``: a read of the whole store, which
        the public API does not offer (its reads are scoped): in process only."""
        if not isinstance(self.store, HybridStore):
            raise NotImplementedError(
                "repair_namespace_index reads the whole store: run it on an in-process"
                " HybridStore (HybridMemStore(HybridStore(config))), not over HTTP"
            )
        for ids in self.store.vector.iter_ids(_SCAN_BATCH):
            for record in self.store.vector.get(ids):
                namespace = record.metadata.get(NAMESPACE_KEY)
                if not isinstance(namespace, list) or tuple(namespace[: len(prefix)]) != prefix:
                    continue  # not an item of a LangGraph store, or not under prefix
                memory = record.to_memory()
                if expired_too or (
                    alive(memory) and (record.expires_at is None or not _past(record.expires_at))
                ):
                    yield memory

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        """From the namespace index: one read of it, plus one read per checked
        marker on the page (:mod:`langgraph_hybridmem.index`)."""
        conditions = op.match_conditions or ()
        prefixes = [c.path for c in conditions if c.match_type == "prefix"]
        # A wildcard stops the prefix the index can filter on.
        prefix: tuple[str, ...] = ()
        if prefixes:
            prefix = tuple(_until_wildcard(prefixes[0]))
        groups: dict[tuple[str, ...], list[Marker]] = {}
        for marker in self.namespaces.markers(prefix):
            if not conditions or all(_matches(c, marker.namespace) for c in conditions):
                depth = op.max_depth
                listed_as = marker.namespace[:depth] if depth is not None else marker.namespace
                groups.setdefault(listed_as, []).append(marker)
        listed: list[tuple[str, ...]] = []
        for namespace in sorted(groups):
            if len(listed) >= op.offset + op.limit:
                break
            # Trusted markers first: a checked one costs a read of its namespace.
            if any(self._holds_items(m) for m in sorted(groups[namespace], key=_checked)):
                listed.append(namespace)
        return listed[op.offset :]

    def _holds_items(self, marker: Marker) -> bool:
        return not marker.checked or not self.namespaces.retire_if_empty(marker.namespace)

    def repair_namespace_index(self) -> int:
        """Make the namespace index agree with the items; returns the number of
        namespaces holding items. Reads the whole store: for a store written by a
        version without the index, or after items were erased one by one through
        hybridmem (``delete(id)``) rather than through this store."""
        found = {tuple(m.metadata[NAMESPACE_KEY]) for m in self._scan((), expired_too=False)}
        for namespace in found:
            self.namespaces.ensure(namespace)
        for marker in self.namespaces.markers(()):
            if marker.namespace not in found:
                self.namespaces.retire_if_empty(marker.namespace)
        return len(found)


def _checked(marker: Marker) -> bool:
    return marker.checked


def _past(at: Any) -> bool:
    return bool(at <= now())


def _holds(memory: Memory, namespace: tuple[str, ...], key: str) -> bool:
    """Is ``memory`` the item (namespace, key)? (Not another memory under its id.)"""
    return (
        memory.metadata.get(NAMESPACE_KEY) == list(namespace)
        and memory.metadata.get("_lg_key") == key
    )


def _check_value(value: Mapping[str, Any]) -> None:
    reserved = [k for k in value if isinstance(k, str) and k.startswith(RESERVED_PREFIX)]
    if reserved:
        raise ValueError(f"value keys starting with {RESERVED_PREFIX!r} are reserved: {reserved}")


def _check_search(op: SearchOp) -> None:
    for name, number in (("limit", op.limit), ("offset", op.offset)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError(f"search {name} must be an integer >= 0, got {number!r}")
    lg_filters.check(op.filter or {})
    for key in op.filter or {}:
        if isinstance(key, str) and key.startswith(RESERVED_PREFIX):
            raise ValueError(f"filter keys starting with {RESERVED_PREFIX!r} are reserved: {key}")


def _until_wildcard(path: Sequence[str]) -> Iterator[str]:
    for element in path:
        if element == "*":
            return
        yield element


def _matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = condition.path
    if len(namespace) < len(path):
        return False
    ends = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    return all(p in ("*", n) for p, n in zip(path, ends, strict=True)) if path else True
