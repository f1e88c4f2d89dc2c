"""Fixtures of the shared-coordination suite: the pairs whose graph is Neo4j.

``HYBRIDMEM_TEST_SHARED_JOURNAL=0`` runs the multi-process tests with the
per-process journal and claims (``shared_journal = false``): the regression
tests of issue 23 then fail, which is how they were shown to fail on the old
behaviour. The pair fixture (``tests.conftest.open_pair``) empties the shared
state before each test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import open_pair, pair_params, selected_pairs
from tests.shared.state import wipe_shared_state

SHARED_PAIRS = ("neo4j+weaviate", "neo4j+kuzu")
SERVER_PAIRS = ("neo4j+weaviate",)
#: The lease of the multi-process tests: short, so a takeover is seconds away.
LEASE_SECONDS = 3.0


def shared_on() -> bool:
    return os.environ.get("HYBRIDMEM_TEST_SHARED_JOURNAL", "1") != "0"


SharedConfig = Callable[..., dict[str, Any]]


def _shared(request: pytest.FixtureRequest) -> Iterator[SharedConfig]:
    pairs = open_pair(request, request.param)
    base = next(pairs)
    graph = base(Path("."))["graph"]

    def config(data_dir: Path, **graph_options: Any) -> dict[str, Any]:
        built = base(data_dir)
        if shared_on():
            built["graph"].update(
                {"shared_journal": True, "lease_seconds": LEASE_SECONDS, **graph_options}
            )
        else:
            built["graph"]["shared_journal"] = False
        return built

    yield config
    wipe_shared_state(graph, graph["label_prefix"])
    next(pairs, None)


@pytest.fixture(params=pair_params([p for p in selected_pairs() if p in SHARED_PAIRS]))
def shared_config(request: pytest.FixtureRequest) -> Iterator[SharedConfig]:
    """A function: (data_dir, **graph options) -> a config of this pair with the
    shared journal on (off with HYBRIDMEM_TEST_SHARED_JOURNAL=0), on empty stores."""
    yield from _shared(request)


@pytest.fixture(params=pair_params([p for p in selected_pairs() if p in SERVER_PAIRS]))
def servers_config(request: pytest.FixtureRequest) -> Iterator[SharedConfig]:
    """``shared_config`` on the pairs whose stores are all servers: workers with
    data directories of their own (hosts of their own) then share every store.
    On neo4j+kuzu the vector file is per data directory (one owner process)."""
    yield from _shared(request)
