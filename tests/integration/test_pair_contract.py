"""Every adapter pair of tests/conftest.py passes hybridmem.testing's pair contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hybridmem.config import HybridMemConfig
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.registry import Role, create_store
from hybridmem.testing import StorePairContract
from tests.conftest import PairConfig


@pytest.fixture
def pair_settings(pair_config: PairConfig, tmp_path: Path) -> HybridMemConfig:
    return HybridMemConfig.load(pair_config(tmp_path / "stores"))


def _opened(settings: HybridMemConfig, role: Role) -> Iterator[Any]:
    section = settings.graph if role == "graph" else settings.vector
    store = create_store(role, section.provider, section.options(), settings.data_dir)
    yield store
    store.close()


class TestStorePair(StorePairContract):
    @pytest.fixture
    def graph_store(self, pair_settings: HybridMemConfig) -> Iterator[GraphStore]:
        yield from _opened(pair_settings, "graph")

    @pytest.fixture
    def vector_store(self, pair_settings: HybridMemConfig) -> Iterator[VectorStore]:
        yield from _opened(pair_settings, "vector")
