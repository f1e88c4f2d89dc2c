"""Plain queries straight at the stores, bypassing the adapters' own methods.

Tests use these as an independent witness: a check that went through
``reconcile()`` or ``iter_ids()`` would trust the very code under test.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybridmem import HybridStore

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


def vector_ids(store: HybridStore) -> set[str]:
    """Every id in the vector store: Kuzu's Vec table, or Weaviate's collection."""
    vector: Any = store.vector
    if hasattr(vector, "_collection_name"):
        client = vector._client
        collection = client.collections.use(vector._collection_name)
        if not client.collections.exists(vector._collection_name):
            return set()
        # Small pages: a server may cap QUERY_MAXIMUM_RESULTS (one test runs it at 50).
        if not collection.config.get().multi_tenancy_config.enabled:
            return {str(obj.uuid) for obj in collection.iterator(cache_size=20)}
        # One tenant per user: every tenant's objects.
        return {
            str(obj.uuid)
            for tenant in collection.tenants.get()
            for obj in collection.with_tenant(tenant).iterator(cache_size=20)
        }
    tables = {row[1] for row in vector._db.rows("CALL show_tables() RETURN *")}
    if "Vec" not in tables:
        return set()
    return {row[0] for row in vector._db.rows("MATCH (v:Vec) RETURN v.id")}


def memory_node_ids(store: HybridStore) -> set[str]:
    return {row[0] for row in graph_rows(store, "MATCH (m:Memory) RETURN m.id")}


def orphan_entity_ids(store: HybridStore) -> set[str]:
    """Entities with no MENTIONS and no RELATES edge."""
    rows = graph_rows(
        store,
        "MATCH (e:Entity) WHERE NOT EXISTS { MATCH (e)<-[:MENTIONS]-(:Memory) }"
        " AND NOT EXISTS { MATCH (e)-[:RELATES]-(:Entity) } RETURN e.id",
    )
    return {row[0] for row in rows}


def relation_memory_ids(store: HybridStore) -> dict[str, str]:
    """Relation id -> the memory id it carries."""
    rows = graph_rows(store, "MATCH (:Entity)-[r:RELATES]->(:Entity) RETURN r.id, r.memory_id")
    return {row[0]: row[1] for row in rows}


def detach_memory_node(store: HybridStore, memory_id: str) -> None:
    """Outside interference: remove a memory node and its edges, nothing else."""
    graph_rows(store, "MATCH (m:Memory {id: $id}) DETACH DELETE m", {"id": memory_id})


def _journal_rows(path: Path, query: str, params: tuple[Any, ...]) -> list[Any]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(query, params).fetchall()


def history_texts(journal_path: Path, memory_ids: Iterable[str]) -> int:
    """History rows of these memories that still hold text, read from the journal file."""
    return sum(
        _journal_rows(
            journal_path,
            "SELECT count(*) FROM history WHERE memory_id = ?"
            " AND (old_text IS NOT NULL OR new_text IS NOT NULL)",
            (memory_id,),
        )[0][0]
        for memory_id in memory_ids
    )


def operation_ids(journal_path: Path, kind: str, memory_id: str | None = None) -> list[str]:
    """The journaled operations of this kind (on this memory, if given), oldest first."""
    rows = _journal_rows(
        journal_path,
        "SELECT id, memory_id FROM operations WHERE kind = ? ORDER BY seq",
        (kind,),
    )
    return [row[0] for row in rows if memory_id is None or row[1] == memory_id]


@dataclass(frozen=True)
class OperationEvent:
    """A delete_all or reset event (no memory id) as the journal file holds it."""

    operation_id: str
    counts: dict[str, int] | None


def operation_events(journal_path: Path, kind: str) -> list[OperationEvent]:
    rows = _journal_rows(
        journal_path,
        "SELECT operation_id, counts FROM history WHERE memory_id IS NULL AND kind = ? ORDER BY id",
        (kind,),
    )
    return [OperationEvent(row[0], json.loads(row[1]) if row[1] else None) for row in rows]
