"""Erasures stay final: updates and deletes racing them, over Python and REST, on
every pair and the multi-tenant Weaviate pair: the suite shipped in
hybridmem.testing.finality_suite; tests/reliability/ runs heavier races."""

from __future__ import annotations

import pytest

from hybridmem.testing.finality_suite import FinalitySuite
from tests.conftest import PairConfig


class TestFinality(FinalitySuite):
    # Also on Weaviate with multi_tenancy = true: its erasures drop a tenant.
    @pytest.fixture
    def pair_config(self, tenancy_pair_config: PairConfig) -> PairConfig:
        return tenancy_pair_config
