"""Neo4jGraphStore: the graph port on a Neo4j 5 server over Bolt.

Every scope lookup is an index seek (indexes on the memory nodes' scope
properties and on RELATES.memory_id); every value is a parameter. Labels,
relationship types and schema names carry the store's label prefix (names.py),
so a store matches only what it wrote, even in a database it shares.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from neo4j import GraphDatabase, ManagedTransaction

from hybridmem.errors import ForeignDataError
from hybridmem.models import Scope, ScopeField
from hybridmem.records import (
    EntityRecord,
    GraphDeleteCounts,
    MemoryGraph,
    MemoryNode,
    RelationRecord,
    RelationWithNames,
    graph_rows,
)
from hybridmem_neo4j._graph_reads import Neo4jGraphReads
from hybridmem_neo4j._graph_session import WRITE_TIMEOUT_SECONDS
from hybridmem_neo4j.names import DEFAULT_LABEL_PREFIX, Names

#: Set and removed in one transaction, only for the write lock it takes on a node.
LOCK_PROPERTY = "_hybridmem_lock"
# Rows per inner transaction of the whole-store sweeps (reset, orphans, dangling
# relations): 10,000 memory nodes with their edges exceeded a 512 MB heap's
# transaction memory pool when reset() met 100k memories.
ROWS_PER_TRANSACTION = 1000
#: How long opening a store waits for its relation id index to be built (a store
#: written before the index existed builds it on first open).
INDEX_WAIT_SECONDS = 600


_MEMORY_FIELDS = "m.id, m.user_id, m.agent_id, m.run_id, m.created_at, m.updated_at"
_RELATION_FIELDS = (
    "r.id, r.type, a.id, b.id, r.memory_id, r.user_id, r.agent_id, r.run_id, r.created_at,"
    " a.name, b.name"
)


def _equals(var: str, field: ScopeField) -> str:
    # The property and parameter name is a scope field (a fixed set); the value a parameter.
    return f"{var}.{field} = ${field}"


def _where(scope: Scope, var: str) -> str:
    return " AND ".join(_equals(var, name) for name, _ in scope.terms())


def _outside(scope: Scope, var: str) -> str:
    inside = " AND ".join(f"coalesce({_equals(var, name)}, false)" for name, _ in scope.terms())
    return f"NOT ({inside})"


_SCOPE_PROPERTIES = {"user_id", "agent_id", "run_id"}
_TIME_PROPERTIES = {"created_at", "updated_at"}


def _alien(field: str, value: Any) -> bool:
    """True when ``value`` cannot be what hybridmem wrote into ``field`` (``m.user_id``)."""
    prop = field.rsplit(".", 1)[-1]
    if prop in _SCOPE_PROPERTIES:
        return value is not None and not isinstance(value, str)
    if prop in _TIME_PROPERTIES:
        return not isinstance(value, datetime) and not hasattr(value, "to_native")
    return not isinstance(value, str)


def relation_write(n: Names) -> str:
    """The write of relation rows. MERGE of an edge between two bound entities walks
    their edges of that type (Expand(Into)), thousands per row for a much-mentioned
    pair, so a load slowed as the store grew. The id index finds an existing edge
    at once; an edge is created where none of that id joins the same two entities,
    as MERGE would. Same-id writes are serialised by the coordinator's claims. The
    seek is a hint because on a small store the planner's estimates are zero and it
    sometimes chose a scan of the whole index per row instead (the same quadratic)."""
    return (
        f"UNWIND $relations AS x MATCH (a:{n.entity} {{id: x.source}}),"
        f" (b:{n.entity} {{id: x.target}})"
        f" OPTIONAL MATCH ()-[o:{n.relates} {{id: x.id}}]->() USING INDEX SEEK o:{n.relates}(id)"
        " WITH a, b, x, collect(o) AS found"
        " WHERE none(o IN found WHERE startNode(o) = a AND endNode(o) = b)"
        f" CREATE (a)-[r:{n.relates} {{id: x.id}}]->(b) SET r.type = x.type,"
        " r.memory_id = x.memory_id, r.user_id = x.user_id, r.agent_id = x.agent_id,"
        " r.run_id = x.run_id, r.created_at = datetime(x.created_at)"
    )


def _distinct_relations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per edge (id, source, target): the write checks for existing edges
    before it creates any, so a repeated row would be created twice."""
    seen: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
    for row in rows:
        seen.setdefault((row["id"], row["source"], row["target"]), row)
    return list(seen.values())


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    native: datetime = value.to_native()
    return native if native.tzinfo else native.replace(tzinfo=UTC)


