"""Framework integrations run on the embedded pair and on the server pair (neo4j+weaviate).

The mixed pairs add nothing an integration could get wrong: it translates, and
the core's own tests cover every pair.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import PairConfig, open_pair, pair_params, selected_pairs

# mem0 reads this when imported: no telemetry from tests.
os.environ["MEM0_TELEMETRY"] = "False"

FRAMEWORK_PAIRS = [p for p in ("kuzu+kuzu", "neo4j+weaviate") if p in selected_pairs()]


@pytest.fixture(params=pair_params(FRAMEWORK_PAIRS))
def pair_config(request: pytest.FixtureRequest) -> Iterator[PairConfig]:
    yield from open_pair(request, request.param)
