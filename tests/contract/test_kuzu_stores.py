from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hybridmem_kuzu import KuzuGraphStore, KuzuVectorStore

from hybridmem.testing import GraphStoreContract, VectorStoreContract

# Both batch plans must satisfy the contract: small test tables would otherwise
# only ever exercise the scan plan.
PLANS = ["auto", "lookup", "scan"]


class TestKuzuGraphStore(GraphStoreContract):
    @pytest.fixture(params=PLANS)
    def graph_store(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> Iterator[KuzuGraphStore]:
        store = KuzuGraphStore(tmp_path / "graph.kuzu", batch_plan=request.param)
        yield store
        store.close()


class TestKuzuVectorStore(VectorStoreContract):
    @pytest.fixture(params=PLANS)
    def vector_store(
        self, tmp_path: Path, request: pytest.FixtureRequest
    ) -> Iterator[KuzuVectorStore]:
        store = KuzuVectorStore(tmp_path / "vectors.kuzu", batch_plan=request.param)
        yield store
        store.close()


class TestLadybugGraphStore(GraphStoreContract):
    """The maintained fork (same API) runs the graph contract too; its vector
    extension downloads at run time, which is why the vector side stays on Kuzu."""

    @pytest.fixture
    def graph_store(self, tmp_path: Path) -> Iterator[KuzuGraphStore]:
        store = KuzuGraphStore(tmp_path / "graph.lbug", engine="ladybug")
        yield store
        store.close()


def test_ladybug_engine_is_offered(tmp_path: Path) -> None:
    """The maintained fork is chosen by config; when missing, the error says what to install."""
    from hybridmem.errors import ConfigurationError

    try:
        import ladybug  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigurationError, match="install hybridmem-kuzu\\[ladybug\\]"):
            KuzuGraphStore(tmp_path / "g.kuzu", engine="ladybug")
    else:
        store = KuzuGraphStore(tmp_path / "g.kuzu", engine="ladybug")
        assert store.stats()["memory_nodes"] == 0
        store.close()
