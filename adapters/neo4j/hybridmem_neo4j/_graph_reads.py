"""Graph reads on Neo4j: index seeks on ids and on the entity namespace, then bounded hops.

A name is looked up among the entities of the user's namespace (an index seek
on ``Entity.user_id``), compared as ``normalise_name`` does; everything after
starts from entity or memory ids (unique constraints) and expands one hop per
query, with both ends in the namespace. Every label and relationship type is
the store's own (``Names``: prefixed per store), so no read matches another
application's or another store's nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hybridmem.models import Scope
from hybridmem.records import EntityRecord, RelationRecord, RelationWithNames, normalise_name
from hybridmem_neo4j._graph_session import Neo4jSession
from hybridmem_neo4j.names import Names

_ENTITY = "e.id, e.name, e.type, e.user_id"
_RELATION = (
    "r.id, r.type, a.id, b.id, r.memory_id, r.user_id, r.agent_id, r.run_id, r.created_at,"
    " a.name, b.name, a.type, a.user_id, b.type, b.user_id"
)


class Neo4jGraphReads(Neo4jSession):
    _n: Names

    def _ours(self, kind: str, fields: str, rows: list[list[Any]]) -> list[list[Any]]:
        raise NotImplementedError  # Neo4jGraphStore's

    def _stamp(self, value: Any) -> datetime:
        raise NotImplementedError  # Neo4jGraphStore's

    def find_entities(self, user_id: str, names: Sequence[str]) -> list[EntityRecord]:
        wanted = {normalise_name(name) for name in names}
        if not wanted:
            return []
        rows = self._read(
            f"MATCH (e:{self._n.entity}) WHERE e.user_id = $u RETURN {_ENTITY}, elementId(e)",
            {"u": user_id},
        )
        return [
            EntityRecord(*row)
            for row in self._ours("entity", _ENTITY, rows)
            if normalise_name(row[1]) in wanted
        ]

    def mentioning_memory_ids(
        self, entity_ids: Sequence[str], scope: Scope, limit: int, offset: int = 0
    ) -> list[tuple[str, int]]:
        n = self._n
        rows = self._read(
            f"UNWIND $ids AS id MATCH (e:{n.entity} {{id: id}})<-[:{n.mentions}]-(m:{n.memory})"
            f"{_where(scope, 'm')} WITH m, count(DISTINCT e) AS n"
            " ORDER BY m.created_at DESC, m.id DESC SKIP $offset LIMIT $limit RETURN m.id, n",
            {
                **scope.parts(),
                "ids": list(dict.fromkeys(entity_ids)),
                "offset": offset,
                "limit": limit,
            },
        )
        return [(row[0], int(row[1])) for row in rows]

    def memory_entities(self, memory_ids: Sequence[str]) -> dict[str, list[EntityRecord]]:
        n = self._n
        rows = self._read(
            f"UNWIND $ids AS id MATCH (m:{n.memory} {{id: id}})-[:{n.mentions}]->(e:{n.entity})"
            f" RETURN m.id, {_ENTITY}",
            {"ids": list(dict.fromkeys(memory_ids))},
        )
        out: dict[str, list[EntityRecord]] = {i: [] for i in memory_ids}
        for row in rows:
            out[row[0]].append(EntityRecord(*row[1:]))
        return out

    def memory_relations(self, memory_ids: Sequence[str]) -> dict[str, list[RelationWithNames]]:
        ids = list(dict.fromkeys(memory_ids))
        out: dict[str, list[RelationWithNames]] = {i: [] for i in ids}
        if not ids:
            return out
        n = self._n
        fields = (
            "r.id, r.type, a.id, b.id, r.memory_id, r.user_id, r.agent_id, r.run_id,"
            " r.created_at, a.name, b.name"
        )
        # An index seek on RELATES.memory_id per id.
        rows = self._read(
            f"UNWIND $ids AS id MATCH (a:{n.entity})-[r:{n.relates} {{memory_id: id}}]->"
            f"(b:{n.entity}) RETURN {fields}, elementId(r)",
            {"ids": ids},
        )
        for r in self._ours("relation", fields, rows):
            record = RelationRecord(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], self._stamp(r[8])
            )
            out[r[4]].append(RelationWithNames(record, r[9], r[10]))
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
        n = self._n
        # Both ends in the namespace; the edge asserted by a memory of the scope
        # and not by one the core found expired.
        asserted = "".join(f" AND r.{name} = ${name}" for name, _ in scope.terms())
        rows = self._read(
            f"UNWIND $ids AS id MATCH (x:{n.entity} {{id: id}})-[r:{n.relates}]-(y:{n.entity})"
            f" WHERE x.user_id = $user_id AND y.user_id = $user_id{asserted}"
            " AND NOT r.memory_id IN $exclude"
            f" WITH DISTINCT r MATCH (a:{n.entity})-[r]->(b:{n.entity})"
            f" RETURN {_RELATION} ORDER BY r.created_at, r.id LIMIT $limit",
            {
                **scope.parts(),
                "ids": list(dict.fromkeys(entity_ids)),
                "exclude": sorted(set(exclude_memory_ids)),
                "limit": limit,
            },
        )
        relations: list[RelationWithNames] = []
        entities: dict[str, EntityRecord] = {}
        for r in rows:
            record = RelationRecord(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], self._stamp(r[8])
            )
            relations.append(RelationWithNames(record, r[9], r[10]))
            entities.setdefault(r[2], EntityRecord(r[2], r[9], r[11], r[12]))
            entities.setdefault(r[3], EntityRecord(r[3], r[10], r[13], r[14]))
        return list(entities.values()), relations


def _where(scope: Scope, var: str) -> str:
    """`` WHERE`` each part ``scope`` gives equals ``var``'s (nothing for an empty scope)."""
    terms = [f"{var}.{name} = ${name}" for name, _ in scope.terms()]
    return " WHERE " + " AND ".join(terms) if terms else ""
