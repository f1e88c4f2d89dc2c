"""A graph witness for backends that speak Cypher (Kuzu, Neo4j): plain queries over
the labels ``Memory``, ``Entity``, ``MENTIONS`` and ``RELATES``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: query, parameters -> rows (each a list of values)
RunQuery = Callable[[str, dict[str, Any]], list[list[Any]]]


@dataclass(frozen=True)
class CypherGraphWitness:
    run: RunQuery

    def memory_node_ids(self) -> set[str]:
        return {row[0] for row in self.run("MATCH (m:Memory) RETURN m.id", {})}

    def relation_memory_ids(self) -> dict[str, str]:
        rows = self.run("MATCH (:Entity)-[r:RELATES]->(:Entity) RETURN r.id, r.memory_id", {})
        return {row[0]: row[1] for row in rows}

    def orphan_entity_ids(self) -> set[str]:
        rows = self.run(
            "MATCH (e:Entity) WHERE NOT EXISTS { MATCH (e)<-[:MENTIONS]-(:Memory) }"
            " AND NOT EXISTS { MATCH (e)-[:RELATES]-(:Entity) } RETURN e.id",
            {},
        )
        return {row[0] for row in rows}

    def detach_memory_node(self, memory_id: str) -> None:
        self.run("MATCH (m:Memory {id: $id}) DETACH DELETE m", {"id": memory_id})

    def drop_mentions_of(self, entity_name: str) -> None:
        self.run(
            "MATCH (:Memory)-[m:MENTIONS]->(e:Entity {name: $name}) DELETE m",
            {"name": entity_name},
        )
