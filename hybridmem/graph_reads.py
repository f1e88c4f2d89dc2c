"""Graph reads composed from the graph port's key lookups: one implementation for every adapter.

* ``neighborhood``: entities and RELATES edges within ``depth`` hops of a named
  entity, breadth first, at most ``limit`` edges.
* ``hit_context``: for search hits, the entities each memory mentions and the
  edges touching them (their 1-hop neighbourhood) in the memory's namespace.
* ``anchored_order``: reciprocal-rank fusion (Cormack et al., 2009) of the
  vector ranking with a graph ranking of memories by proximity to anchor
  entities: memories mentioning more anchors first, then memories mentioning a
  1-hop neighbour of an anchor; newest first within each. A memory's fused score
  is ``sum(1 / (RRF_K + rank))`` over the rankings it appears in (rank from 1),
  so a memory near the anchors climbs above a slightly closer vector match, and
  one that is both wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hybridmem.models import Entity, Neighborhood, Relation
from hybridmem.ports import GraphStore
from hybridmem.records import EntityRecord, RelationWithNames

#: The usual RRF constant: damps the head of each ranking so neither dominates.
RRF_K = 60
#: Edges per search hit's context, and per hop of an anchor's neighbourhood.
CONTEXT_RELATIONS = 50


def entity(record: EntityRecord) -> Entity:
    return record.to_entity()


def relation(found: RelationWithNames) -> Relation:
    return found.record.to_relation(found.source, found.target)


def neighborhood(
    graph: GraphStore, name: str, user_id: str, depth: int, limit: int
) -> Neighborhood:
    start = graph.find_entities(user_id, [name])
    entities = {e.id: e for e in start}
    edges: dict[str, RelationWithNames] = {}
    frontier = list(entities)
    for _ in range(depth):
        if not frontier or len(edges) >= limit:
            break
        found_entities, found_edges = graph.entity_relations(frontier, user_id, limit)
        known = {e.id: e for e in found_entities}
        frontier = []
        for edge in found_edges:
            if len(edges) >= limit:
                break
            if edge[0].id in edges:
                continue
            edges[edge[0].id] = edge
            for end in (edge[0].source_id, edge[0].target_id):
                if end not in entities and end in known:
                    entities[end] = known[end]
                    frontier.append(end)
    return Neighborhood(
        entities=[entity(e) for e in entities.values()],
        relations=[relation(edge) for edge in edges.values()],
    )


def hit_context(
    graph: GraphStore, memories: Sequence[tuple[str, str | None]]
) -> dict[str, tuple[list[Entity], list[Relation]]]:
    """``memories`` are (memory_id, user_id) pairs; the context of each."""
    mentioned = graph.memory_entities([memory_id for memory_id, _ in memories])
    by_namespace: dict[str, set[str]] = {}
    for memory_id, user_id in memories:
        if user_id is not None:
            by_namespace.setdefault(user_id, set()).update(e.id for e in mentioned[memory_id])
    edges_by_namespace = {
        user_id: graph.entity_relations(sorted(ids), user_id, CONTEXT_RELATIONS * len(memories))[1]
        for user_id, ids in by_namespace.items()
        if ids
    }
    out: dict[str, tuple[list[Entity], list[Relation]]] = {}
    for memory_id, user_id in memories:
        ids = {e.id for e in mentioned[memory_id]}
        touching = [
            edge
            for edge in edges_by_namespace.get(user_id or "", [])
            if user_id is not None and (edge[0].source_id in ids or edge[0].target_id in ids)
        ][:CONTEXT_RELATIONS]
        out[memory_id] = (
            [entity(e) for e in mentioned[memory_id]],
            [relation(e) for e in touching],
        )
    return out


def graph_ranking(graph: GraphStore, names: Sequence[str], user_id: str, limit: int) -> list[str]:
    """Memory ids ranked by proximity to the named entities (see the module docstring)."""
    anchors = graph.find_entities(user_id, names)
    if not anchors:
        return []
    anchor_ids = [a.id for a in anchors]
    hits: dict[str, int] = {}
    for memory_id, _ in graph.mentioning_memory_ids(anchor_ids, user_id, limit):
        hits[memory_id] = hits.get(memory_id, 0) + 1
    # Stable sort: newest first within the same number of anchors.
    direct = sorted(hits, key=lambda m: -hits[m])
    _, edges = graph.entity_relations(anchor_ids, user_id, CONTEXT_RELATIONS)
    near = {end for edge in edges for end in (edge[0].source_id, edge[0].target_id)}
    near.difference_update(anchor_ids)
    indirect = [
        memory_id
        for memory_id, _ in graph.mentioning_memory_ids(sorted(near), user_id, limit)
        if memory_id not in hits
    ]
    return list(dict.fromkeys(direct + indirect))[:limit]


def fuse(rankings: Iterable[Sequence[str]]) -> dict[str, float]:
    """Reciprocal-rank fusion: id -> sum over rankings of 1 / (RRF_K + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return scores
