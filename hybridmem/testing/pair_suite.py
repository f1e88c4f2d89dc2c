"""The base of the pair-level capability suites: one pair factory fixture.

Every suite (``DeleteAllSuite``, ``CrashSuite``, ``FinalitySuite``, ``PropertySuite``,
``ExpirySuite``, ``ReconcileSuite``, ``HistorySuite``) takes ``pair_config``: a
function ``data_dir -> config dict`` for the pair under test, whose server stores
start empty (``hybridmem.testing.pair_fixtures.open_registered_pair`` yields one for
a registered pair). ``store`` is a ``HybridStore`` opened on it. As for the port
contracts, a subclass that overrides a suite's test must mark it
``pytest.mark.xfail(reason=...)``, or the class fails at import.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem.store import HybridStore
from hybridmem.testing.contract_base import _NoSilentDodge
from hybridmem.testing.pair_fixtures import PairConfig


class PairSuite(_NoSilentDodge):
    @pytest.fixture
    def pair_config(self) -> PairConfig:
        raise NotImplementedError(
            "override the pair_config fixture: a function data_dir -> the pair's config"
            " (hybridmem.testing.pair_fixtures.open_registered_pair yields one)"
        )

    @pytest.fixture
    def store(self, pair_config: PairConfig, tmp_path: Path) -> Iterator[HybridStore]:
        with HybridStore(pair_config(tmp_path / "data")) as opened:
            yield opened
