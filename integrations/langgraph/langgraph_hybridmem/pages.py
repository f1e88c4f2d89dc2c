"""The newest memories of a scope that a predicate keeps, read cheaply.

A hybridmem read with metadata filters costs more than one without (on Kuzu the
filter is a Python function the query calls on each record of the scope). A
scope usually holds little besides the namespace asked for, so the first page
is read without metadata filters and kept by the predicate in Python; only when
that page does not fill the request and the scope holds more is the scope read
again with the filters in the store, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hybridmem.api import MemoryStore
from hybridmem.models import Memory
from hybridmem.validation import MAX_LIMIT
from langgraph_hybridmem import filters as lg_filters
from langgraph_hybridmem.items import UNINDEXED_KEY, alive, alive_filter, value_of
from langgraph_hybridmem.namespaces import (
    DEPTH_KEY,
    NAMESPACE_KEY,
    ScopeArgs,
    prefix_filters,
)

#: Extra memories the unfiltered first page reads beyond what is wanted.
_SLACK = 8


def newest(
    store: MemoryStore,
    scope: ScopeArgs,
    keep: Callable[[Memory], bool],
    filters: Mapping[str, Any],
    want: int | None,
    *,
    exact: bool,
) -> list[Memory]:
    """The first ``want`` memories of ``scope`` (newest first; all for None) that
    ``keep`` keeps. ``filters``: hybridmem filters every kept memory passes;
    ``exact`` when they keep nothing else either, so the store can apply ``want``."""
    if want is not None and want + _SLACK <= MAX_LIMIT:
        page = store.get_all(limit=want + _SLACK, **scope)
        kept = [m for m in page if keep(m)]
        if len(kept) >= want or len(page) < want + _SLACK:
            return kept[:want]
    pushed = want if exact and want is not None and want <= MAX_LIMIT else None
    found = store.get_all(limit=pushed, filters=dict(filters), **scope)
    kept = [m for m in found if keep(m)]
    return kept if want is None else kept[:want]


def items_under(
    prefix: tuple[str, ...],
    filter: Mapping[str, Any] | None,
    *,
    depth: int | None = None,
    indexed: bool | None = None,
) -> tuple[Callable[[Memory], bool], dict[str, Any], bool]:
    """The predicate, hybridmem filters and exactness (see :func:`newest`) for the
    live items under ``prefix`` (of exactly ``depth`` elements when given) that
    pass the LangGraph ``filter``; only indexed (or unindexed) ones when asked."""
    pushed, whole = lg_filters.pushdown(filter)
    filters: dict[str, Any] = {**pushed, **prefix_filters(prefix)}
    if depth is not None:
        filters[DEPTH_KEY] = depth
    if indexed is not None:
        filters[UNINDEXED_KEY] = {"$ne": True} if indexed else True
    wanted = list(prefix)

    def keep(memory: Memory) -> bool:
        namespace = memory.metadata.get(NAMESPACE_KEY)
        return (
            isinstance(namespace, list)
            and namespace[: len(wanted)] == wanted
            and (depth is None or len(namespace) == depth)
            and (indexed is None or (memory.metadata.get(UNINDEXED_KEY) is not True) == indexed)
            and alive(memory)
            and lg_filters.matches(value_of(memory), filter)
        )

    return keep, alive_filter(filters), whole
