"""An exception at every step boundary (a store failing between the two stores),
then recover(), on every pair and the multi-tenant Weaviate pair: the suite
shipped in hybridmem.testing.crash_suite. SIGKILL at every point, and during
recovery, is the crash matrix in tests/reliability/test_crash_matrix.py.
"""

from __future__ import annotations

import pytest

from hybridmem.testing.crash_suite import CrashSuite
from tests.conftest import PairConfig


class TestCrash(CrashSuite):
    # Also on Weaviate with multi_tenancy = true: its erasures drop a tenant.
    @pytest.fixture
    def pair_config(self, tenancy_pair_config: PairConfig) -> PairConfig:
        return tenancy_pair_config
