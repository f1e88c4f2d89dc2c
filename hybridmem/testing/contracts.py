"""Contract tests for the GraphStore and VectorStore ports, under the import path
adapter authors use (``from hybridmem.testing.contracts import GraphStoreContract``).

Subclass a contract and override its fixture (``graph_store`` / ``vector_store``)
to yield a fresh, empty store. A contract test may not be silently dodged: a
subclass that overrides one must mark it ``pytest.mark.xfail(reason=...)``, or
the class fails at import. Each test's docstring ends with a Troubleshooting
hint for adapter authors.

The contracts live in ``graph_contract`` and ``vector_contract``; what they share
(fixtures, the no-dodge rule, scopes) in ``contract_base``.
"""

from hybridmem.testing.contract_base import (
    ALICE,
    ALICE_A1,
    ALICE_A1_R1,
    ALICE_A2,
    ALICE_LIVES_IN_PARIS,
    BOB,
    TRICKY,
    StoreFixtures,
)
from hybridmem.testing.graph_contract import GraphStoreContract
from hybridmem.testing.vector_contract import VectorStoreContract

__all__ = [
    "ALICE",
    "ALICE_A1",
    "ALICE_A1_R1",
    "ALICE_A2",
    "ALICE_LIVES_IN_PARIS",
    "BOB",
    "TRICKY",
    "GraphStoreContract",
    "StoreFixtures",
    "VectorStoreContract",
]
