"""History keeps ids and hashes of erased memories, never their text, on every pair:
the suite shipped in hybridmem.testing.history_suite."""

from __future__ import annotations

import pytest

from hybridmem.testing.history_suite import HistorySuite
from tests.conftest import PairConfig


class TestHistory(HistorySuite):
    @pytest.fixture
    def pair_config(self, pair_config: PairConfig) -> PairConfig:
        return pair_config
