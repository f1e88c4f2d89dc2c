"""The live records of each Kuzu store, as a compaction's bulk copy moves them
(``_rewrite.KuzuFileRewrite.copy_live``), and the scope parts they hold (what the
journal's scrub keeps).

Live means what the copy through the ports kept: every memory node; the
entities its memories mention; the relations a live memory asserted; the scope
nodes and edges of live memories. A neighbour
whose key reads NULL is a stale adjacency entry Kuzu 0.11.3 keeps after a crash
(see graph.py), never copied. Each export's columns are in its table's column
order: COPY FROM matches them by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from hybridmem_kuzu._rewrite import KuzuFileRewrite, LiveTable

GRAPH_TABLES = (
    LiveTable(
        "Memory",
        "MATCH (m:Memory) WHERE m.id IS NOT NULL"
        " RETURN m.id, m.user_id, m.agent_id, m.run_id, m.created_at, m.updated_at",
    ),
    LiveTable(
        "Entity",
        "MATCH (m:Memory)-[:MENTIONS]->(e:Entity) WHERE m.id IS NOT NULL AND e.id IS NOT NULL"
        " RETURN DISTINCT e.id, e.name, e.type, e.user_id",
    ),
    LiveTable(
        "Scope",
        "MATCH (m:Memory)-[:IN_SCOPE]->(s:Scope) WHERE m.id IS NOT NULL AND s.key IS NOT NULL"
        " RETURN DISTINCT s.key",
    ),
    LiveTable(
        "IN_SCOPE",
        "MATCH (m:Memory)-[:IN_SCOPE]->(s:Scope) WHERE m.id IS NOT NULL AND s.key IS NOT NULL"
        " RETURN DISTINCT m.id, s.key",
        rel=True,
    ),
    LiveTable(
        "MENTIONS",
        "MATCH (m:Memory)-[:MENTIONS]->(e:Entity) WHERE m.id IS NOT NULL AND e.id IS NOT NULL"
        " RETURN DISTINCT m.id, e.id",
        rel=True,
    ),
    LiveTable(
        "RELATES",
        # Joined to its memory by id (a hash join), not through the memory's
        # mentions: that cycle walks the adjacency of hub entities. A live
        # memory mentions its relations' ends, so both are in the Entity export.
        "MATCH (a:Entity)-[r:RELATES]->(b:Entity), (m:Memory)"
        " WHERE m.id = r.memory_id AND a.id IS NOT NULL AND b.id IS NOT NULL"
        # DISTINCT: duplicates would be one edge through the port too; and Kuzu
        # 0.11.3 wrote a join's rows unmaterialised as a Parquet file it could not
        # read back ("TProtocolException: Invalid data").
        " RETURN DISTINCT a.id, b.id, r.id, r.type, r.memory_id, r.user_id, r.agent_id,"
        " r.run_id, r.created_at",
        rel=True,
    ),
)
GRAPH_SCOPES = (
    "MATCH (m:Memory) WHERE m.id IS NOT NULL RETURN DISTINCT m.user_id, m.agent_id, m.run_id"
)

VECTOR_TABLES = (
    LiveTable(
        "Vec",
        "MATCH (v:Vec) WHERE v.id IS NOT NULL"
        " RETURN v.id, v.user_id, v.agent_id, v.run_id, v.text, v.hash, v.metadata,"
        " v.created_at, v.updated_at, v.embedding, v.expires_at",
    ),
    LiveTable(
        "VScope",
        "MATCH (v:Vec)-[:VIN_SCOPE]->(s:VScope) WHERE v.id IS NOT NULL AND s.key IS NOT NULL"
        " RETURN DISTINCT s.key",
    ),
    LiveTable(
        "VIN_SCOPE",
        "MATCH (v:Vec)-[:VIN_SCOPE]->(s:VScope) WHERE v.id IS NOT NULL AND s.key IS NOT NULL"
        " RETURN DISTINCT v.id, s.key",
        rel=True,
    ),
)
VECTOR_SCOPES = (
    "MATCH (v:Vec) WHERE v.id IS NOT NULL RETURN DISTINCT v.user_id, v.agent_id, v.run_id"
)


class LiveGraph(KuzuFileRewrite):
    """The graph store's live tables."""

    def live_tables(self) -> Sequence[LiveTable]:
        return GRAPH_TABLES

    def _live_scopes_query(self) -> str:
        return GRAPH_SCOPES


class LiveVectors(KuzuFileRewrite):
    """The vector store's live tables; its Vec table, sized by the dimension, is
    made on the first write, so a store without one has nothing to copy."""

    _dimension: int | None

    def _create_tables(self, dimension: int) -> None:
        raise NotImplementedError

    def live_tables(self) -> Sequence[LiveTable]:
        return VECTOR_TABLES

    def _live_scopes_query(self) -> str:
        return VECTOR_SCOPES

    def _has_tables(self) -> bool:
        return self._dimension is not None

    def _ready_twin(self, twin: Self) -> None:
        twin._create_tables(int(self._dimension or 0))
