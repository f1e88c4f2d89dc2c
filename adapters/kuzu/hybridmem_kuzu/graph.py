"""KuzuGraphStore: the graph port on an embedded Kuzu database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from hybridmem.models import Scope
from hybridmem.records import (
    EntityRecord,
    GraphDeleteCounts,
    GraphRows,
    MemoryGraph,
    MemoryNode,
    RelationWithNames,
    graph_rows,
)
from hybridmem_kuzu._database import FEW_ROWS, KuzuFileStore, used
from hybridmem_kuzu._graph_reads import KuzuGraphReads, _relation
from hybridmem_kuzu._live import LiveGraph
from hybridmem_kuzu._scope import outside_scope, scope_keys, scope_match, scope_params
from hybridmem_kuzu._time import from_text, to_text

_SCHEMA = (
    "CREATE NODE TABLE IF NOT EXISTS Memory(id STRING PRIMARY KEY, user_id STRING,"
    " agent_id STRING, run_id STRING, created_at STRING, updated_at STRING)",
    "CREATE NODE TABLE IF NOT EXISTS Entity(id STRING PRIMARY KEY, name STRING, type STRING,"
    " user_id STRING)",
    "CREATE NODE TABLE IF NOT EXISTS Scope(key STRING PRIMARY KEY)",
    "CREATE REL TABLE IF NOT EXISTS IN_SCOPE(FROM Memory TO Scope)",
    "CREATE REL TABLE IF NOT EXISTS MENTIONS(FROM Memory TO Entity)",
    "CREATE REL TABLE IF NOT EXISTS RELATES(FROM Entity TO Entity, id STRING, type STRING,"
    " memory_id STRING, user_id STRING, agent_id STRING, run_id STRING, created_at STRING)",
)

# RELATES' properties, as graph_rows names them.
_RELATION_PROPERTIES = ("id", "type", "memory_id", "user_id", "agent_id", "run_id", "created_at")

# Kuzu 0.11.3 keeps backward adjacency entries to nodes deleted before a crash
# (seen after SIGKILL + WAL replay): EXISTS still finds the edge, but the
# neighbour's primary key reads NULL. Only a neighbour with an id is real.
_UNMENTIONED = "NOT EXISTS { MATCH (e)<-[:MENTIONS]-(mm:Memory) WHERE mm.id IS NOT NULL }"
_UNRELATED = "NOT EXISTS { MATCH (e)-[:RELATES]-(y:Entity) WHERE y.id IS NOT NULL }"
_EMPTY_SCOPE = "NOT EXISTS { MATCH (s)<-[:IN_SCOPE]-(mm:Memory) WHERE mm.id IS NOT NULL }"
# The same tests for one candidate, as probes that stop at the first neighbour.
_ENTITY_IN_USE = (
    "MATCH (e:Entity {id: $key})<-[:MENTIONS]-(mm:Memory) WHERE mm.id IS NOT NULL"
    " RETURN mm.id LIMIT 1",
    "MATCH (e:Entity {id: $key})-[:RELATES]-(y:Entity) WHERE y.id IS NOT NULL RETURN y.id LIMIT 1",
)
_ORPHAN_ENTITIES = f"MATCH (e:Entity) WHERE {_UNMENTIONED} AND {_UNRELATED}"
_DANGLING = (
    "MATCH (:Entity)-[r:RELATES]->(:Entity)"
    " WHERE NOT EXISTS { MATCH (m:Memory) WHERE m.id = r.memory_id }"
    " AND NOT list_contains($protected, r.memory_id)"
)
_SCOPE_IN_USE = (
    "MATCH (s:Scope {key: $key})<-[:IN_SCOPE]-(mm:Memory) WHERE mm.id IS NOT NULL"
    " RETURN mm.id LIMIT 1",
)

_MEMORY_FIELDS = "m.id, m.user_id, m.agent_id, m.run_id, m.created_at, m.updated_at"
_RELATION_FIELDS = (
    "r.id, r.type, a.id, b.id, r.memory_id, r.user_id, r.agent_id, r.run_id, r.created_at,"
    " a.name, b.name"
)


def _memory_node(row: Sequence[Any]) -> MemoryNode:
    return MemoryNode(
        id=row[0],
        user_id=row[1],
        agent_id=row[2],
        run_id=row[3],
        created_at=from_text(row[4]),
        updated_at=from_text(row[5]),
    )


def _create_one(rows: GraphRows, links: list[dict[str, str]], fresh: bool) -> _OneMemory | None:
    """One memory's probe and write statements (see ``_add_one``); None when a
    mention or relation names an entity the memory does not carry. A ``fresh``
    memory's node and relations cannot exist, so only its scope and entities are
    probed: a relation probe reads its entity's whole adjacency (9 of the 13 ms a
    probe took at 30k memories)."""
    node = rows.nodes[0]
    names = {entity["id"]: f"e{i}" for i, entity in enumerate(rows.entities)}
    mentioned = list(dict.fromkeys(m["e"] for m in rows.mentions))
    ends = [(r["source"], r["target"]) for r in rows.relations]
    if any(e not in names for e in mentioned) or any(
        a not in names or b not in names for a, b in ends
    ):
        return None
    params: dict[str, Any] = {f"m_{k}": v for k, v in node.items()}
    params.update({f"s{i}": link["key"] for i, link in enumerate(links)})
    for i, entity in enumerate(rows.entities):
        params.update({f"e{i}_{k}": v for k, v in entity.items()})
    for i, relation in enumerate(rows.relations):
        params.update(
            {f"r{i}_{k}": v for k, v in relation.items() if k not in ("source", "target")}
        )
    probe = [] if fresh else ["OPTIONAL MATCH (m:Memory {id: $m_id})"]
    probe += [f"OPTIONAL MATCH (s{i}:Scope {{key: $s{i}}})" for i in range(len(links))]
    probe += [f"OPTIONAL MATCH (e{i}:Entity {{id: $e{i}_id}})" for i in range(len(names))]
    found = [] if fresh else ["m.id"]
    found += [f"s{i}.key" for i in range(len(links))]
    found += [f"e{i}.id" for i in range(len(names))]
    if not fresh:
        probe += [
            f"OPTIONAL MATCH ({names[a]})-[r{i}:RELATES {{id: $r{i}_id}}]->(:Entity)"
            for i, (a, _) in enumerate(ends)
        ]
        found += [f"r{i}.id" for i in range(len(ends))]
    probe.append("RETURN " + ", ".join(f"{f} IS NOT NULL" for f in found))
    return _OneMemory(" ".join(probe), params, names, mentioned, ends, fresh)


class _OneMemory:
    """A single new memory written as CREATEs: Kuzu checks a MERGEd edge by reading
    its node's adjacency (the more edges, the slower), and each statement of a
    transaction costs ~1 ms more; one statement also commits without BEGIN/COMMIT."""

    def __init__(
        self,
        probe: str,
        params: dict[str, Any],
        names: dict[str, str],
        mentioned: list[str],
        ends: list[tuple[str, str]],
        fresh: bool,
    ) -> None:
        self.probe, self.params = probe, params
        self._names, self._mentioned, self._ends = names, mentioned, ends
        self._fresh = fresh

    def write(self, found: Sequence[bool], scopes: int) -> str | None:
        """The write statement, given which of the probed rows exist; None when the
        memory or one of its relations is there already (a merge is needed)."""
        if self._fresh:
            found = [False, *found, *(False for _ in self._ends)]
        memory, found = found[0], list(found[1:])
        in_scope, found = found[:scopes], found[scopes:]
        entities, relations = found[: len(self._names)], found[len(self._names) :]
        if memory or any(relations):
            return None
        matched: list[str] = []
        created = [
            "(m:Memory {id: $m_id, user_id: $m_user_id, agent_id: $m_agent_id,"
            " run_id: $m_run_id, created_at: $m_created_at, updated_at: $m_updated_at})"
        ]
        for i, exists in enumerate(in_scope):
            (matched if exists else created).append(f"(s{i}:Scope {{key: $s{i}}})")
            created.append(f"(m)-[:IN_SCOPE]->(s{i})")
        for i, exists in enumerate(entities):
            if exists:
                matched.append(f"(e{i}:Entity {{id: $e{i}_id}})")
            else:
                created.append(
                    f"(e{i}:Entity {{id: $e{i}_id, name: $e{i}_name, type: $e{i}_type,"
                    f" user_id: $e{i}_ns}})"
                )
        created += [f"(m)-[:MENTIONS]->({self._names[e]})" for e in self._mentioned]
        created += [
            f"({self._names[a]})-[:RELATES {{id: $r{i}_id, type: $r{i}_type,"
            f" memory_id: $r{i}_memory_id, user_id: $r{i}_user_id, agent_id: $r{i}_agent_id,"
            f" run_id: $r{i}_run_id, created_at: $r{i}_created_at}}]->({self._names[b]})"
            for i, (a, b) in enumerate(self._ends)
        ]
        match = f"MATCH {', '.join(matched)} " if matched else ""
        return f"{match}CREATE {', '.join(created)} RETURN m.id"


def _protected(ids: Sequence[str]) -> dict[str, list[str]]:
    # An empty list literal has no element type in Kuzu; "" is never a memory id.
    return {"protected": list(ids) or [""]}


class KuzuGraphStore(KuzuGraphReads, LiveGraph, KuzuFileStore):
    name = "Kuzu graph store"

    def blank_twin(self, path: Path) -> KuzuGraphStore:
        db = self._db
        return KuzuGraphStore(path, db.engine, db.batch_plan, db.buffer_pool_mb)

    def _prepare(self) -> None:
        for statement in _SCHEMA:
            self._db.rows(statement)

    # -- writes -----------------------------------------------------------------

    def add_memories(self, memories: Sequence[MemoryGraph], *, fresh: bool = False) -> None:
        if not memories:
            return
        rows = graph_rows(memories, to_text)
        links = [
            {"id": item.node.id, "key": key}
            for item in memories
            for key in scope_keys(item.node.scope)
        ]
        db = self._db
        if len(memories) != 1 or not self._add_one(rows, links, fresh):
            self._add_rows(rows, links)
        # Estimates only steer the query plan; merges of existing ids overcount a little.
        db.adjust("Memory", len(rows.nodes))
        db.adjust("Entity", len({e["id"] for e in rows.entities}))
        db.adjust("Scope", len({link["key"] for link in links}))

    def _add_one(self, rows: GraphRows, links: list[dict[str, str]], fresh: bool) -> bool:
        """A new memory in one write statement, after one read of what exists; False
        (nothing written) when it needs ``_add_rows``' merges."""
        one = _create_one(rows, links, fresh)
        if one is None:
            return False
        db = self._db
        with db.lock:
            # The lock keeps the probe true until the write: only this connection writes.
            found = db.rows(one.probe, used(one.probe, one.params))
            write = one.write(found[0], len(links)) if len(found) == 1 else None
            return write is not None and bool(db.rows(write, used(write, one.params)))

    def _add_rows(self, rows: GraphRows, links: list[dict[str, str]]) -> None:
        """A batch merged into what is there, in one transaction. Not COPY: on 0.11.3
        a multi-row insert into a vector table that had rows deleted stored some new
        rows with a deleted row's values (seen in the search-cache tests), and a
        rolled-back COPY into a rel table lost its other edges. A new memory's edges
        cannot exist yet and are CREATEd (see ``create_edges``: a MERGE of an edge
        between two looked-up endpoints grew with the store); the rest is MERGEd."""
        db = self._db
        with db.transaction():
            ids = [node["id"] for node in rows.nodes]
            new = set(ids) - db.existing("Memory", "id", ids)

            def fresh(edges: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
                return [e for e in edges if e[key] in new]

            def stored(edges: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
                return [e for e in edges if e[key] not in new]

            db.each(
                "MERGE (m:Memory {id: x.id}) ON CREATE SET"
                " m.user_id = x.user_id, m.agent_id = x.agent_id, m.run_id = x.run_id,"
                " m.created_at = x.created_at, m.updated_at = x.updated_at",
                rows.nodes,
                "Memory",
            )
            db.each("MERGE (s:Scope {key: x.key})", links, "Scope")
            db.each(
                "MERGE (e:Entity {id: x.id})"
                " ON CREATE SET e.name = x.name, e.type = x.type, e.user_id = x.ns",
                rows.entities,
                "Entity",
            )
            db.create_edges(
                "IN_SCOPE", ("Memory", "id", "id"), ("Scope", "key", "key"), fresh(links, "id")
            )
            db.each(
                "MATCH (m:Memory {id: x.id}), (s:Scope {key: x.key}) MERGE (m)-[:IN_SCOPE]->(s)",
                stored(links, "id"),
                "Memory",
            )
            db.create_edges(
                "MENTIONS", ("Memory", "id", "m"), ("Entity", "id", "e"), fresh(rows.mentions, "m")
            )
            db.each(
                "MATCH (m:Memory {id: x.m}), (e:Entity {id: x.e}) MERGE (m)-[:MENTIONS]->(e)",
                stored(rows.mentions, "m"),
                "Entity",
            )
            # A relation's id is derived from its memory's id, so a new memory's are
            # new, unless one was left dangling when its memory node went (after a
            # crash, or by hand): those are merged.
            new_relations = fresh(rows.relations, "memory_id")
            dangling = {
                row[0]
                for row in db.each(
                    "MATCH (a:Entity {id: x.source})-[r:RELATES]->(:Entity)"
                    " WHERE r.id = x.id RETURN r.id",
                    new_relations,
                    "Entity",
                )
            }
            db.create_edges(
                "RELATES",
                ("Entity", "id", "source"),
                ("Entity", "id", "target"),
                [r for r in new_relations if r["id"] not in dangling],
                _RELATION_PROPERTIES,
            )
            db.each(
                "MATCH (a:Entity {id: x.source}), (b:Entity {id: x.target})"
                " MERGE (a)-[r:RELATES {id: x.id}]->(b)"
                " ON CREATE SET r.type = x.type, r.memory_id = x.memory_id,"
                " r.user_id = x.user_id, r.agent_id = x.agent_id, r.run_id = x.run_id,"
                " r.created_at = x.created_at",
                stored(rows.relations, "memory_id")
                + [r for r in new_relations if r["id"] in dangling],
                "Entity",
            )

    def touch_memory(self, memory_id: str, updated_at: datetime) -> bool:
        rows = self._db.rows(
            "MATCH (m:Memory {id: $id}) SET m.updated_at = $t RETURN m.id",
            {"id": memory_id, "t": to_text(updated_at)},
        )
        return bool(rows)

    def delete_memories(self, ids: Sequence[str]) -> GraphDeleteCounts:
        if not ids:
            return GraphDeleteCounts()
        rows = [{"id": i} for i in dict.fromkeys(ids)]
        db = self._db
        with db.transaction():
            touched = sorted(
                {
                    row[0]
                    for row in db.each(
                        "MATCH (m:Memory {id: x.id})-[:MENTIONS]->(e:Entity) RETURN e.id",
                        rows,
                        "Memory",
                    )
                }
            )
            keys = sorted(
                {
                    row[0]
                    for row in db.each(
                        "MATCH (m:Memory {id: x.id})-[:IN_SCOPE]->(s:Scope) RETURN s.key",
                        rows,
                        "Memory",
                    )
                }
            )
            # A relation's source is always mentioned by its memory (the core adds
            # relation endpoints to the mentions), so starting from the touched
            # entities reaches every one of them. Reading r.memory_id along a
            # Memory->Entity->Entity path is ~10x slower in Kuzu than this join.
            relations = db.each_count(
                "MATCH (a:Entity {id: x.id})-[r:RELATES]->(:Entity) WITH r"
                " UNWIND $memory_ids AS doomed WITH r, doomed WHERE r.memory_id = doomed"
                " DELETE r RETURN count(*)",
                [{"id": e} for e in touched],
                "Entity",
                {"memory_ids": [row["id"] for row in rows]},
            )
            nodes = db.each_count(
                "MATCH (m:Memory {id: x.id}) DETACH DELETE m RETURN count(*)", rows, "Memory"
            )
            orphans = self._delete_orphans(touched)
            # Scope nodes carry the ids themselves (personal data): drop the empty ones.
            emptied = db.each_count(
                "MATCH (s:Scope {key: x.key}) DETACH DELETE s RETURN count(*)",
                [{"key": k} for k in db.unused(_SCOPE_IN_USE, keys)],
                "Scope",
            )
        db.adjust("Memory", -nodes)
        db.adjust("Entity", -orphans)
        db.adjust("Scope", -emptied)
        return GraphDeleteCounts(memory_nodes=nodes, relations=relations, orphan_entities=orphans)

    def _delete_orphans(self, candidates: list[str]) -> int:
        if not candidates:
            return 0
        if len(candidates) <= FEW_ROWS:
            # A probe per candidate stops at its first edge; the query below reads
            # every edge of every candidate (6 of a one-memory delete's 25 ms).
            return self._delete_entities(self._db.unused(_ENTITY_IN_USE, candidates))
        rows = [{"id": c} for c in candidates]
        # One query finds the candidates with no edge at all (the usual orphans);
        # only those still showing an edge need a probe, because after a crash an
        # edge may be a stale one.
        bare = {
            row[0]
            for row in self._db.each(
                "MATCH (e:Entity {id: x.id}) WHERE NOT EXISTS { MATCH (e)<-[:MENTIONS]-(:Memory) }"
                " AND NOT EXISTS { MATCH (e)-[:RELATES]-(:Entity) } RETURN e.id",
                rows,
                "Entity",
            )
        }
        rest = [c for c in candidates if c not in bare]
        return self._delete_entities(sorted(bare) + self._db.unused(_ENTITY_IN_USE, rest))

    def _delete_entities(self, ids: list[str]) -> int:
        return self._db.each_count(
            "MATCH (e:Entity {id: x.id}) DETACH DELETE e RETURN count(*)",
            [{"id": c} for c in ids],
            "Entity",
        )

    # -- reads ------------------------------------------------------------------

    def get_memory_node(self, memory_id: str) -> MemoryNode | None:
        rows = self._db.rows(
            f"MATCH (m:Memory {{id: $id}}) RETURN {_MEMORY_FIELDS}", {"id": memory_id}
        )
        return _memory_node(rows[0]) if rows else None

    def scope_memory_ids(self, scope: Scope, limit: int) -> list[str]:
        clause, params = scope_match(scope, "m", "Memory", "Scope", "IN_SCOPE")
        rows = self._db.rows(f"{clause} RETURN m.id LIMIT $limit", {**params, "limit": limit})
        return [row[0] for row in rows]

    def existing_memory_ids(self, ids: Sequence[str]) -> set[str]:
        rows = self._db.each(
            "MATCH (m:Memory {id: x.id}) RETURN m.id", [{"id": i} for i in ids], "Memory"
        )
        return {row[0] for row in rows}

    def count_scope(self, scope: Scope) -> GraphDeleteCounts:
        clause, params = scope_match(scope, "m", "Memory", "Scope", "IN_SCOPE")
        nodes = self._db.scalar(f"{clause} RETURN count(m)", params)
        relations = self._db.scalar(
            f"{clause} MATCH (m)-[:MENTIONS]->(:Entity)-[r:RELATES]->(:Entity)"
            " WHERE r.memory_id = m.id RETURN count(r)",
            params,
        )
        orphans = self._db.scalar(
            f"{clause} MATCH (m)-[:MENTIONS]->(e:Entity) WITH DISTINCT e"
            f" WHERE NOT EXISTS {{ MATCH (e)<-[:MENTIONS]-(o:Memory)"
            f" WHERE o.id IS NOT NULL AND {outside_scope(scope, 'o')} }}"
            f" AND NOT EXISTS {{ MATCH (e)-[rr:RELATES]-(:Entity)"
            f" WHERE {outside_scope(scope, 'rr')} }}"
            " RETURN count(e)",
            {**params, **scope_params(scope)},
        )
        return GraphDeleteCounts(memory_nodes=nodes, relations=relations, orphan_entities=orphans)

    def entities(self, user_id: str | None = None) -> list[EntityRecord]:
        if user_id is None:
            rows = self._db.rows("MATCH (e:Entity) RETURN e.id, e.name, e.type, e.user_id")
        else:
            rows = self._db.rows(
                "MATCH (e:Entity) WHERE e.user_id = $u RETURN e.id, e.name, e.type, e.user_id",
                {"u": user_id},
            )
        return [EntityRecord(id=r[0], name=r[1], type=r[2], user_id=r[3]) for r in rows]

    def relations(self, scope: Scope | None = None) -> list[RelationWithNames]:
        if scope is None or scope.is_empty():
            rows = self._db.rows(
                f"MATCH (a:Entity)-[r:RELATES]->(b:Entity) RETURN {_RELATION_FIELDS}"
            )
        else:
            clause, params = scope_match(scope, "m", "Memory", "Scope", "IN_SCOPE")
            rows = self._db.rows(
                f"{clause} MATCH (m)-[:MENTIONS]->(a:Entity)-[r:RELATES]->(b:Entity)"
                f" WHERE r.memory_id = m.id RETURN {_RELATION_FIELDS}",
                params,
            )
        return [_relation(row) for row in rows]

    # -- whole-store scans (reconcile, stats) -------------------------------------

    def iter_memory_ids(self, batch_size: int) -> Iterator[list[str]]:
        return self._db.iter_ids("Memory", batch_size)

    def count_orphan_entities(self) -> int:
        return self._db.scalar(f"{_ORPHAN_ENTITIES} RETURN count(e)")

    def delete_orphan_entities(self) -> int:
        return self._db.scalar(f"{_ORPHAN_ENTITIES} DETACH DELETE e RETURN count(*)")

    def count_dangling_relations(self, protected: Sequence[str]) -> int:
        return self._db.scalar(f"{_DANGLING} RETURN count(r)", _protected(protected))

    def delete_dangling_relations(self, protected: Sequence[str]) -> int:
        count = self._db.scalar(f"{_DANGLING} DELETE r RETURN count(*)", _protected(protected))
        self._db.rows(f"MATCH (s:Scope) WHERE {_EMPTY_SCOPE} DETACH DELETE s")
        return count

    def stats(self) -> dict[str, int]:
        return {
            "memory_nodes": self._db.scalar("MATCH (m:Memory) RETURN count(m)"),
            "entities": self._db.scalar("MATCH (e:Entity) RETURN count(e)"),
            "relations": self._db.scalar("MATCH ()-[r:RELATES]->() RETURN count(r)"),
        }

    def reset(self) -> None:
        with self._db.transaction():
            for label in ("Memory", "Entity", "Scope"):
                self._db.rows(f"MATCH (n:{label}) DETACH DELETE n")
        self._db.forget_estimates()
