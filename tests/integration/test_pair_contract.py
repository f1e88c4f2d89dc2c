"""Every adapter pair of tests/conftest.py passes hybridmem.testing's pair contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.config import HybridMemConfig
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.registry import create_store
from hybridmem.testing import StorePairContract
from tests.conftest import PairConfig


@pytest.fixture
def pair_settings(pair_config: PairConfig, tmp_path: Path) -> HybridMemConfig:
    return HybridMemConfig.load(pair_config(tmp_path / "stores"))


class TestStorePair(StorePairContract):
    @pytest.fixture
    def graph_store(self, pair_settings: HybridMemConfig) -> Iterator[GraphStore]:
        section = pair_settings.graph
        store: GraphStore = create_store(
            "graph", section.provider, section.options(), pair_settings.data_dir
        )
        yield store
        store.close()

    @pytest.fixture
    def vector_store(self, pair_settings: HybridMemConfig) -> Iterator[VectorStore]:
        section = pair_settings.vector
        store: VectorStore = create_store(
            "vector", section.provider, section.options(), pair_settings.data_dir
        )
        yield store
        store.close()
