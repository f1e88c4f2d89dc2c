"""The namespace index: one marker memory per namespace, kept in hybridmem itself.

``list_namespaces`` and searches with a prefix shorter than a scope must know
which namespaces exist without reading every item. Each namespace that holds
items has one *marker*: a memory in its own user's (and agent's) scope, with
the run part set to :data:`INDEX_RUN`, e.g. ``("memories", "alice")`` → the
marker's scope is ``user_id="alice", run_id="langgraph:namespaces"``. So:

* every marker is found by one ranged read, the scope ``run_id=INDEX_RUN``
  (a scope-node lookup on Kuzu, an indexed property on Weaviate): its cost is
  the number of namespaces, not of items;
* a marker sits inside its user's scope, so hybridmem's ``delete_all(user_id=…)``
  (or ``agent_id``) erases it with the items: no erased user's namespace name
  is left anywhere. Every process using the store shares it.

A marker is trusted (listed without reading the namespace) unless it carries
``_lg_check``: then a read confirms that the namespace still holds a live item.
A marker is written checked first, and cleared only after an item is stored,
by an ``update`` that fails if the marker was erased meanwhile; namespaces whose
items may vanish without LangGraph seeing it stay checked: items put with a TTL
(they expire) and namespaces with a run part (``delete_all(run_id=…)`` does not
reach the marker, which sits in the index run).

Races: a put stores its item, then makes sure the marker exists (re-adding it,
checked, if not); retiring a marker deletes it, then re-reads the namespace and
re-adds the marker, checked, if an item is there. Each side looks after its own
write, so a namespace that holds an item always has a marker.

Markers never show in LangGraph reads (items carry ``_lg_namespace``, markers do
not) nor in the LangChain VectorStore (it reads only memories with its own
``_langchain_scope``). A plain ``get_all(user_id=…, run_id=INDEX_RUN)`` of
hybridmem shows them: text ``LangGraph namespace ["memories", "alice"]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from hybridmem import HybridStore
from hybridmem.api import MemoryStore
from hybridmem.errors import NotFoundError
from hybridmem.ids import scoped_id
from hybridmem.models import Memory, Scope
from hybridmem.validation import MAX_LIMIT
from langgraph_hybridmem.namespaces import (
    DEPTH_KEY,
    NamespaceLayout,
    ScopeArgs,
    erase,
    prefix_filters,
    scope_args,
)
from langgraph_hybridmem.pages import items_under, newest

#: The run part of every marker's scope: one ranged read lists them all.
INDEX_RUN = "langgraph:namespaces"
MARKER_KEY = "_lg_marker"
CHECK_KEY = "_lg_check"
#: Markers read per page by :meth:`NamespaceIndex.newest_first`, at first.
_FIRST_PAGE = 8


@dataclass(frozen=True)
class _Marked:
    """What listing reads of a marker record (in process, without a ``Memory``)."""

    metadata: dict[str, Any]
    created_at: datetime


@runtime_checkable
class _MetadataLister(Protocol):
    """A vector store that lists a scope without its vectors (the Kuzu and SQLite ones)."""

    def list_scope_metadata(
        self, scope: Scope, limit: int | None, *, offset: int = 0
    ) -> Sequence[tuple[str, dict[str, Any], datetime]]: ...


@dataclass(frozen=True)
class Marker:
    namespace: tuple[str, ...]
    checked: bool
    created_at: datetime


def exact_filters(namespace: tuple[str, ...]) -> dict[str, Any]:
    """hybridmem filters matching the items of exactly ``namespace``."""
    return {**prefix_filters(namespace), DEPTH_KEY: len(namespace)}


class NamespaceIndex:
    def __init__(
        self,
        store: MemoryStore,
        layout: NamespaceLayout,
        vector: Callable[[], list[float] | None],
    ) -> None:
        self.store = store
        self.layout = layout
        self._vector = vector

    # -- where a marker lives ---------------------------------------------------------

    def marker_scope(self, namespace: tuple[str, ...]) -> ScopeArgs:
        scope = self.layout.item_scope(namespace)
        return {"user_id": scope.user_id, "agent_id": scope.agent_id, "run_id": INDEX_RUN}

    def marker_id(self, namespace: tuple[str, ...]) -> str:
        scope = self.marker_scope(namespace)
        name = json.dumps(["langgraph-namespace", list(namespace)], ensure_ascii=False)
        return scoped_id(Scope(**scope), name)

    def _always_checked(self, namespace: tuple[str, ...]) -> bool:
        """A run part: ``delete_all(run_id=…)`` erases the items, not the marker."""
        return self.layout.item_scope(namespace).run_id is not None

    # -- writes -----------------------------------------------------------------------

    def _write(self, namespace: tuple[str, ...], checked: bool) -> None:
        metadata = {**self._metadata(namespace), CHECK_KEY: checked}
        self.store.add(
            "LangGraph namespace " + json.dumps(list(namespace), ensure_ascii=False),
            embedding=self._vector(),
            metadata=metadata,
            memory_id=self.marker_id(namespace),
            **self.marker_scope(namespace),
        )

    def _get(self, namespace: tuple[str, ...]) -> Memory | None:
        return self.store.get(self.marker_id(namespace), **self.marker_scope(namespace))

    def before_put(self, namespace: tuple[str, ...], expiring: bool) -> Memory | None:
        """Before an item is written: the marker exists, checked when it is new or
        the item expires. Returns the marker as it was (None: it was written now)."""
        marker = self._get(namespace)
        if marker is None or (expiring and not marker.metadata.get(CHECK_KEY)):
            self._write(namespace, checked=True)
            return None
        return marker

    def after_put(self, namespace: tuple[str, ...], before: Memory | None, expiring: bool) -> None:
        """After the item is stored: a new marker is cleared (unless the namespace
        stays checked); a marker erased meanwhile is written again, checked."""
        if before is None and not expiring and not self._always_checked(namespace):
            try:
                self.store.update(
                    self.marker_id(namespace),
                    metadata={**self._metadata(namespace), CHECK_KEY: False},
                    **self.marker_scope(namespace),
                )
                return
            except NotFoundError:
                pass
        elif self._get(namespace) is not None:
            return
        self._write(namespace, checked=True)

    def _metadata(self, namespace: tuple[str, ...]) -> dict[str, Any]:
        # Small: listing decodes every marker's metadata.
        return {MARKER_KEY: list(namespace)}

    def retire_if_empty(self, namespace: tuple[str, ...]) -> bool:
        """Erase the marker of a namespace without live items; True if it was erased.
        Deleted first, then the namespace read again: a put racing with this one
        either is seen by that read (the marker comes back) or sees the marker gone
        (and writes it again)."""
        if self.live(namespace):
            return False
        erase(self.store, self.marker_id(namespace), self.marker_scope(namespace))
        if self.live(namespace):
            self._write(namespace, checked=True)
            return False
        return True

    def ensure(self, namespace: tuple[str, ...]) -> None:
        """A checked marker for ``namespace`` (repairs, and items written in bulk)."""
        if self._get(namespace) is None:
            self._write(namespace, checked=True)

    # -- reads ------------------------------------------------------------------------

    def live(self, namespace: tuple[str, ...]) -> bool:
        """Does ``namespace`` hold an item no read hides? One read of its scope
        (two when the scope's newest memories are others')."""
        keep, filters, _ = items_under(namespace, None, depth=len(namespace))
        scope = scope_args(self.layout.item_scope(namespace))
        return bool(newest(self.store, scope, keep, filters, 1, exact=True))

    def markers(self, prefix: tuple[str, ...]) -> list[Marker]:
        """The markers of the namespaces under ``prefix``, first written first:
        one read of the index run, whatever the number of items."""
        return list(reversed(self._under(prefix, self._read(prefix, None))))

    def newest_first(self, prefix: tuple[str, ...]) -> Iterator[Marker]:
        """The markers under ``prefix``, last written first, read a page at a time:
        a reader that stops early reads only the markers it used (and the store
        orders the index run, without decoding it)."""
        offset, size = 0, _FIRST_PAGE
        while True:
            page = self._read(prefix, size, offset)
            yield from self._under(prefix, page)
            if len(page) < size:
                return
            offset, size = offset + size, min(size * 4, MAX_LIMIT)

    def _read(
        self, prefix: tuple[str, ...], limit: int | None, offset: int = 0
    ) -> Sequence[_Marked | Memory]:
        """Markers, newest first: one read of the index run, without metadata filters
        (they cost more than reading the markers; the index run holds markers only).

        Over a client, ``get_all``. In process, the vector store's own read (markers
        never expire: no expiry clause), without the vectors when the store can
        leave them out: returning them is most of the cost of this read, which
        ``list_namespaces`` pays on every call."""
        user = self._prefix_user(prefix)
        if isinstance(self.store, HybridStore):
            scope = Scope(user_id=user, run_id=INDEX_RUN)
            vector = self.store.vector
            if isinstance(vector, _MetadataLister):
                # No vectors: at 1,000 markers on Kuzu, ~1 ms against ~15 ms.
                rows = vector.list_scope_metadata(scope, limit, offset=offset)
                return [_Marked(metadata, created_at) for _, metadata, created_at in rows]
            records = vector.list_scope(scope, limit, offset=offset)
            return [_Marked(r.metadata, r.created_at) for r in records]
        return self.store.get_all(user_id=user, run_id=INDEX_RUN, limit=limit, offset=offset)

    @staticmethod
    def _under(prefix: tuple[str, ...], records: Sequence[_Marked | Memory]) -> list[Marker]:
        markers = []
        for memory in records:
            namespace = memory.metadata.get(MARKER_KEY)
            if isinstance(namespace, list) and tuple(namespace[: len(prefix)]) == prefix:
                checked = bool(memory.metadata.get(CHECK_KEY))
                markers.append(Marker(tuple(namespace), checked, memory.created_at))
        return markers

    def _prefix_user(self, prefix: tuple[str, ...]) -> str | None:
        scope = self.layout.scope(prefix)
        return scope.user_id if scope is not None else None
