"""delete_all per DESIGN.md, on every adapter pair and the multi-tenant Weaviate
pair: the suite shipped in hybridmem.testing.delete_all_suite."""

from __future__ import annotations

import pytest

from hybridmem.testing.delete_all_suite import DeleteAllSuite
from tests.conftest import PairConfig


class TestDeleteAll(DeleteAllSuite):
    # Also on Weaviate with multi_tenancy = true: its erasures drop a tenant.
    @pytest.fixture
    def pair_config(self, tenancy_pair_config: PairConfig) -> PairConfig:
        return tenancy_pair_config
