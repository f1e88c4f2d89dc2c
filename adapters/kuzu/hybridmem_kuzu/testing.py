"""The embedded stores as the pair suites of ``hybridmem.testing`` open them.

Registered under the ``hybridmem.testing`` entry point: the backend ``kuzu`` (both
roles, no server, a fresh file per test) and the pair ``kuzu+kuzu``.
"""

from __future__ import annotations

from typing import Any

from hybridmem.testing.cypher_witness import CypherGraphWitness
from hybridmem.testing.pair_registry import Registration, SectionRequest, TestBackend, TestPair
from hybridmem_kuzu.graph import KuzuGraphStore
from hybridmem_kuzu.vector import KuzuVectorStore


def _section(role: str, request: SectionRequest) -> dict[str, Any]:
    return {"provider": "kuzu"}


def _graph_witness(graph: Any) -> CypherGraphWitness:
    return CypherGraphWitness(lambda query, params: list(graph._db.rows(query, params)))


class KuzuVectorWitness:
    def __init__(self, vector: Any) -> None:
        self._db = vector._db

    def vector_ids(self) -> set[str]:
        tables = {row[1] for row in self._db.rows("CALL show_tables() RETURN *")}
        if "Vec" not in tables:
            return set()
        return {row[0] for row in self._db.rows("MATCH (v:Vec) RETURN v.id")}


registration = Registration(
    backends=(
        TestBackend(
            name="kuzu",
            provider="kuzu",
            section=_section,
            graph_witness=_graph_witness,
            vector_witness=KuzuVectorWitness,
            stores=(KuzuGraphStore, KuzuVectorStore),
        ),
    ),
    pairs=(TestPair("kuzu+kuzu"),),
)
