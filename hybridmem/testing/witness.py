"""Witnesses: plain reads straight at a backend, bypassing the adapter's own methods.

The pair suites check what is left in the stores through a witness, not through
``reconcile()`` or ``iter_ids()``, which are code under test like the rest. Each
adapter registers the witness of its backend (``TestBackend.graph_witness`` /
``vector_witness`` in ``hybridmem.testing.pair_registry``); ``witness(store)`` finds
the pair's two by the classes of the store's graph and vector stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from hybridmem.testing.pair_registry import load_registry

if TYPE_CHECKING:
    from hybridmem.store import HybridStore


class GraphWitness(Protocol):
    def memory_node_ids(self) -> set[str]:
        """Every memory node's id."""

    def relation_memory_ids(self) -> dict[str, str]:
        """Relation id -> the memory id it carries, for every relation."""

    def orphan_entity_ids(self) -> set[str]:
        """Entities with no mention by a memory and no relation."""

    def detach_memory_node(self, memory_id: str) -> None:
        """Outside interference: remove a memory node and its edges, nothing else."""

    def drop_mentions_of(self, entity_name: str) -> None:
        """Outside interference: remove the mentions of entities of this name (the
        entities stay)."""


class VectorWitness(Protocol):
    def vector_ids(self) -> set[str]:
        """Every record id in the vector store."""


@dataclass(frozen=True)
class Witness:
    graph: GraphWitness
    vector: VectorWitness


def witness(store: HybridStore) -> Witness:
    """The registered witnesses of the store's graph and vector backends."""
    registry = load_registry()
    graph = registry.backend_of(store.graph, "graph").graph_witness
    vector = registry.backend_of(store.vector, "vector").vector_witness
    assert graph is not None and vector is not None
    return Witness(graph(store.graph), vector(store.vector))
