"""Neo4jGraphStore: the graph port on a Neo4j 5 server over Bolt.

Every scope lookup is an index seek (indexes on the Memory scope properties
and on RELATES.memory_id); every value is a parameter; labels and relationship
types are fixed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from neo4j import Driver, GraphDatabase, ManagedTransaction, Query, RoutingControl
from neo4j import exceptions as neo4j_errors

from hybridmem.errors import StoreError, StoreUnavailableError
from hybridmem.models import Scope
from hybridmem.records import (
    EntityRecord,
    GraphDeleteCounts,
    MemoryGraph,
    MemoryNode,
    RelationRecord,
    graph_rows,
)
from hybridmem_neo4j._graph_reads import Neo4jGraphReads

T = TypeVar("T")

_SCHEMA = (
    "CREATE CONSTRAINT hybridmem_memory_id IF NOT EXISTS FOR (m:Memory) REQUIRE m.id IS UNIQUE",
    "CREATE CONSTRAINT hybridmem_entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE",
    "CREATE INDEX hybridmem_memory_user IF NOT EXISTS FOR (m:Memory) ON (m.user_id)",
    "CREATE INDEX hybridmem_memory_agent IF NOT EXISTS FOR (m:Memory) ON (m.agent_id)",
    "CREATE INDEX hybridmem_memory_run IF NOT EXISTS FOR (m:Memory) ON (m.run_id)",
    "CREATE INDEX hybridmem_entity_user IF NOT EXISTS FOR (e:Entity) ON (e.user_id)",
    "CREATE INDEX hybridmem_relates_memory IF NOT EXISTS FOR ()-[r:RELATES]-() ON (r.memory_id)",
)

# Fixed fragments chosen by which scope parts are present; values stay parameters.
_CONDITION = {
    "user_id": "{v}.user_id = $user_id",
    "agent_id": "{v}.agent_id = $agent_id",
    "run_id": "{v}.run_id = $run_id",
}

_MEMORY_FIELDS = "m.id, m.user_id, m.agent_id, m.run_id, m.created_at, m.updated_at"
_RELATION_FIELDS = (
    "r.id, r.type, a.id, b.id, r.memory_id, r.user_id, r.agent_id, r.run_id, r.created_at,"
    " a.name, b.name"
)
_UNUSED = "NOT EXISTS { (e)<-[:MENTIONS]-(:Memory) } AND NOT EXISTS { (e)-[:RELATES]-(:Entity) }"


def _where(scope: Scope, var: str) -> str:
    return " AND ".join(_CONDITION[name].format(v=var) for name in scope.parts())


def _outside(scope: Scope, var: str) -> str:
    inside = " AND ".join(
        f"coalesce({_CONDITION[name].format(v=var)}, false)" for name in scope.parts()
    )
    return f"NOT ({inside})"


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    native: datetime = value.to_native()
    return native if native.tzinfo else native.replace(tzinfo=UTC)


class Neo4jGraphStore(Neo4jGraphReads):
    name = "Neo4j graph store"

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        *,
        connection_timeout: float = 5.0,
        retry_seconds: float = 5.0,
    ) -> None:
        self.address = uri
        self._database = database
        try:
            self._driver: Driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                connection_timeout=connection_timeout,
                connection_acquisition_timeout=connection_timeout * 2,
                # An outage should fail within seconds, leaving the operation
                # pending in the journal, rather than retry for the default 30 s.
                max_transaction_retry_time=retry_seconds,
            )
            for statement in _SCHEMA:
                self._write(statement, {})
        except BaseException:
            self.close()
            raise

    # -- plumbing -------------------------------------------------------------------

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired, OSError) as exc:
            raise StoreUnavailableError(
                self.name, self.address, str(exc) or type(exc).__name__
            ) from None
        except neo4j_errors.AuthError as exc:
            raise StoreError(
                self.name, self.address, f"authentication failed: {exc.message}"
            ) from None
        except neo4j_errors.Neo4jError as exc:
            raise StoreError(self.name, self.address, exc.message or str(exc)) from None
        except neo4j_errors.DriverError as exc:
            raise StoreUnavailableError(self.name, self.address, str(exc)) from None

    def _read(self, query: str, params: dict[str, Any]) -> list[list[Any]]:
        records = self._call(
            lambda: (
                self._driver.execute_query(
                    query, params, database_=self._database, routing_=RoutingControl.READ
                ).records
            )
        )
        return [list(r.values()) for r in records]

    def _write(self, query: str, params: dict[str, Any]) -> Any:
        """One auto-retried write transaction; returns the result summary."""
        return self._call(
            lambda: self._driver.execute_query(query, params, database_=self._database).summary
        )

    def _in_transactions(self, query: str, params: dict[str, Any]) -> Any:
        """``CALL { … } IN TRANSACTIONS`` must run in an auto-commit transaction
        (session.run), not inside a managed one."""

        def run() -> Any:
            with self._driver.session(database=self._database) as session:
                return session.run(Query(query), params).consume()

        return self._call(run)

    def _transaction(self, work: Callable[[ManagedTransaction], T]) -> T:
        def run() -> T:
            with self._driver.session(database=self._database) as session:
                return session.execute_write(work)

        return self._call(run)

    # -- writes ---------------------------------------------------------------------

    def add_memories(self, memories: Sequence[MemoryGraph]) -> None:
        if not memories:
            return
        rows = graph_rows(memories)

        def work(tx: ManagedTransaction) -> None:
            tx.run(
                "UNWIND $nodes AS x MERGE (m:Memory {id: x.id}) ON CREATE SET"
                " m.user_id = x.user_id, m.agent_id = x.agent_id, m.run_id = x.run_id,"
                " m.created_at = x.created_at, m.updated_at = x.updated_at",
                nodes=rows.nodes,
            ).consume()
            tx.run(
                "UNWIND $entities AS x MERGE (e:Entity {id: x.id})"
                " ON CREATE SET e.name = x.name, e.type = x.type, e.user_id = x.ns",
                entities=rows.entities,
            ).consume()
            tx.run(
                "UNWIND $mentions AS x MATCH (m:Memory {id: x.m}), (e:Entity {id: x.e})"
                " MERGE (m)-[:MENTIONS]->(e)",
                mentions=rows.mentions,
            ).consume()
            tx.run(
                "UNWIND $relations AS x MATCH (a:Entity {id: x.source}), (b:Entity {id: x.target})"
                " MERGE (a)-[r:RELATES {id: x.id}]->(b) ON CREATE SET r.type = x.type,"
                " r.memory_id = x.memory_id, r.user_id = x.user_id, r.agent_id = x.agent_id,"
                " r.run_id = x.run_id, r.created_at = x.created_at",
                relations=rows.relations,
            ).consume()

        self._transaction(work)

    def touch_memory(self, memory_id: str, updated_at: datetime) -> bool:
        return bool(
            self._read_write(
                "MATCH (m:Memory {id: $id}) SET m.updated_at = $t RETURN m.id",
                {"id": memory_id, "t": updated_at},
            )
        )

    def _read_write(self, query: str, params: dict[str, Any]) -> list[list[Any]]:
        records = self._call(
            lambda: self._driver.execute_query(query, params, database_=self._database).records
        )
        return [list(r.values()) for r in records]

    def delete_memories(self, ids: Sequence[str]) -> GraphDeleteCounts:
        if not ids:
            return GraphDeleteCounts()
        params = {"ids": list(dict.fromkeys(ids))}

        def work(tx: ManagedTransaction) -> GraphDeleteCounts:
            touched = tx.run(
                "MATCH (m:Memory)-[:MENTIONS]->(e:Entity) WHERE m.id IN $ids"
                " RETURN collect(DISTINCT e.id) AS touched",
                params,
            ).single()
            relations = (
                tx.run("MATCH ()-[r:RELATES]->() WHERE r.memory_id IN $ids DELETE r", params)
                .consume()
                .counters.relationships_deleted
            )
            nodes = (
                tx.run("MATCH (m:Memory) WHERE m.id IN $ids DETACH DELETE m", params)
                .consume()
                .counters.nodes_deleted
            )
            # Only the entities these memories touched are candidates: never a scan.
            orphans = (
                tx.run(
                    f"MATCH (e:Entity) WHERE e.id IN $touched AND {_UNUSED} DETACH DELETE e",
                    touched=touched["touched"] if touched else [],
                )
                .consume()
                .counters.nodes_deleted
            )
            return GraphDeleteCounts(nodes, relations, orphans)

        return self._transaction(work)

    # -- reads ----------------------------------------------------------------------

    def get_memory_node(self, memory_id: str) -> MemoryNode | None:
        rows = self._read(
            f"MATCH (m:Memory {{id: $id}}) RETURN {_MEMORY_FIELDS}", {"id": memory_id}
        )
        if not rows:
            return None
        r = rows[0]
        return MemoryNode(r[0], r[1], r[2], r[3], _time(r[4]), _time(r[5]))

    def scope_memory_ids(self, scope: Scope, limit: int) -> list[str]:
        rows = self._read(
            f"MATCH (m:Memory) WHERE {_where(scope, 'm')} RETURN m.id LIMIT $limit",
            {**scope.parts(), "limit": limit},
        )
        return [r[0] for r in rows]

    def existing_memory_ids(self, ids: Sequence[str]) -> set[str]:
        rows = self._read("MATCH (m:Memory) WHERE m.id IN $ids RETURN m.id", {"ids": list(ids)})
        return {r[0] for r in rows}

    def count_scope(self, scope: Scope) -> GraphDeleteCounts:
        params = dict(scope.parts())
        where = _where(scope, "m")
        nodes = self._read(f"MATCH (m:Memory) WHERE {where} RETURN count(m)", params)[0][0]
        relations = self._read(
            f"MATCH (m:Memory) WHERE {where} MATCH ()-[r:RELATES {{memory_id: m.id}}]->()"
            " RETURN count(r)",
            params,
        )[0][0]
        orphans = self._read(
            f"MATCH (m:Memory) WHERE {where} MATCH (m)-[:MENTIONS]->(e:Entity) WITH DISTINCT e"
            " WHERE NOT EXISTS { MATCH (e)<-[:MENTIONS]-(o:Memory)"
            f" WHERE {_outside(scope, 'o')} }}"
            f" AND NOT EXISTS {{ MATCH (e)-[x:RELATES]-(:Entity) WHERE {_outside(scope, 'x')} }}"
            " RETURN count(e)",
            params,
        )[0][0]
        return GraphDeleteCounts(int(nodes), int(relations), int(orphans))

    def entities(self, user_id: str | None = None) -> list[EntityRecord]:
        if user_id is None:
            rows = self._read("MATCH (e:Entity) RETURN e.id, e.name, e.type, e.user_id", {})
        else:
            rows = self._read(
                "MATCH (e:Entity) WHERE e.user_id = $u RETURN e.id, e.name, e.type, e.user_id",
                {"u": user_id},
            )
        return [EntityRecord(r[0], r[1], r[2], r[3]) for r in rows]

    def relations(self, scope: Scope | None = None) -> list[tuple[RelationRecord, str, str]]:
        if scope is None or scope.is_empty():
            rows = self._read(
                f"MATCH (a:Entity)-[r:RELATES]->(b:Entity) RETURN {_RELATION_FIELDS}", {}
            )
        else:
            rows = self._read(
                f"MATCH (m:Memory) WHERE {_where(scope, 'm')}"
                f" MATCH (a:Entity)-[r:RELATES {{memory_id: m.id}}]->(b:Entity)"
                f" RETURN {_RELATION_FIELDS}",
                dict(scope.parts()),
            )
        return [
            (
                RelationRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _time(r[8])),
                r[9],
                r[10],
            )
            for r in rows
        ]

    # -- whole-store scans -----------------------------------------------------------

    def iter_memory_ids(self, batch_size: int) -> Iterator[list[str]]:
        last = ""
        while True:
            rows = self._read(
                "MATCH (m:Memory) WHERE m.id > $last RETURN m.id ORDER BY m.id LIMIT $n",
                {"last": last, "n": batch_size},
            )
            if not rows:
                return
            batch = [r[0] for r in rows]
            yield batch
            last = batch[-1]

    def reconcile_entities(self, fix: bool) -> int:
        if not fix:
            return int(self._read(f"MATCH (e:Entity) WHERE {_UNUSED} RETURN count(e)", {})[0][0])
        summary = self._in_transactions(
            f"MATCH (e:Entity) WHERE {_UNUSED}"
            " CALL (e) { DETACH DELETE e } IN TRANSACTIONS OF 10000 ROWS",
            {},
        )
        return int(summary.counters.nodes_deleted)

    def reconcile_relations(self, fix: bool, protected: Sequence[str]) -> int:
        where = (
            "MATCH ()-[r:RELATES]->() WHERE NOT EXISTS { MATCH (:Memory {id: r.memory_id}) }"
            " AND NOT r.memory_id IN $protected"
        )
        params = {"protected": list(protected)}
        if not fix:
            return int(self._read(f"{where} RETURN count(r)", params)[0][0])
        summary = self._in_transactions(
            f"{where} CALL (r) {{ DELETE r }} IN TRANSACTIONS OF 10000 ROWS", params
        )
        return int(summary.counters.relationships_deleted)

    def stats(self) -> dict[str, int]:
        return {
            "memory_nodes": int(self._read("MATCH (m:Memory) RETURN count(m)", {})[0][0]),
            "entities": int(self._read("MATCH (e:Entity) RETURN count(e)", {})[0][0]),
            "relations": int(self._read("MATCH ()-[r:RELATES]->() RETURN count(r)", {})[0][0]),
        }

    def reset(self) -> None:
        self._in_transactions(
            "MATCH (n) WHERE n:Memory OR n:Entity"
            " CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
            {},
        )

    def close(self) -> None:
        driver = getattr(self, "_driver", None)
        if driver is not None:
            driver.close()
