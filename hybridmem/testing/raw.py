"""Plain reads straight at a pair's stores and journal file, by store.

The pair suites use these as an independent witness: a check that went through
``reconcile()`` or ``iter_ids()`` would trust the very code under test. The store
reads go through the backends' registered witnesses (``hybridmem.testing.witness``),
the journal reads through ``hybridmem.testing.journal_file``.
"""

from __future__ import annotations

from hybridmem.store import HybridStore
from hybridmem.testing.journal_file import (
    OperationEvent,
    expiry_rows,
    history_texts,
    operation_events,
    operation_ids,
)
from hybridmem.testing.witness import witness

__all__ = [
    "OperationEvent",
    "detach_memory_node",
    "drop_mentions_of",
    "expiry_rows",
    "history_texts",
    "memory_node_ids",
    "operation_events",
    "operation_ids",
    "orphan_entity_ids",
    "relation_memory_ids",
    "vector_ids",
]


def vector_ids(store: HybridStore) -> set[str]:
    """Every id in the vector store."""
    return witness(store).vector.vector_ids()


def memory_node_ids(store: HybridStore) -> set[str]:
    return witness(store).graph.memory_node_ids()


def orphan_entity_ids(store: HybridStore) -> set[str]:
    """Entities with no mention by a memory and no relation."""
    return witness(store).graph.orphan_entity_ids()


def relation_memory_ids(store: HybridStore) -> dict[str, str]:
    """Relation id -> the memory id it carries."""
    return witness(store).graph.relation_memory_ids()


def detach_memory_node(store: HybridStore, memory_id: str) -> None:
    """Outside interference: remove a memory node and its edges, nothing else."""
    witness(store).graph.detach_memory_node(memory_id)


def drop_mentions_of(store: HybridStore, entity_name: str) -> None:
    """Outside interference: remove the mentions of entities of this name."""
    witness(store).graph.drop_mentions_of(entity_name)
