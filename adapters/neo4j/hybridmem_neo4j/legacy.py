"""Data an earlier hybridmem wrote under the unprefixed labels, and its migration.

That layout used ``Memory``/``Entity`` nodes and ``MENTIONS``/``RELATES`` edges,
names any application may use too, so a ``Memory`` node is not proof that
hybridmem wrote it. Its constraint and index names are (``hybridmem_memory_id``
…): they are how a store detects the layout when it opens, and it then refuses
to open (``MigrationRequiredError``) until ``hybridmem migrate-neo4j-labels``
has run.

The migration moves only what is provably this store's: the memory nodes whose
ids are in its vector store, the entities they mention, and the RELATES edges
they asserted (by ``memory_id``). One write transaction per batch of ids, so a
crash leaves whole memories on either side and a re-run finishes the rest. What
is left under the old labels (another application's nodes, or memory nodes with
no vector) is counted and never touched. Last, the old constraints and indexes
are dropped, which is what lets the store open (unless nothing at all was this
store's: then it was given another store's configuration, and the layout stays).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from neo4j import ManagedTransaction

if TYPE_CHECKING:
    from hybridmem_neo4j.graph import Neo4jGraphStore

MIGRATE_COMMAND = "hybridmem migrate-neo4j-labels"

LEGACY_CONSTRAINTS = ("hybridmem_memory_id", "hybridmem_entity_id")
LEGACY_INDEXES = (
    "hybridmem_memory_user",
    "hybridmem_memory_agent",
    "hybridmem_memory_run",
    "hybridmem_entity_user",
    "hybridmem_relates_memory",
)
LEGACY_SCHEMA_NAMES = LEGACY_CONSTRAINTS + LEGACY_INDEXES


class Neo4jLabelMigration:
    """Moves one store's data from the unprefixed layout to its prefixed labels."""

    def __init__(self, store: Neo4jGraphStore) -> None:
        self.store = store
        self.name = store.name
        self.address = store.address

    def needed(self) -> bool:
        return bool(self.store.legacy_schema())

    def migrate(self, memory_ids: Sequence[str]) -> dict[str, int]:
        """Relabel the legacy memory nodes among ``memory_ids``, the entities they
        mention and the relations they asserted, in one transaction. Ids already
        migrated (or unknown) count zero, so a re-run is safe."""
        n = self.store._n
        params = {"ids": list(dict.fromkeys(memory_ids))}

        def work(tx: ManagedTransaction) -> dict[str, int]:
            # Relationship types cannot change in place: create ours, delete the old.
            relations = tx.run(
                "MATCH (m:Memory) WHERE m.id IN $ids WITH collect(m.id) AS ours"
                " MATCH (a)-[r:RELATES]->(b) WHERE r.memory_id IN ours"
                f" SET a:{n.entity}, b:{n.entity} REMOVE a:Entity, b:Entity"
                f" CREATE (a)-[x:{n.relates}]->(b) SET x = properties(r) DELETE r",
                params,
            ).consume()
            mentions = tx.run(
                "MATCH (m:Memory)-[old:MENTIONS]->(e) WHERE m.id IN $ids"
                f" AND (e:Entity OR e:{n.entity})"
                f" SET e:{n.entity} REMOVE e:Entity MERGE (m)-[:{n.mentions}]->(e) DELETE old",
                params,
            ).consume()
            nodes = tx.run(
                f"MATCH (m:Memory) WHERE m.id IN $ids SET m:{n.memory} REMOVE m:Memory", params
            ).consume()
            return {
                "memory_nodes": nodes.counters.labels_added,
                "entities": relations.counters.labels_added + mentions.counters.labels_added,
                "relations": relations.counters.relationships_created,
            }

        return self.store._transaction(work)

    def leftovers(self) -> dict[str, int]:
        """What stays under the old labels: hybridmem-shaped memory nodes (with no
        vector in this store), and RELATES edges that name a memory id."""
        left_nodes = self.store._read(
            "MATCH (m:Memory) WHERE m.id IS NOT NULL AND m.created_at IS NOT NULL"
            " AND m.updated_at IS NOT NULL RETURN count(m)",
            {},
        )[0][0]
        left_relations = self.store._read(
            "MATCH ()-[r:RELATES]->() WHERE r.memory_id IS NOT NULL RETURN count(r)", {}
        )[0][0]
        return {"left_memory_nodes": int(left_nodes), "left_relations": int(left_relations)}

    def finish(self) -> None:
        """Drop the old schema: the store opens from now on."""
        for name in LEGACY_CONSTRAINTS:
            self.store._write(f"DROP CONSTRAINT {name} IF EXISTS", {})
        for name in LEGACY_INDEXES:
            self.store._write(f"DROP INDEX {name} IF EXISTS", {})

    def close(self) -> None:
        self.store.close()
