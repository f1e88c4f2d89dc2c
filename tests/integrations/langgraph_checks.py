"""Plain hybridmem reads of a LangGraph store's scopes: they also show the
namespace index's markers (one memory per namespace, run_id INDEX_RUN)."""

from __future__ import annotations

from collections.abc import Sequence

from hybridmem.models import Memory
from langgraph_hybridmem.index import INDEX_RUN, MARKER_KEY


def items_only(memories: Sequence[Memory]) -> list[Memory]:
    """The LangGraph items (and other memories) of a plain read, without the markers."""
    kept = [m for m in memories if MARKER_KEY not in m.metadata]
    assert all(m.run_id != INDEX_RUN for m in kept)
    return kept


def markers_of(memories: Sequence[Memory]) -> list[tuple[str, ...]]:
    """The namespaces whose markers a plain read shows, sorted."""
    return sorted(tuple(m.metadata[MARKER_KEY]) for m in memories if MARKER_KEY in m.metadata)
