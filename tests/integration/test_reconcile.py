"""reconcile() finds every kind of orphan, fixes them, spares adds in flight, on every pair:
the suite shipped in hybridmem.testing.reconcile_suite."""

from __future__ import annotations

import pytest

from hybridmem.testing.reconcile_suite import ReconcileSuite
from tests.conftest import PairConfig


class TestReconcile(ReconcileSuite):
    @pytest.fixture
    def pair_config(self, pair_config: PairConfig) -> PairConfig:
        return pair_config
