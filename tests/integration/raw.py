"""Plain queries straight at the stores, bypassing the adapters' own methods.

Tests use these as an independent witness: a check that went through
``reconcile()`` or ``iter_ids()`` would trust the very code under test. The
reads are shipped in ``hybridmem.testing.raw`` (the backends' registered witnesses
and the journal file); ``graph_rows`` runs any Cypher on Kuzu or Neo4j.
"""

from __future__ import annotations

import re
from typing import Any

from hybridmem import HybridStore
from hybridmem.testing.raw import (
    OperationEvent,
    detach_memory_node,
    history_texts,
    memory_node_ids,
    operation_events,
    operation_ids,
    orphan_entity_ids,
    relation_memory_ids,
    vector_ids,
)

__all__ = [
    "OperationEvent",
    "detach_memory_node",
    "graph_rows",
    "history_texts",
    "memory_node_ids",
    "operation_events",
    "operation_ids",
    "orphan_entity_ids",
    "relation_memory_ids",
    "vector_ids",
]

_LABEL = re.compile(r"(?<=:)(Memory|Entity|MENTIONS|RELATES)\b")


def graph_rows(store: HybridStore, query: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Rows of a Cypher query, on Kuzu (its connection) or Neo4j (its driver).

    Labels and relationship types are written plain (``:Memory``); on Neo4j they
    become the store's own, prefixed names.
    """
    graph: Any = store.graph
    if hasattr(graph, "_driver"):
        names = graph._n
        own = {
            "Memory": names.memory,
            "Entity": names.entity,
            "MENTIONS": names.mentions,
            "RELATES": names.relates,
        }
        records = graph._driver.execute_query(
            _LABEL.sub(lambda m: own[m.group(1)], query), params or {}, database_=graph._database
        ).records
        return [list(record.values()) for record in records]
    return list(graph._db.rows(query, params or {}))
