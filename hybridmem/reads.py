"""HybridStore's graph-backed reads: entity lookups, graph context, anchored search.

Each read follows the caller's scope and hides what has expired. The graph
keeps no expiry (a memory node has none), so liveness comes from two places:

* the journal's time index (``expiry``, a row per memory that has an expiry,
  keyed by memory id) says which memories *may* have expired: one read for all
  the memory ids a read met (a keyed lookup each, in SQLite or Neo4j);
* the vector record, the expiry's source of truth, confirms the few that the
  index calls due (a row can be stale: a memory written again without an
  expiry keeps its old row until the purge drops it).

So a read pays per memory it touched, and a vector fetch only for memories
that expired and were not purged yet. ``entities()`` is the exception: an
entity has no memory id, so it starts from the index's due rows in the scope
(what expired and is not purged yet) and keeps an entity one of them mentions
only while a live memory mentions it too.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from hybridmem.filters import Filters
from hybridmem.graph_reads import (
    eligible_mentioning,
    fuse,
    graph_ranking,
    hit_context,
    mentioned_by_live,
    neighborhood,
)
from hybridmem.journal import expiry_text, now
from hybridmem.journal_port import JournalPort
from hybridmem.models import Entity, Neighborhood, Relation, Scope, SearchHit
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.records import VectorRecord

#: An anchored search fuses the top ``limit * factor`` (at least ``min``) of each
#: ranking; never fewer than ``limit``, so the pool is no cap on the answer.
ANCHOR_POOL_FACTOR = 5
ANCHOR_POOL_MIN = 50
#: The journal's time index read whole (SQLite's LIMIT takes a signed 64-bit integer).
_EVERY_ROW = 2**63 - 1


@dataclass(frozen=True)
class GraphReads:
    graph: GraphStore
    vector: VectorStore
    journal: JournalPort

    # -- liveness ----------------------------------------------------------------------

    def expired(self, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` are expired memories (not yet purged) by now."""
        at = now()
        cutoff = expiry_text(at)
        stamps = self.journal.expiries(list(ids))
        due = [memory_id for memory_id, stamp in stamps.items() if stamp <= cutoff]
        if not due:
            return set()
        # A due id with no vector record is being purged (vectors go first).
        return set(due) - {r.id for r in self.vector.get(due) if not r.expired(at)}

    def expired_in(self, scope: Scope) -> set[str]:
        """The expired memories of ``scope`` (every scope when empty) not yet purged."""
        at = now()
        due = [r.memory_id for r in self.journal.expired(at, _EVERY_ROW) if scope.matches(r.scope)]
        if not due:
            return set()
        return set(due) - {r.id for r in self.vector.get(due) if not r.expired(at)}

    def matching(
        self, ids: Sequence[str], scope: Scope, filters: Filters | None
    ) -> list[VectorRecord]:
        """The vector records of ``ids`` that are in ``scope`` and pass ``filters``
        (which carry the instant they must be alive at)."""
        return [
            r
            for r in self.vector.get(ids)
            if scope.matches(r.scope)
            and (
                filters is None
                or (
                    filters.alive(r.expires_at)
                    and filters.matches(r.metadata, r.created_at, r.updated_at)
                )
            )
        ]

    # -- reads -------------------------------------------------------------------------

    def entity_memories(
        self,
        name: str,
        scope: Scope,
        filters: Filters | None,
        limit: int | None,
        offset: int,
    ) -> list[VectorRecord]:
        """get_all(entity=name): memories of ``scope`` mentioning an entity of that
        name in the namespace ``scope.user_id``, passing ``filters``, newest first,
        paged. The graph is read page by page until the page asked for is full or
        the entity's memories in the scope run out: no count cuts it short."""
        assert scope.user_id is not None
        anchors = [a.id for a in self.graph.find_entities(scope.user_id, [name])]
        want = None if limit is None else offset + limit
        found: dict[str, VectorRecord] = {}

        def eligible(ids: Sequence[str]) -> set[str]:
            kept = self.matching(ids, scope, filters)
            found.update((r.id, r) for r in kept)
            return {r.id for r in kept}

        eligible_mentioning(self.graph, anchors, scope, want, eligible)
        records = sorted(found.values(), key=lambda r: (r.created_at, r.id), reverse=True)
        return records[offset:want]

    def add_context(self, hits: Sequence[SearchHit], scope: Scope) -> None:
        """Fill each hit's ``entities`` and ``relations``: only edges live memories
        of ``scope`` (the search's) assert."""
        context = hit_context(
            self.graph, [(h.memory.id, h.memory.user_id) for h in hits], scope, self.expired
        )
        for hit in hits:
            hit.entities, hit.relations = context[hit.memory.id]

    def anchored(
        self,
        vector_values: list[float],
        scope: Scope,
        limit: int,
        filters: Filters | None,
        names: list[str],
    ) -> list[SearchHit]:
        pool = max(limit * ANCHOR_POOL_FACTOR, ANCHOR_POOL_MIN)
        by_vector = self.vector.search(vector_values, scope, pool, filters=filters)
        records = {record.id: (record, score) for record, score in by_vector}

        def eligible(ids: Sequence[str]) -> set[str]:
            missing = [m for m in ids if m not in records]
            for record in self.matching(missing, scope, filters):
                records[record.id] = (record, cosine(vector_values, record.embedding))
            return {m for m in ids if m in records}

        by_graph = graph_ranking(self.graph, names, scope, pool, eligible, self.expired)
        fused = fuse([[r.id for r, _ in by_vector], by_graph])
        order = sorted(fused, key=lambda m: (-fused[m], m))[:limit]
        return [
            SearchHit(memory=records[m][0].to_memory(), score=records[m][1], fused_score=fused[m])
            for m in order
        ]

    def neighbors(self, name: str, user_id: str, depth: int, limit: int) -> Neighborhood:
        return neighborhood(self.graph, name, user_id, depth, limit, self.expired)

    def entities(self, user_id: str | None) -> list[Entity]:
        found = self.graph.entities(user_id)
        dead = self.expired_in(Scope(user_id=user_id))
        if not dead:
            return [e.to_entity() for e in found]
        # Only an entity an expired memory mentions can be mentioned by none alive.
        mentioned = self.graph.memory_entities(sorted(dead)).values()
        suspects = {e.id: e for ids in mentioned for e in ids}
        gone = {
            entity_id
            for entity_id, e in suspects.items()
            if not mentioned_by_live(self.graph, entity_id, Scope(user_id=e.user_id), self.expired)
        }
        return [e.to_entity() for e in found if e.id not in gone]

    def relations(self, scope: Scope) -> list[Relation]:
        found = self.graph.relations(None if scope.is_empty() else scope)
        dead = self.expired({r.memory_id for r, _, _ in found})
        return [
            r.to_relation(source, target) for r, source, target in found if r.memory_id not in dead
        ]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """The similarity the stores rank by, for records ranked outside a store."""
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    return dot / norm if norm else 0.0
