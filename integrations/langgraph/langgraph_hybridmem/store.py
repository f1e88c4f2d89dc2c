"""HybridMemStore: LangGraph's ``BaseStore`` over a HybridStore.

Each item is one hybridmem memory: its id is a UUID5 of (namespace, key), so a
key is a stable id; its text is what the index embeds; its metadata is the
item's value (top-level keys as they are, so ``search(filter=…)`` becomes
hybridmem's filters, evaluated in the store) plus the namespace and key under
reserved ``_lg_`` keys (see :mod:`langgraph_hybridmem.namespaces`). Every put
and delete is a hybridmem ``add``/``delete`` — claimed, journaled, in both
stores; ``delete_namespace`` of a scope's namespace is ``delete_all``.

A TTL is hybridmem's own expiry: an item put with ``ttl`` (minutes) is a memory
with ``ttl`` (its ``expires_at``), so once it expires no read of hybridmem returns
it, not only this store's, and ``purge_expired()`` (and ``hybridmem serve``'s
sweep) erases it as a coordinated erasure. The item also keeps its TTL and expiry
in metadata (``_lg_ttl`` minutes, to refresh it on read; ``_lg_expires``, epoch
seconds, far future without TTL): this store's reads filter on it in the store,
which also hides the items that versions before core expiry wrote.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from datetime import timedelta
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
from langgraph.store.base.embed import ensure_embeddings, get_text_at_path, tokenize_path

from hybridmem import HybridStore
from hybridmem.filters import parse_filters
from hybridmem.models import Memory
from hybridmem.store import _cosine  # one similarity, the store's own
from langgraph_hybridmem.namespaces import (
    NAMESPACE_KEY,
    RESERVED_PREFIX,
    NamespaceLayout,
    namespace_metadata,
    prefix_filters,
)

EXPIRES_KEY = "_lg_expires"
TTL_KEY = "_lg_ttl"
#: The expiry of items without TTL: far future, and exact as a float64.
NEVER = 2.0**52
_ID_NAMESPACE = uuid.UUID("3f6c2a8e-3b1d-4c57-9a51-0e2f7d9b4c18")
#: Batch size of the scans that prefixes above one scope need.
_SCAN_BATCH = 500


def item_memory_id(namespace: tuple[str, ...], key: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, json.dumps([list(namespace), key])))


class HybridMemStore(BaseStore):
    """A LangGraph store whose items are hybridmem memories.

    ``index``: LangGraph's index config. With ``embed``, the configured ``fields``
    (default ``["$"]``, the whole value) are embedded by it; without ``embed``
    (or without ``index``), hybridmem's own embedder embeds them. The fields'
    texts are joined into the memory's text, one vector per item.
    ``layout``: the namespace → scope rule. ``ttl``: LangGraph's TTL config.

    Reads whose namespace prefix decides a scope (``("memories", user_id, …)``)
    run in the store; a shorter prefix (``()``, ``("memories",)``) scans the
    store, whose cost grows with the store.
    """

    supports_ttl = True

    def __init__(
        self,
        store: HybridStore,
        *,
        index: IndexConfig | None = None,
        layout: NamespaceLayout | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        self.store = store
        self.layout = layout or NamespaceLayout()
        self.ttl_config = ttl
        self.index_config = index
        embed = (index or {}).get("embed")
        self.embeddings: Embeddings | None = ensure_embeddings(embed) if embed else None
        fields = (index or {}).get("fields") or ["$"]
        self._fields = [(f, f if f == "$" else tokenize_path(f)) for f in fields]
        self._sweeper: tuple[threading.Event, Future[None]] | None = None
        # Items with an expiry only in their metadata (see sweep_ttl).
        self._legacy_lock = threading.Lock()
        self._legacy_scanned: list[tuple[str, ...]] = []
        self._legacy: dict[str, float] = {}

    # -- batch ------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append(self._get(op))
            elif isinstance(op, SearchOp):
                results.append(self._search(op))
            elif isinstance(op, ListNamespacesOp):
                results.append(self._list_namespaces(op))
            elif isinstance(op, PutOp):
                self._put(op)
                results.append(None)
            else:
                raise ValueError(f"unknown operation type: {type(op).__name__}")
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        # One worker-thread hop, like AsyncHybridStore: the logic is batch's.
        return await asyncio.to_thread(self.batch, list(ops))

    # -- writes -----------------------------------------------------------------------

    def _put(self, op: PutOp) -> None:
        memory_id = item_memory_id(op.namespace, op.key)
        if op.value is None:
            self.store.delete(memory_id)
            return
        value = dict(op.value)
        reserved = [k for k in value if isinstance(k, str) and k.startswith(RESERVED_PREFIX)]
        if reserved:
            raise ValueError(
                f"value keys starting with {RESERVED_PREFIX!r} are reserved: {reserved}"
            )
        text = self._text(value, op.index)
        minutes = op.ttl if op.ttl is not None else None
        metadata = {
            **value,
            **namespace_metadata(op.namespace, op.key),
            TTL_KEY: minutes,
            EXPIRES_KEY: _expiry(minutes),
        }
        scope = self.layout.item_scope(op.namespace)
        self.store.add(
            text,
            embedding=self.embeddings.embed_documents([text])[0] if self.embeddings else None,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            metadata=metadata,
            memory_id=memory_id,
            ttl=_core_ttl(minutes),
        )

    def _text(self, value: dict[str, Any], index: Any) -> str:
        """The text a value is stored (and embedded) as: its indexed fields, joined."""
        fields = self._fields if index in (None, False) else [(f, tokenize_path(f)) for f in index]
        texts: list[str] = []
        for path, tokens in fields:
            if path == "$":
                texts.append(json.dumps(value, sort_keys=True, ensure_ascii=False))
            else:
                texts.extend(get_text_at_path(value, tokens))
        return "\n".join(texts) or json.dumps(value, sort_keys=True, ensure_ascii=False)

    async def adelete_namespace(self, prefix: tuple[str, ...]) -> int:
        return await asyncio.to_thread(self.delete_namespace, prefix)

    def delete_namespace(self, prefix: tuple[str, ...]) -> int:
        """Erase every item whose namespace starts with ``prefix``; returns how many.

        A prefix that is exactly a scope (``("memories", user_id[, agent_id[, run_id]])``)
        is one ``delete_all`` of that scope, which also erases the scope's other
        memories and its graph: the coordinated erasure. Longer prefixes erase their
        items one by one; shorter ones scan for them."""
        scope = self.layout.scope(prefix)
        if scope is not None and self.layout.scope_width(prefix) == len(prefix):
            result = self.store.delete_all(
                user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id
            )
            return int(result["memories"])
        erased = 0
        for memory in self._matching(prefix, None, expired_too=True):
            self.store.delete(memory.id)
            erased += 1
        return erased

    def sweep_ttl(self, prefix: tuple[str, ...] = ()) -> int:
        """Erase the expired items; returns how many memories were erased.

        First hybridmem's ``purge_expired()``: it erases every expired memory of
        the store (these items and any other; they are invisible to every read
        already), as one coordinated erasure. Then the items whose expiry is only
        in their metadata (written by versions before the core expiry). Finding
        those reads every item under ``prefix``, so it is done once per prefix by
        this store object; the ones not yet expired are remembered and erased by
        a later sweep."""
        erased = int(self.store.purge_expired()["memories"])
        with self._legacy_lock:
            if not any(prefix[: len(done)] == done for done in self._legacy_scanned):
                for memory in self._matching(prefix, None, expired_too=True):
                    # Items without a TTL (NEVER) are not held: that would be every
                    # such item of the store, in memory, checked on each sweep.
                    expires = float(memory.metadata.get(EXPIRES_KEY, NEVER))
                    if expires < NEVER and (memory.expires_at is None or not _alive(memory)):
                        self._legacy[memory.id] = expires
                self._legacy_scanned.append(prefix)
            now = time.time()
            for memory_id, expires in list(self._legacy.items()):
                if expires > now:
                    continue
                del self._legacy[memory_id]
                # Read again: a put since the scan wrote a new expiry.
                now_stored = self.store.get(memory_id)
                if now_stored is not None and not _alive(now_stored):
                    self.store.delete(memory_id)
                    erased += 1
        return erased

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> Future[None]:
        """Run :meth:`sweep_ttl` every ``sweep_interval_minutes`` (default: the TTL
        config's ``sweep_interval_minutes``) in a daemon thread, as LangGraph's
        server stores do, until :meth:`stop_ttl_sweeper`. The future ends when the
        sweeper stops, with the error that stopped it if one did."""
        minutes = sweep_interval_minutes
        if minutes is None:
            minutes = (self.ttl_config or {}).get("sweep_interval_minutes")
        if minutes is None or not minutes > 0:
            raise ValueError(
                "start_ttl_sweeper needs sweep_interval_minutes > 0, given here or in"
                " ttl={'sweep_interval_minutes': …}"
            )
        if self._sweeper is not None and not self._sweeper[1].done():
            raise RuntimeError("the TTL sweeper is running already")
        stop = threading.Event()
        done: Future[None] = Future()

        def run() -> None:
            try:
                while not stop.wait(60.0 * float(minutes)):
                    self.sweep_ttl()
            except BaseException as exc:  # handed to the future's owner
                done.set_exception(exc)
            else:
                done.set_result(None)

        threading.Thread(target=run, name="hybridmem-ttl-sweeper", daemon=True).start()
        self._sweeper = (stop, done)
        return done

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper; True once it has stopped (within ``timeout`` seconds)."""
        if self._sweeper is None:
            return True
        stop, done = self._sweeper
        stop.set()
        try:
            done.exception(timeout=timeout)
        except TimeoutError:
            return False
        self._sweeper = None
        return True

    # -- reads ------------------------------------------------------------------------

    def _get(self, op: GetOp) -> Item | None:
        memory = self.store.get(item_memory_id(op.namespace, op.key))
        if memory is None or not _alive(memory):
            return None
        if op.refresh_ttl:
            memory = self._refresh(memory)
        return _item(memory)

    def _refresh(self, memory: Memory) -> Memory:
        minutes = memory.metadata.get(TTL_KEY)
        if minutes is None:
            return memory
        return self.store.add(
            memory.text,
            embedding=memory.embedding,
            user_id=memory.user_id,
            agent_id=memory.agent_id,
            run_id=memory.run_id,
            metadata={**memory.metadata, EXPIRES_KEY: _expiry(minutes)},
            memory_id=memory.id,
            ttl=_core_ttl(minutes),
        )

    def _search(self, op: SearchOp) -> list[SearchItem]:
        filters = {**(op.filter or {}), **prefix_filters(op.namespace_prefix)}
        _check_filter(op.filter or {})
        scope = self.layout.scope(op.namespace_prefix)
        wanted = op.offset + op.limit
        scored: list[tuple[Memory, float | None]]
        if op.query:
            query: Any = self.embeddings.embed_query(op.query) if self.embeddings else op.query
            if scope is not None:
                hits = self.store.search(
                    query,
                    user_id=scope.user_id,
                    agent_id=scope.agent_id,
                    run_id=scope.run_id,
                    limit=wanted,
                    filters=_alive_filter(filters),
                )
                scored = [(hit.memory, hit.score) for hit in hits]
            else:
                scored = self._scan_ranked(op.namespace_prefix, filters, query, wanted)
        elif scope is not None:
            memories = self.store.get_all(
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                run_id=scope.run_id,
                limit=wanted,
                filters=_alive_filter(filters),
            )
            scored = [(m, None) for m in memories]
        else:
            found = list(self._matching(op.namespace_prefix, op.filter))
            found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
            scored = [(m, None) for m in found[:wanted]]
        page = scored[op.offset : op.offset + op.limit]
        if op.refresh_ttl:
            page = [(self._refresh(m), s) for m, s in page]
        return [_search_item(m, s) for m, s in page]

    def _scan_ranked(
        self, prefix: tuple[str, ...], filters: Mapping[str, Any], query: Any, wanted: int
    ) -> list[tuple[Memory, float | None]]:
        if isinstance(query, str):
            if self.store.embedder is None:
                raise ValueError(
                    "search with a query needs index={'embed': …} or a hybridmem embedder"
                )
            query = self.store.embedder.embed([query])[0]
        vector = list(query)
        found = [(m, _cosine(vector, m.embedding)) for m in self._matching(prefix, filters)]
        found.sort(key=lambda pair: -pair[1])
        return [(m, s) for m, s in found[:wanted]]

    def _matching(
        self, prefix: tuple[str, ...], filter: Mapping[str, Any] | None, expired_too: bool = False
    ) -> Iterator[Memory]:
        """Every item whose namespace starts with ``prefix`` and passes ``filter``.

        In the store when the prefix decides a scope; else a scan of the store."""
        filters = {**(filter or {}), **prefix_filters(prefix)}
        if not expired_too:
            filters = _alive_filter(filters)
        scope = self.layout.scope(prefix)
        if scope is not None:
            yield from self.store.get_all(
                user_id=scope.user_id,
                agent_id=scope.agent_id,
                run_id=scope.run_id,
                filters=filters or None,
            )
            return
        parsed = parse_filters(filters or None)
        for ids in self.store.vector.iter_ids(_SCAN_BATCH):
            for record in self.store.vector.get(ids):
                if NAMESPACE_KEY not in record.metadata:
                    continue  # not an item of a LangGraph store
                if parsed is None or parsed.matches(
                    record.metadata, record.created_at, record.updated_at
                ):
                    memory = self.store.get(record.id)
                    if memory is not None:
                        yield memory

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        conditions = op.match_conditions or ()
        prefixes = [c.path for c in conditions if c.match_type == "prefix"]
        # A wildcard stops the prefix the store can filter on.
        prefix: tuple[str, ...] = ()
        if prefixes:
            prefix = tuple(_until_wildcard(prefixes[0]))
        namespaces = {tuple(m.metadata[NAMESPACE_KEY]) for m in self._matching(prefix, None)}
        kept = [ns for ns in namespaces if all(_matches(c, ns) for c in conditions)]
        if op.max_depth is not None:
            kept = [ns[: op.max_depth] for ns in kept]
        return sorted(set(kept))[op.offset : op.offset + op.limit]


def _until_wildcard(path: tuple[str, ...]) -> Iterator[str]:
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


def _check_filter(filter: Mapping[str, Any]) -> None:
    for key in filter:
        if isinstance(key, str) and key.startswith(RESERVED_PREFIX):
            raise ValueError(f"filter keys starting with {RESERVED_PREFIX!r} are reserved: {key}")


def _alive_filter(filters: Mapping[str, Any]) -> dict[str, Any]:
    return {**filters, EXPIRES_KEY: {"$gt": time.time()}}


def _alive(memory: Memory) -> bool:
    return float(memory.metadata.get(EXPIRES_KEY, NEVER)) > time.time()


def _expiry(minutes: float | None) -> float:
    return NEVER if minutes is None else time.time() + 60.0 * float(minutes)


def _core_ttl(minutes: float | None) -> timedelta | None:
    return None if minutes is None else timedelta(minutes=float(minutes))


def _value(memory: Memory) -> dict[str, Any]:
    return {k: v for k, v in memory.metadata.items() if not k.startswith(RESERVED_PREFIX)}


def _item(memory: Memory) -> Item:
    return Item(
        value=_value(memory),
        key=str(memory.metadata["_lg_key"]),
        namespace=tuple(memory.metadata[NAMESPACE_KEY]),
        created_at=memory.created_at,
        updated_at=memory.updated_at,
    )


def _search_item(memory: Memory, score: float | None) -> SearchItem:
    return SearchItem(
        namespace=tuple(memory.metadata[NAMESPACE_KEY]),
        key=str(memory.metadata["_lg_key"]),
        value=_value(memory),
        created_at=memory.created_at,
        updated_at=memory.updated_at,
        score=score,
    )
