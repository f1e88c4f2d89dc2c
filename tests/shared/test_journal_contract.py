"""The journal contract on the SQLite journal and on the Neo4j shared journal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.journal import Journal
from hybridmem.journal_port import JournalPort
from hybridmem.testing.journal_contract import JournalContract
from hybridmem_neo4j.bolt import Bolt
from hybridmem_neo4j.journal import Neo4jJournal
from hybridmem_neo4j.leases import SharedState
from hybridmem_neo4j.names import Names
from hybridmem_neo4j.pytest_server import Neo4jServer
from hybridmem_neo4j.shared_names import SharedNames
from tests.conftest import selected_pairs
from tests.shared.state import wipe_shared_state

PREFIX = "JournalContract"


class TestSqliteJournal(JournalContract):
    @pytest.fixture
    def journal(self, tmp_path: Path) -> Iterator[JournalPort]:
        journal = Journal(tmp_path / "journal.sqlite3")
        yield journal
        journal.close()


@pytest.mark.neo4j
@pytest.mark.skipif(
    not any("neo4j" in p for p in selected_pairs()), reason="no Neo4j pair selected"
)
class TestNeo4jJournal(JournalContract):
    @pytest.fixture
    def journal(self, neo4j_server: Neo4jServer, tmp_path: Path) -> Iterator[JournalPort]:
        graph = neo4j_server.graph_config()
        wipe_shared_state(graph, PREFIX)
        bolt = Bolt(
            graph["uri"],
            graph["user"],
            graph["password"],
            graph["database"],
            connection_timeout=5.0,
            retry_seconds=5.0,
        )
        state = SharedState(
            bolt,
            SharedNames(Names(PREFIX)),
            str(uuid.uuid4()),
            lease_seconds=15.0,
            claim_timeout=5.0,
        )
        journal = Neo4jJournal(state, tmp_path / "journal.sqlite3")
        yield journal
        journal.close()
        wipe_shared_state(graph, PREFIX)
