"""A Neo4j database written by hybridmem before label prefixes (issue 15): the store
refuses to open it, naming the command that migrates it, and that command moves
exactly this store's data, journaled, resuming after an interruption."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, GraphDatabase
from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import app
from hybridmem.errors import ConfigurationError, MigrationRequiredError
from hybridmem.journal import Journal
from hybridmem.label_migration import KIND, migrate_graph_labels
from hybridmem.models import Scope
from hybridmem.records import graph_rows
from hybridmem.testing.builders import memory_graph, vector_record
from hybridmem_kuzu import KuzuVectorStore
from hybridmem_neo4j.legacy import LEGACY_CONSTRAINTS, LEGACY_INDEXES
from tests.servers.neo4j import Neo4jServer

pytestmark = pytest.mark.neo4j

# The schema and writes of the unprefixed layout, as hybridmem 0.1 ran them.
LEGACY_SCHEMA = (
    "CREATE CONSTRAINT hybridmem_memory_id IF NOT EXISTS FOR (m:Memory) REQUIRE m.id IS UNIQUE",
    "CREATE CONSTRAINT hybridmem_entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE",
    "CREATE INDEX hybridmem_memory_user IF NOT EXISTS FOR (m:Memory) ON (m.user_id)",
    "CREATE INDEX hybridmem_memory_agent IF NOT EXISTS FOR (m:Memory) ON (m.agent_id)",
    "CREATE INDEX hybridmem_memory_run IF NOT EXISTS FOR (m:Memory) ON (m.run_id)",
    "CREATE INDEX hybridmem_entity_user IF NOT EXISTS FOR (e:Entity) ON (e.user_id)",
    "CREATE INDEX hybridmem_relates_memory IF NOT EXISTS FOR ()-[r:RELATES]-() ON (r.memory_id)",
)
LEGACY_WRITES = (
    (
        "nodes",
        "UNWIND $rows AS x MERGE (m:Memory {id: x.id}) ON CREATE SET"
        " m.user_id = x.user_id, m.agent_id = x.agent_id, m.run_id = x.run_id,"
        " m.created_at = x.created_at, m.updated_at = x.updated_at",
    ),
    (
        "entities",
        "UNWIND $rows AS x MERGE (e:Entity {id: x.id})"
        " ON CREATE SET e.name = x.name, e.type = x.type, e.user_id = x.ns",
    ),
    (
        "mentions",
        "UNWIND $rows AS x MATCH (m:Memory {id: x.m}), (e:Entity {id: x.e})"
        " MERGE (m)-[:MENTIONS]->(e)",
    ),
    (
        "relations",
        "UNWIND $rows AS x MATCH (a:Entity {id: x.source}), (b:Entity {id: x.target})"
        " MERGE (a)-[r:RELATES {id: x.id}]->(b) ON CREATE SET r.type = x.type,"
        " r.memory_id = x.memory_id, r.user_id = x.user_id, r.agent_id = x.agent_id,"
        " r.run_id = x.run_id, r.created_at = x.created_at",
    ),
)
# Five memories: alice's share the entity Lisbon, bob's are his own.
MEMORIES = [
    (f"legacy-{i}", Scope(user_id=user), ((f"{user}-{i}", "person"), ("Lisbon", "city")))
    for i, user in enumerate(["alice", "alice", "alice", "bob", "bob"])
]
FOREIGN = (
    "CREATE (m:Memory:ForeignApp {id: 'f-mem', user_id: 'alice',"
    " created_at: datetime(), updated_at: datetime()})"
    "-[:MENTIONS]->(:Entity:ForeignApp {id: 'f-ent', name: 'Foreign'})"
)


def _clean(driver: Driver) -> None:
    for name in LEGACY_CONSTRAINTS:
        driver.execute_query(f"DROP CONSTRAINT {name} IF EXISTS")
    for name in LEGACY_INDEXES:
        driver.execute_query(f"DROP INDEX {name} IF EXISTS")
    driver.execute_query("MATCH (n:ForeignApp) DETACH DELETE n")
    # Nothing else in the test database uses the unprefixed labels.
    driver.execute_query("MATCH (n) WHERE n:Memory OR n:Entity DETACH DELETE n")


@pytest.fixture
def driver(neo4j_server: Neo4jServer) -> Iterator[Driver]:
    with GraphDatabase.driver(
        neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password)
    ) as opened:
        _clean(opened)
        try:
            yield opened
        finally:
            # Left behind, the old schema would make every later store refuse to open.
            _clean(opened)


def _write_legacy(driver: Driver, data_dir: Path) -> None:
    for statement in LEGACY_SCHEMA:
        driver.execute_query(statement)
    graphs = [
        memory_graph(label, scope, entities, ((entities[0][0], "Lisbon", "lives in"),))
        for label, scope, entities in MEMORIES
    ]
    rows = graph_rows(graphs)
    for field, statement in LEGACY_WRITES:
        driver.execute_query(statement, rows=getattr(rows, field))
    driver.execute_query(FOREIGN)
    vectors = KuzuVectorStore(data_dir / "vectors.kuzu")
    try:
        vectors.upsert([vector_record(label, scope) for label, scope, _ in MEMORIES])
    finally:
        vectors.close()


def _foreign(driver: Driver) -> list[Any]:
    return driver.execute_query(
        "MATCH (n:ForeignApp) OPTIONAL MATCH (n)-[r]->() RETURN labels(n), n.id, type(r)"
        " ORDER BY n.id"
    ).records


def test_old_layout_is_refused_then_migrated_resuming_after_an_interruption(
    driver: Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    config: dict[str, Any] = {
        "data_dir": str(data_dir),
        "graph": neo4j_server.graph_config(),
        "vector": {"provider": "kuzu"},
        "batch_size": 2,
    }
    _write_legacy(driver, data_dir)
    foreign = [list(r.values()) for r in _foreign(driver)]

    with pytest.raises(MigrationRequiredError) as refused:
        HybridStore(config)
    assert "hybridmem migrate-neo4j-labels" in str(refused.value)
    assert "hybridmem_memory_id" in str(refused.value)

    # Another store's configuration (its vector store holds none of these ids)
    # migrates nothing and leaves the layout, so this store keeps refusing.
    stranger = {**config, "data_dir": str(tmp_path / "stranger")}
    with pytest.raises(ConfigurationError, match="another store's"):
        migrate_graph_labels(stranger)
    with pytest.raises(MigrationRequiredError):
        HybridStore(config)

    def interrupt(counts: dict[str, int]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        migrate_graph_labels(config, progress=interrupt)
    journal = Journal(data_dir / "journal.sqlite3")
    try:
        (pending,) = [op for op in journal.pending() if op.kind == KIND]
        assert pending.counts["memory_nodes"] == 2
    finally:
        journal.close()
    with pytest.raises(MigrationRequiredError):
        HybridStore(config)

    toml = tmp_path / "hybridmem.toml"
    graph = "".join(f"{k} = {json.dumps(v)}\n" for k, v in config["graph"].items())
    toml.write_text(
        f"data_dir = {json.dumps(str(data_dir))}\nbatch_size = 2\n[graph]\n{graph}"
        '[vector]\nprovider = "kuzu"\n'
    )
    result = CliRunner().invoke(app, ["migrate-neo4j-labels", "--config", str(toml), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["memory_nodes"] == 5 and counts["relations"] == 5
    assert counts["entities"] == 7  # alice-0..2, bob-3, bob-4 and each user's Lisbon
    assert counts["left_memory_nodes"] == 1  # the other application's, untouched
    journal = Journal(data_dir / "journal.sqlite3")
    try:
        resumed = journal.operation(pending.id)
        assert resumed is not None and resumed.state == "done"
        assert resumed.counts["memory_nodes"] == 5
    finally:
        journal.close()

    assert [list(r.values()) for r in _foreign(driver)] == foreign
    with HybridStore(config) as store:
        stats = store.stats()
        assert (stats["memory_nodes"], stats["entities"], stats["relations"]) == (5, 7, 5)
        assert store.reconcile().found.total() == 0
        assert len(store.relations(user_id="alice")) == 3
        result_all = store.delete_all(user_id="alice")
        assert (result_all.memory_nodes, result_all.relations) == (3, 3)
        assert sorted(e.name for e in store.entities()) == ["Lisbon", "bob-3", "bob-4"]
        store.reset()
    assert [list(r.values()) for r in _foreign(driver)] == foreign

    again = CliRunner().invoke(app, ["migrate-neo4j-labels", "--config", str(toml)])
    assert again.exit_code == 0 and "nothing to migrate" in again.output
