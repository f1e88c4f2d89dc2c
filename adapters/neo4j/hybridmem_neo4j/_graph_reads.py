"""Graph reads on Neo4j: index seeks on ids and on the entity namespace, then bounded hops.

A name is looked up among the entities of the user's namespace (an index seek
on ``Entity.user_id``), compared as ``normalise_name`` does; everything after
starts from entity or memory ids (unique constraints) and expands one hop per
query, with both ends in the namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hybridmem.records import EntityRecord, RelationRecord, normalise_name

_RELATION = (
    "r.id, r.type, a.id, b.id, r.memory_id, r.user_id, r.agent_id, r.run_id, r.created_at,"
    " a.name, b.name, a.type, a.user_id, b.type, b.user_id"
)


class Neo4jGraphReads:
    def _read(self, query: str, params: dict[str, Any]) -> list[list[Any]]:
        raise NotImplementedError  # Neo4jGraphStore's

    def find_entities(self, user_id: str, names: Sequence[str]) -> list[EntityRecord]:
        wanted = {normalise_name(name) for name in names}
        if not wanted:
            return []
        rows = self._read(
            "MATCH (e:Entity) WHERE e.user_id = $u RETURN e.id, e.name, e.type, e.user_id",
            {"u": user_id},
        )
        return [EntityRecord(*row) for row in rows if normalise_name(row[1]) in wanted]

    def mentioning_memory_ids(
        self, entity_ids: Sequence[str], user_id: str, limit: int
    ) -> list[tuple[str, str]]:
        rows = self._read(
            "UNWIND $ids AS id MATCH (e:Entity {id: id})<-[:MENTIONS]-(m:Memory)"
            " WHERE m.user_id = $u RETURN m.id, e.id"
            " ORDER BY m.created_at DESC, m.id DESC LIMIT $limit",
            {"ids": list(dict.fromkeys(entity_ids)), "u": user_id, "limit": limit},
        )
        return [(row[0], row[1]) for row in rows]

    def memory_entities(self, memory_ids: Sequence[str]) -> dict[str, list[EntityRecord]]:
        rows = self._read(
            "UNWIND $ids AS id MATCH (m:Memory {id: id})-[:MENTIONS]->(e:Entity)"
            " RETURN m.id, e.id, e.name, e.type, e.user_id",
            {"ids": list(dict.fromkeys(memory_ids))},
        )
        out: dict[str, list[EntityRecord]] = {i: [] for i in memory_ids}
        for row in rows:
            out[row[0]].append(EntityRecord(*row[1:]))
        return out

    def entity_relations(
        self, entity_ids: Sequence[str], user_id: str, limit: int
    ) -> tuple[list[EntityRecord], list[tuple[RelationRecord, str, str]]]:
        if not entity_ids:
            return [], []
        rows = self._read(
            "UNWIND $ids AS id MATCH (x:Entity {id: id})-[r:RELATES]-(y:Entity)"
            " WHERE x.user_id = $u AND y.user_id = $u"
            " WITH DISTINCT r MATCH (a:Entity)-[r]->(b:Entity)"
            f" RETURN {_RELATION} ORDER BY r.created_at, r.id LIMIT $limit",
            {"ids": list(dict.fromkeys(entity_ids)), "u": user_id, "limit": limit},
        )
        from hybridmem_neo4j.graph import _time

        relations: list[tuple[RelationRecord, str, str]] = []
        entities: dict[str, EntityRecord] = {}
        for r in rows:
            relations.append(
                (
                    RelationRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _time(r[8])),
                    r[9],
                    r[10],
                )
            )
            entities.setdefault(r[2], EntityRecord(r[2], r[9], r[11], r[12]))
            entities.setdefault(r[3], EntityRecord(r[3], r[10], r[13], r[14]))
        return list(entities.values()), relations