class Neo4jGraphStore(Neo4jGraphReads):
    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        *,
        connection_timeout: float = 5.0,
        retry_seconds: float = 5.0,
        label_prefix: str = DEFAULT_LABEL_PREFIX,
        write_timeout: float = WRITE_TIMEOUT_SECONDS,
    ) -> None:
        self.address = uri
        self._database = database
        self.write_timeout = write_timeout
        self._n = Names(label_prefix)
        try:
            self._driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                connection_timeout=connection_timeout,
                connection_acquisition_timeout=connection_timeout * 2,
                # An outage should fail within seconds, leaving the operation
                # pending in the journal, rather than retry for the default 30 s.
                max_transaction_retry_time=retry_seconds,
            )
            for statement in self._n.schema():
                self._write(statement, {})
            # Writes rely on the relation id index (see add_memories): an index new to
            # a large store is built before the first write, not raced by it.
            self._write(
                "CALL db.awaitIndex($name, $seconds)",
                {
                    "name": self._n.schema_name("relates_id").strip("`"),
                    "seconds": INDEX_WAIT_SECONDS,
                },
            )
        except BaseException:
            self.close()
            raise

    @property
    def label_prefix(self) -> str:
        return self._n.prefix

    # -- writes ---------------------------------------------------------------------

    def add_memories(self, memories: Sequence[MemoryGraph], *, fresh: bool = False) -> None:
        if not memories:
            return
        # Times travel as ISO text and become DateTimes in Cypher: the driver's
        # packing of a Python datetime cost ~13% of a load (3 per memory).
        rows = graph_rows(memories, datetime.isoformat)
        n = self._n

        # One statement (its parts in order, each seeing the ones before): one round
        # trip instead of four inside the transaction, a third of a single add's
        # graph time on the server pair.
        query = (
            f"CALL () {{ UNWIND $nodes AS x MERGE (m:{n.memory} {{id: x.id}}) ON CREATE SET"
            " m.user_id = x.user_id, m.agent_id = x.agent_id, m.run_id = x.run_id,"
            " m.created_at = datetime(x.created_at), m.updated_at = datetime(x.updated_at) }"
            f" CALL () {{ UNWIND $entities AS x MERGE (e:{n.entity} {{id: x.id}})"
            " ON CREATE SET e.name = x.name, e.type = x.type, e.user_id = x.ns }"
            f" CALL () {{ UNWIND $mentions AS x MATCH (m:{n.memory} {{id: x.m}}),"
            f" (e:{n.entity} {{id: x.e}}) MERGE (m)-[:{n.mentions}]->(e) }}"
            f" CALL () {{ {relation_write(n)} }}"
        )

        def work(tx: ManagedTransaction) -> None:
            tx.run(
                query,
                nodes=rows.nodes,
                entities=rows.entities,
                mentions=rows.mentions,
                relations=_distinct_relations(rows.relations),
            ).consume()

        self._transaction(work)

    def touch_memory(self, memory_id: str, updated_at: datetime) -> bool:
        return bool(
            self._read_write(
                f"MATCH (m:{self._n.memory} {{id: $id}}) SET m.updated_at = $t RETURN m.id",
                {"id": memory_id, "t": updated_at},
            )
        )

    def delete_memories(self, ids: Sequence[str]) -> GraphDeleteCounts:
        if not ids:
            return GraphDeleteCounts()
        params = {"ids": list(dict.fromkeys(ids))}
        n = self._n

        # One statement, one round trip (it was five), and each memory node is
        # looked up once. The entities the memories mention are write-locked in id
        # order (two deletes cannot deadlock) before their use is judged: without
        # the lock, two deletes of memories sharing an entity each see the other's
        # mention, both keep it, and it is left an orphan. Only those entities are
        # orphan candidates: never a scan. Each part sees the writes of the ones
        # before it.
        query = (
            f"MATCH (m:{n.memory}) WHERE m.id IN $ids WITH collect(m) AS ms"
            f" CALL (ms) {{ UNWIND ms AS m MATCH (m)-[:{n.mentions}]->(e:{n.entity})"
            " WITH DISTINCT e ORDER BY e.id"
            f" SET e.{LOCK_PROPERTY} = true REMOVE e.{LOCK_PROPERTY}"
            " RETURN collect(e) AS touched }"
            f" CALL () {{ MATCH ()-[r:{n.relates}]->() WHERE r.memory_id IN $ids DELETE r"
            " RETURN count(r) AS relations }"
            " CALL (ms) { UNWIND ms AS m DETACH DELETE m RETURN count(m) AS nodes }"
            f" CALL (touched) {{ UNWIND touched AS e WITH e WHERE {n.unused()}"
            " DETACH DELETE e RETURN count(e) AS orphans }"
            " RETURN relations, nodes, orphans"
        )

        def work(tx: ManagedTransaction) -> GraphDeleteCounts:
            row = tx.run(query, params).single(strict=True)
            return GraphDeleteCounts(row["nodes"], row["relations"], row["orphans"])

        return self._transaction(work)

    # -- reads ----------------------------------------------------------------------

    def get_memory_node(self, memory_id: str) -> MemoryNode | None:
        rows = self._ours(
            "memory node",
            _MEMORY_FIELDS,
            self._read(
                f"MATCH (m:{self._n.memory} {{id: $id}}) RETURN {_MEMORY_FIELDS}, elementId(m)",
                {"id": memory_id},
            ),
        )
        if not rows:
            return None
        r = rows[0]
        return MemoryNode(r[0], r[1], r[2], r[3], _time(r[4]), _time(r[5]))

    def scope_memory_ids(self, scope: Scope, limit: int) -> list[str]:
        # One record: a record per id cost a Bolt message each (a quarter of a 1k
        # delete_all). collect() keeps a pair holding a null id, for _ours to refuse.
        collected = self._read(
            f"MATCH (m:{self._n.memory}) WHERE {_where(scope, 'm')}"
            " WITH m LIMIT $limit RETURN collect([m.id, elementId(m)])",
            {**scope.parts(), "limit": limit},
        )
        rows = self._ours("memory node", "m.id", [list(pair) for pair in collected[0][0]])
        return [r[0] for r in rows]

    def existing_memory_ids(self, ids: Sequence[str]) -> set[str]:
        rows = self._read(
            f"MATCH (m:{self._n.memory}) WHERE m.id IN $ids RETURN collect(m.id)",
            {"ids": list(ids)},
        )
        return set(rows[0][0])

    def count_scope(self, scope: Scope) -> GraphDeleteCounts:
        params = dict(scope.parts())
        where = _where(scope, "m")
        n = self._n
        nodes = self._read(f"MATCH (m:{n.memory}) WHERE {where} RETURN count(m)", params)[0][0]
        relations = self._read(
            f"MATCH (m:{n.memory}) WHERE {where}"
            f" MATCH ()-[r:{n.relates} {{memory_id: m.id}}]->()"
            " RETURN count(r)",
            params,
        )[0][0]
        orphans = self._read(
            f"MATCH (m:{n.memory}) WHERE {where} MATCH (m)-[:{n.mentions}]->(e:{n.entity})"
            " WITH DISTINCT e"
            f" WHERE NOT EXISTS {{ MATCH (e)<-[:{n.mentions}]-(o:{n.memory})"
            f" WHERE {_outside(scope, 'o')} }}"
            f" AND NOT EXISTS {{ MATCH (e)-[x:{n.relates}]-(:{n.entity})"
            f" WHERE {_outside(scope, 'x')} }}"
            " RETURN count(e)",
            params,
        )[0][0]
        return GraphDeleteCounts(int(nodes), int(relations), int(orphans))

    def entities(self, user_id: str | None = None) -> list[EntityRecord]:
        fields = "e.id, e.name, e.type, e.user_id"
        if user_id is None:
            rows = self._read(f"MATCH (e:{self._n.entity}) RETURN {fields}, elementId(e)", {})
        else:
            rows = self._read(
                f"MATCH (e:{self._n.entity}) WHERE e.user_id = $u RETURN {fields}, elementId(e)",
                {"u": user_id},
            )
        return [EntityRecord(r[0], r[1], r[2], r[3]) for r in self._ours("entity", fields, rows)]

    def relations(self, scope: Scope | None = None) -> list[RelationWithNames]:
        n = self._n
        if scope is None or scope.is_empty():
            rows = self._read(
                f"MATCH (a:{n.entity})-[r:{n.relates}]->(b:{n.entity})"
                f" RETURN {_RELATION_FIELDS}, elementId(r)",
                {},
            )
        else:
            rows = self._read(
                f"MATCH (m:{n.memory}) WHERE {_where(scope, 'm')}"
                f" MATCH (a:{n.entity})-[r:{n.relates} {{memory_id: m.id}}]->(b:{n.entity})"
                f" RETURN {_RELATION_FIELDS}, elementId(r)",
                dict(scope.parts()),
            )
        return [
            RelationWithNames(
                RelationRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _time(r[8])),
                r[9],
                r[10],
            )
            for r in self._ours("relation", _RELATION_FIELDS, rows)
        ]

    def _still_there(self, kind: str, element_id: str) -> bool:
        pattern = "()-[x]->()" if kind == "relation" else "(x)"
        rows = self._read(
            f"MATCH {pattern} WHERE elementId(x) = $e RETURN count(x)", {"e": element_id}
        )
        return bool(rows[0][0])

    def _stamp(self, value: Any) -> datetime:
        return _time(value)

    def _ours(self, kind: str, fields: str, rows: list[list[Any]]) -> list[list[Any]]:
        """Rows whose last column is the element id, without it; a row that lacks one of
        hybridmem's properties is something this store did not write, and reading it
        raises ForeignDataError naming it rather than a validation traceback later."""
        names = [field.strip() for field in fields.split(",")]
        checked = []
        for row in rows:
            *values, element_id = row
            wrong = [name for name, value in zip(names, values, strict=True) if _alien(name, value)]
            if wrong and not self._still_there(kind, element_id):
                # Deleted by a transaction that committed while this read ran (read
                # committed: a racing erasure's node can come back without properties).
                continue
            if wrong:
                raise ForeignDataError(
                    self.name,
                    self.address,
                    f"{kind} {values[0]!r} (element id {element_id}) carries this store's"
                    f" label prefix {self._n.prefix!r} but not hybridmem's properties"
                    f" ({', '.join(wrong)} missing or of the wrong type): hybridmem did not write"
                    " it. Another application must not use this store's labels; give it"
                    " other labels or this store another label_prefix.",
                )
            checked.append(values)
        return checked

    # -- whole-store scans -----------------------------------------------------------

    def iter_memory_ids(self, batch_size: int) -> Iterator[list[str]]:
        last = ""
        while True:
            rows = self._read(
                f"MATCH (m:{self._n.memory}) WHERE m.id > $last RETURN m.id ORDER BY m.id LIMIT $n",
                {"last": last, "n": batch_size},
            )
            if not rows:
                return
            batch = [r[0] for r in rows]
            yield batch
            last = batch[-1]

    def count_orphan_entities(self) -> int:
        n = self._n
        return int(self._read(f"MATCH (e:{n.entity}) WHERE {n.unused()} RETURN count(e)", {})[0][0])

    def delete_orphan_entities(self) -> int:
        n = self._n
        summary = self._in_transactions(
            f"MATCH (e:{n.entity}) WHERE {n.unused()}"
            f" CALL (e) {{ DETACH DELETE e }} IN TRANSACTIONS OF {ROWS_PER_TRANSACTION} ROWS",
            {},
        )
        return int(summary.counters.nodes_deleted)

    def _dangling(self) -> str:
        n = self._n
        return (
            f"MATCH ()-[r:{n.relates}]->()"
            f" WHERE NOT EXISTS {{ MATCH (:{n.memory} {{id: r.memory_id}}) }}"
            " AND NOT r.memory_id IN $protected"
        )

    def count_dangling_relations(self, protected: Sequence[str]) -> int:
        params = {"protected": list(protected)}
        return int(self._read(f"{self._dangling()} RETURN count(r)", params)[0][0])

    def delete_dangling_relations(self, protected: Sequence[str]) -> int:
        params = {"protected": list(protected)}
        summary = self._in_transactions(
            f"{self._dangling()} CALL (r) {{ DELETE r }}"
            f" IN TRANSACTIONS OF {ROWS_PER_TRANSACTION} ROWS",
            params,
        )
        return int(summary.counters.relationships_deleted)

    def stats(self) -> dict[str, int]:
        n = self._n
        return {
            "memory_nodes": int(self._read(f"MATCH (m:{n.memory}) RETURN count(m)", {})[0][0]),
            "entities": int(self._read(f"MATCH (e:{n.entity}) RETURN count(e)", {})[0][0]),
            "relations": int(self._read(f"MATCH ()-[r:{n.relates}]->() RETURN count(r)", {})[0][0]),
        }

    def reset(self) -> None:
        # The relations first, in bounded transactions: a thousand much-related
        # entities detached at once held a million edges in one transaction and
        # passed Neo4j's transaction memory limit (a 1M store, 2 GB heap).
        self._in_transactions(
            f"MATCH ()-[r:{self._n.relates}]->() CALL (r) {{ DELETE r }}"
            f" IN TRANSACTIONS OF {ROWS_PER_TRANSACTION} ROWS",
            {},
        )
        # Label by label, never "MATCH (n)": only nodes carrying this store's labels.
        for label in (self._n.memory, self._n.entity):
            self._in_transactions(
                f"MATCH (n:{label}) CALL (n) {{ DETACH DELETE n }}"
                f" IN TRANSACTIONS OF {ROWS_PER_TRANSACTION} ROWS",
                {},
            )

    def close(self) -> None:
        driver = getattr(self, "_driver", None)
        if driver is not None:
            driver.close()
