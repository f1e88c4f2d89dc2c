from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.testing import GraphStoreContract, VectorStoreContract
from hybridmem_kuzu import KuzuGraphStore, KuzuVectorStore


class TestKuzuGraphStore(GraphStoreContract):
    @pytest.fixture
    def graph_store(self, tmp_path: Path) -> Iterator[KuzuGraphStore]:
        store = KuzuGraphStore(tmp_path / "graph.kuzu")
        yield store
        store.close()


class TestKuzuVectorStore(VectorStoreContract):
    @pytest.fixture
    def vector_store(self, tmp_path: Path) -> Iterator[KuzuVectorStore]:
        store = KuzuVectorStore(tmp_path / "vectors.kuzu")
        yield store
        store.close()
