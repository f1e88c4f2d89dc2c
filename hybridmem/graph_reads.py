"""Graph reads composed from the graph port's key lookups: one implementation for every adapter.

* ``neighborhood``: entities and RELATES edges within ``depth`` hops of a named
  entity, breadth first, at most ``limit`` edges.
* ``hit_context``: for search hits, the entities each memory mentions and the
  edges touching them (their 1-hop neighbourhood) in the memory's namespace,
  asserted by memories of the caller's scope.
* ``anchored_order``: reciprocal-rank fusion (Cormack et al., 2009) of the
  vector ranking with a graph ranking of memories by proximity to anchor
  entities: memories mentioning more anchors first, then memories mentioning a
  1-hop neighbour of an anchor; newest first within each. A memory's fused score
  is ``sum(1 / (RRF_K + rank))`` over the rankings it appears in (rank from 1),
  so a memory near the anchors climbs above a slightly closer vector match, and
  one that is both wins.

Every read follows the caller's scope (an edge counts when a memory of the
scope asserts it, a memory when it is in the scope) and skips what expired
memories assert: the graph keeps no expiry, so the core asks ``expired`` (the
store's check of memory ids, see :mod:`hybridmem.reads`) and reads again
without them when they took room under a limit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from hybridmem.models import Entity, Neighborhood, Relation, Scope
from hybridmem.ports import GraphStore
from hybridmem.records import EntityRecord, RelationWithNames

#: The usual RRF constant: damps the head of each ranking so neither dominates.
RRF_K = 60
#: Edges per search hit's context, and per hop of an anchor's neighbourhood.
CONTEXT_RELATIONS = 50
#: Memories a paged graph read asks for at a time: at least the first, growing
#: to at most the second.
MIN_PAGE = 200
MAX_PAGE = 5_000

#: Which of these memory ids are expired (the rest are live or unknown).
Expired = Callable[[Collection[str]], set[str]]
#: Which of these memory ids a ranking may hold (in scope, live, passing filters).
Eligible = Callable[[Sequence[str]], set[str]]


def entity(record: EntityRecord) -> Entity:
    return record.to_entity()


def relation(found: RelationWithNames) -> Relation:
    return found.record.to_relation(found.source, found.target)


def live_relations(
    graph: GraphStore,
    entity_ids: Sequence[str],
    scope: Scope,
    limit: int,
    expired: Expired,
) -> tuple[list[EntityRecord], list[RelationWithNames]]:
    """``entity_relations`` without the edges expired memories assert: an expired
    memory found among the edges read is excluded in the query and the read
    repeated while such edges took room under ``limit``."""
    excluded: set[str] = set()
    while True:
        entities, edges = graph.entity_relations(entity_ids, scope, limit, sorted(excluded))
        dead = expired({e.record.memory_id for e in edges} - excluded)
        if not dead:
            break
        excluded |= dead
        if len(edges) < limit:
            edges = [e for e in edges if e.record.memory_id not in dead]
            break
    ends = {end for e in edges for end in (e.record.source_id, e.record.target_id)}
    return [e for e in entities if e.id in ends], edges


def mentioned_by_live(graph: GraphStore, entity_id: str, scope: Scope, expired: Expired) -> bool:
    """True when a live memory of ``scope`` mentions the entity."""
    offset, page = 0, MIN_PAGE
    while True:
        ids = [m for m, _ in graph.mentioning_memory_ids([entity_id], scope, page, offset)]
        if set(ids) - expired(ids):
            return True
        if len(ids) < page:
            return False
        offset += len(ids)


def neighborhood(
    graph: GraphStore, name: str, user_id: str, depth: int, limit: int, expired: Expired
) -> Neighborhood:
    scope = Scope(user_id=user_id)
    start = [
        e
        for e in graph.find_entities(user_id, [name])
        if mentioned_by_live(graph, e.id, scope, expired)
    ]
    entities = {e.id: e for e in start}
    edges: dict[str, RelationWithNames] = {}
    frontier = list(entities)
    for _ in range(depth):
        if not frontier or len(edges) >= limit:
            break
        found_entities, found_edges = live_relations(graph, frontier, scope, limit, expired)
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
    graph: GraphStore,
    memories: Sequence[tuple[str, str | None]],
    scope: Scope,
    expired: Expired,
) -> dict[str, tuple[list[Entity], list[Relation]]]:
    """``memories`` are (memory_id, user_id) pairs of hits in ``scope`` (the
    search's); the context of each: the entities it mentions, and the live edges
    touching them that memories in ``scope`` assert."""
    mentioned = graph.memory_entities([memory_id for memory_id, _ in memories])
    by_namespace: dict[str, set[str]] = {}
    for memory_id, user_id in memories:
        if user_id is not None:
            by_namespace.setdefault(user_id, set()).update(e.id for e in mentioned[memory_id])
    edges_by_namespace = {
        user_id: live_relations(
            graph,
            sorted(ids),
            Scope(user_id=user_id, agent_id=scope.agent_id, run_id=scope.run_id),
            CONTEXT_RELATIONS * len(memories),
            expired,
        )[1]
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
        # Sorted by name: a graph store hands a memory's entities out in no set order,
        # and a hit's context should read the same on every call and every store.
        mentions = sorted(mentioned[memory_id], key=lambda e: (e.name, e.type, e.id))
        out[memory_id] = ([entity(e) for e in mentions], [relation(e) for e in touching])
    return out


def eligible_mentioning(
    graph: GraphStore,
    entity_ids: Sequence[str],
    scope: Scope,
    want: int | None,
    eligible: Eligible,
    skip: Collection[str] = (),
) -> list[tuple[str, int]]:
    """The first ``want`` (all when None) memories of ``scope`` mentioning one of
    ``entity_ids`` that ``eligible`` keeps and ``skip`` does not hold, newest
    first, each with how many of the entities it mentions. Pages through the
    graph until it has them: memories the ranking may not hold (expired, filtered
    out) never take a place, and nothing is cut at a fixed count."""
    out: list[tuple[str, int]] = []
    if not entity_ids or want == 0:
        return out
    offset, page = 0, max(want or 0, MIN_PAGE)
    while want is None or len(out) < want:
        batch = graph.mentioning_memory_ids(entity_ids, scope, page, offset)
        fresh = [(m, n) for m, n in batch if m not in skip]
        kept = eligible([m for m, _ in fresh])
        out.extend((m, n) for m, n in fresh if m in kept)
        if len(batch) < page:
            break
        offset += len(batch)
        # Geometric pages: a long run of memories the ranking may not hold costs
        # a few reads, not one per MIN_PAGE.
        page = min(page * 2, max(MAX_PAGE, page))
    return out if want is None else out[:want]


def graph_ranking(
    graph: GraphStore,
    names: Sequence[str],
    scope: Scope,
    limit: int,
    eligible: Eligible,
    expired: Expired,
) -> list[str]:
    """Memory ids of ``scope`` that ``eligible`` keeps, ranked by proximity to the
    named entities of the namespace ``scope.user_id`` (see the module docstring)."""
    assert scope.user_id is not None
    anchors = graph.find_entities(scope.user_id, names)
    if not anchors:
        return []
    anchor_ids = [a.id for a in anchors]
    found = eligible_mentioning(graph, anchor_ids, scope, limit, eligible)
    hits = dict(found)
    # Stable sort: newest first within the same number of anchors.
    direct = sorted(hits, key=lambda m: -hits[m])
    if len(direct) >= limit:
        return direct[:limit]
    _, edges = live_relations(graph, anchor_ids, scope, CONTEXT_RELATIONS, expired)
    near = {end for edge in edges for end in (edge[0].source_id, edge[0].target_id)}
    near.difference_update(anchor_ids)
    indirect = eligible_mentioning(
        graph, sorted(near), scope, limit - len(direct), eligible, skip=hits
    )
    return direct + [m for m, _ in indirect]


def fuse(rankings: Iterable[Sequence[str]]) -> dict[str, float]:
    """Reciprocal-rank fusion: id -> sum over rankings of 1 / (RRF_K + rank)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank)
    return scores
