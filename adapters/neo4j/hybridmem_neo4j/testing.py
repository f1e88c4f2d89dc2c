"""Neo4j as the pair suites of ``hybridmem.testing`` open it.

Registered under the ``hybridmem.testing`` entry point: the graph backend ``neo4j``
(a server from the ``neo4j_server`` fixture, whose value has ``graph_config()``; a
label prefix per pair, not the default one, so a query with a hard-coded label
would miss the store's data) and the pair ``neo4j+kuzu``.
"""

from __future__ import annotations

import re
from typing import Any

from hybridmem.testing.cypher_witness import CypherGraphWitness
from hybridmem.testing.pair_registry import Registration, SectionRequest, TestBackend, TestPair
from hybridmem_neo4j.graph import Neo4jGraphStore

_LABEL = re.compile(r"(?<=:)(Memory|Entity|MENTIONS|RELATES)\b")


def _section(role: str, request: SectionRequest) -> dict[str, Any]:
    section: dict[str, Any] = request.server.graph_config()
    section["label_prefix"] = f"Pair{request.partner.capitalize()}"
    return section


def _graph_witness(graph: Any) -> CypherGraphWitness:
    names = graph._n
    own = {
        "Memory": names.memory,
        "Entity": names.entity,
        "MENTIONS": names.mentions,
        "RELATES": names.relates,
    }

    def run(query: str, params: dict[str, Any]) -> list[list[Any]]:
        records = graph._driver.execute_query(
            _LABEL.sub(lambda m: own[m.group(1)], query), params, database_=graph._database
        ).records
        return [list(record.values()) for record in records]

    return CypherGraphWitness(run)


registration = Registration(
    backends=(
        TestBackend(
            name="neo4j",
            provider="neo4j",
            section=_section,
            marks=("neo4j",),
            server_fixture="neo4j_server",
            pytest_plugin="hybridmem_neo4j.pytest_server",
            launcher="hybridmem_neo4j.native_server:launcher",
            persistent=True,
            graph_witness=_graph_witness,
            stores=(Neo4jGraphStore,),
        ),
    ),
    pairs=(TestPair("neo4j+kuzu"),),
)
