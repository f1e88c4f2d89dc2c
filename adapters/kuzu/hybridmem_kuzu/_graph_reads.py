"""Graph reads on Kuzu: entities by name, the memories that mention them, neighbourhoods.

Each read starts from a primary key: the user's scope node (``u\\x1f<user>``)
for a name lookup, entity and memory ids for everything after it, and expands
a bounded number of hops from there. Kuzu has no secondary index on names, so
a name is found among the entities the user's memories mention: the cost
follows the user's scope, never the store, and no other namespace is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybridmem.models import Scope
from hybridmem.records import (
    EntityRecord,
    MemoryNode,
    RelationRecord,
    RelationWithNames,
    normalise_name,
)
from hybridmem_kuzu._database import KuzuDatabase
from hybridmem_kuzu._scope import scope_key, scope_params
from hybridmem_kuzu._time import from_text

_ENTITY = "e.id, e.name, e.type, e.user_id"
_RELATION = (
    "r.id, r.type, a.id, b.id, r.memory_id, r.user_id, r.agent_id, r.run_id, r.created_at,"
    " a.name, b.name"
)


def _entity(row: Sequence[Any]) -> EntityRecord:
    return EntityRecord(id=row[0], name=row[1], type=row[2], user_id=row[3])


def _relation(row: Sequence[Any]) -> RelationWithNames:
    record = RelationRecord(
        id=row[0],
        type=row[1],
        source_id=row[2],
        target_id=row[3],
        memory_id=row[4],
        user_id=row[5],
        agent_id=row[6],
        run_id=row[7],
        created_at=from_text(row[8]),
    )
    return RelationWithNames(record, row[9], row[10])


class KuzuGraphReads:
    _db: KuzuDatabase

    def find_entities(self, user_id: str, names: Sequence[str]) -> list[EntityRecord]:
        wanted = {normalise_name(name) for name in names}
        if not wanted:
            return []
        rows = self._db.rows(
            "MATCH (s:Scope {key: $key})<-[:IN_SCOPE]-(m:Memory)-[:MENTIONS]->(e:Entity)"
            f" WHERE m.id IS NOT NULL AND e.user_id = $u RETURN DISTINCT {_ENTITY}",
            {"key": scope_key("user_id", user_id), "u": user_id},
        )
        return [_entity(row) for row in rows if normalise_name(row[1]) in wanted]

    def mentioning_memory_ids(
        self, entity_ids: Sequence[str], scope: Scope, limit: int, offset: int = 0
    ) -> list[tuple[str, int]]:
        # Each entity's MENTIONS adjacency is read whole (Kuzu has no index to
        # order it by): cost follows the entities' mentions; the page is cut here.
        rows = self._db.each(
            "MATCH (e:Entity {id: x.id})<-[:MENTIONS]-(m:Memory)"
            f"{_where(scope, 'm')} RETURN m.id, m.created_at",
            [{"id": i} for i in dict.fromkeys(entity_ids)],
            "Entity",
            scope_params(scope),
        )
        counts: dict[str, int] = {}
        stamps: dict[str, str] = {}
        for memory_id, created_at in rows:
            counts[memory_id] = counts.get(memory_id, 0) + 1
            stamps[memory_id] = created_at
        ordered = sorted(counts, key=lambda m: (stamps[m], m), reverse=True)
        return [(m, counts[m]) for m in ordered[offset : offset + limit]]

    def memory_nodes(self, memory_ids: Sequence[str]) -> list[MemoryNode]:
        """The memory nodes of those ids that have one (a compaction copies them)."""
        rows = self._db.each(
            "MATCH (m:Memory {id: x.id}) RETURN m.id, m.user_id, m.agent_id, m.run_id,"
            " m.created_at, m.updated_at",
            [{"id": i} for i in dict.fromkeys(memory_ids)],
            "Memory",
        )
        return [
            MemoryNode(
                id=r[0],
                user_id=r[1],
                agent_id=r[2],
                run_id=r[3],
                created_at=from_text(r[4]),
                updated_at=from_text(r[5]),
            )
            for r in rows
        ]

    def memory_entities(self, memory_ids: Sequence[str]) -> dict[str, list[EntityRecord]]:
        rows = self._db.each(
            f"MATCH (m:Memory {{id: x.id}})-[:MENTIONS]->(e:Entity) RETURN m.id, {_ENTITY}",
            [{"id": i} for i in dict.fromkeys(memory_ids)],
            "Memory",
        )
        out: dict[str, list[EntityRecord]] = {i: [] for i in memory_ids}
        for row in rows:
            if row[1] is not None:
                out[row[0]].append(_entity(row[1:]))
        return out

    def memory_relations(self, memory_ids: Sequence[str]) -> dict[str, list[RelationWithNames]]:
        ids = list(dict.fromkeys(memory_ids))
        out: dict[str, list[RelationWithNames]] = {i: [] for i in ids}
        if not ids:
            return out
        # A relation's source is always mentioned by its memory, so the batch's
        # mentioned entities reach every relation; Kuzu has no index on
        # r.memory_id, and this is the join delete_memories measured fastest.
        sources = {
            row[0]
            for row in self._db.each(
                "MATCH (m:Memory {id: x.id})-[:MENTIONS]->(e:Entity) RETURN e.id",
                [{"id": i} for i in ids],
                "Memory",
            )
            if row[0] is not None
        }
        rows = self._db.each(
            "MATCH (a:Entity {id: x.id})-[r:RELATES]->(b:Entity)"
            " WHERE b.id IS NOT NULL AND list_contains($memory_ids, r.memory_id)"
            f" RETURN {_RELATION}",
            [{"id": e} for e in sorted(sources)],
            "Entity",
            {"memory_ids": ids},
        )
        for row in rows:
            out[row[4]].append(_relation(row))
        return out

    def entity_relations(
        self,
        entity_ids: Sequence[str],
        scope: Scope,
        limit: int,
        exclude_memory_ids: Sequence[str] = (),
    ) -> tuple[list[EntityRecord], list[RelationWithNames]]:
        if not entity_ids:
            return [], []
        if scope.user_id is None:
            raise ValueError("entity_relations needs the scope's user_id (the namespace)")
        # Both ends in the namespace; the edge asserted by a memory of the scope
        # (its user_id is the namespace's, so its other given parts decide).
        asserted = "".join(f" AND r.{name} = ${name}" for name, _ in scope.terms())
        params: dict[str, Any] = {**scope_params(scope), "limit": limit}
        if exclude_memory_ids:
            asserted += " AND NOT list_contains($exclude, r.memory_id)"
            params["exclude"] = sorted(set(exclude_memory_ids))
        # Kuzu matches an undirected pattern once per direction: bind the
        # direction explicitly so each edge is read once per side.
        rows: list[list[Any]] = []
        for pattern in (
            "(a:Entity {id: x.id})-[r:RELATES]->(b:Entity)",
            "(a:Entity)-[r:RELATES]->(b:Entity {id: x.id})",
        ):
            rows.extend(
                self._db.each(
                    f"MATCH {pattern} WHERE a.user_id = $user_id AND b.user_id = $user_id"
                    f" AND a.id IS NOT NULL AND b.id IS NOT NULL{asserted}"
                    f" RETURN {_RELATION}, a.type, a.user_id, b.type, b.user_id"
                    # Ordered before the limit: a batch run as one UNWIND limits
                    # across all its rows, and must keep the oldest.
                    " ORDER BY r.created_at, r.id LIMIT $limit",
                    [{"id": i} for i in dict.fromkeys(entity_ids)],
                    "Entity",
                    params,
                )
            )
        relations: dict[str, RelationWithNames] = {}
        entities: dict[str, EntityRecord] = {}
        for row in rows:
            relation = _relation(row)
            relations.setdefault(relation[0].id, relation)
        ordered = sorted(relations.values(), key=lambda r: (r[0].created_at, r[0].id))[:limit]
        kept = {r[0].id for r in ordered}
        for row in rows:
            if row[0] in kept:
                entities.setdefault(row[2], EntityRecord(row[2], row[9], row[11], row[12]))
                entities.setdefault(row[3], EntityRecord(row[3], row[10], row[13], row[14]))
        return list(entities.values()), ordered


def _where(scope: Scope, var: str) -> str:
    """`` WHERE`` each part ``scope`` gives equals ``var``'s (nothing for an empty scope)."""
    terms = [f"{var}.{name} = ${name}" for name, _ in scope.terms()]
    return " WHERE " + " AND ".join(terms) if terms else ""
