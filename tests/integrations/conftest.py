"""Framework integrations run on the embedded pair and on the server pair (neo4j+weaviate).

The mixed pairs add nothing an integration could get wrong: it translates, and
the core's own tests cover every pair.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from hybridmem.api import MemoryStore
from hybridmem.client import HybridMemClient
from tests.conftest import (
    narrowed_to_production_pairs,
    open_pair,
    pair_params,
    production_pairs,
    selected_pairs,
)
from tests.server.live import LiveServer, start_server, write_config

# mem0 reads this when imported: no telemetry from tests.
os.environ["MEM0_TELEMETRY"] = "False"

pair_config = narrowed_to_production_pairs()


# -- the same tests over HTTP: a live ``hybridmem serve`` (issue 23) ----------------------

SERVED = "embedded-default-over-http"


def store_params() -> list[Any]:
    """The production pairs in process, and, when the embedded pair is selected, a
    ``HybridMemClient`` of a live ``hybridmem serve`` on it."""
    served = [pytest.param(SERVED, id=SERVED)] if "kuzu+sqlite" in selected_pairs() else []
    return [*pair_params(production_pairs()), *served]


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One ``hybridmem serve`` on the embedded pair for the session; each test that
    uses it starts from ``reset()``."""
    home = tmp_path_factory.mktemp("integrations-served")
    server = start_server(write_config(home / "hybridmem.toml", home / "data"))
    yield server
    server.stop()


@pytest.fixture(params=store_params())
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore]:
    """A store in process on each production pair, or a client of a live serve."""
    if request.param == SERVED:
        server: LiveServer = request.getfixturevalue("served")
        with HybridMemClient(server.url) as client:
            client.reset()
            yield client
        return
    pair = open_pair(request, request.param)
    config = next(pair)
    with HybridStore(config(tmp_path / "data")) as store:
        yield store
    next(pair, None)
