"""Random operation sequences against a reference model, on every pair:
the suite shipped in hybridmem.testing.property_suite."""

from __future__ import annotations

import pytest

from hybridmem.testing.property_suite import PropertySuite
from tests.conftest import PairConfig


class TestProperty(PropertySuite):
    @pytest.fixture
    def pair_config(self, pair_config: PairConfig) -> PairConfig:
        return pair_config
