"""Opening a registered pair in a pytest test: the pair factory the pair suites take.

A pair factory (``PairConfig``) is a function ``data_dir -> config dict`` for one
pair, whose server stores start empty. ``open_registered_pair(request, pair_id)``
yields one (use it in a fixture); ``pair_params(ids)`` parametrizes a fixture over
pairs with each backend's marks; ``selected_pair_ids()`` reads HYBRIDMEM_TEST_PAIRS.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hybridmem.store import HybridStore
from hybridmem.testing.pair_registry import (
    PairRegistry,
    SectionRequest,
    TestPair,
    load_registry,
)

PairConfig = Callable[[Path], dict[str, Any]]
#: Called after the pair's persistent stores were reset, before the test: the pair and
#: its config (for state a reset keeps, such as a shared journal).
AfterReset = Callable[[TestPair, dict[str, Any]], None]

PAIRS_VARIABLE = "HYBRIDMEM_TEST_PAIRS"


def selected_pair_ids(registry: PairRegistry | None = None) -> list[str]:
    """The pairs HYBRIDMEM_TEST_PAIRS names (comma-separated), else every default pair."""
    registry = registry or load_registry()
    wanted = os.environ.get(PAIRS_VARIABLE, "")
    pairs = [p.strip() for p in wanted.split(",") if p.strip()] or list(registry.ids("default"))
    unknown = set(pairs) - {p.id for p in registry.pairs}
    if unknown:
        raise pytest.UsageError(f"unknown pairs in {PAIRS_VARIABLE}: {sorted(unknown)}")
    return pairs


def pair_marks(pair_id: str, registry: PairRegistry | None = None) -> list[pytest.MarkDecorator]:
    registry = registry or load_registry()
    pair = registry.pair(pair_id)
    names: list[str] = []
    for backend in (registry.backends[pair.graph], registry.backends[pair.vector]):
        names += [m for m in backend.marks if m not in names]
    return [getattr(pytest.mark, name) for name in names]


def pair_params(pair_ids: list[str]) -> list[Any]:
    return [pytest.param(p, marks=pair_marks(p), id=p) for p in pair_ids]


def open_registered_pair(
    request: pytest.FixtureRequest, pair_id: str, *, after_reset: AfterReset | None = None
) -> Iterator[PairConfig]:
    """A pair factory for ``pair_id``: its servers from their fixtures, its persistent
    stores reset before the test and cleaned up after it."""
    registry = load_registry()
    pair = registry.pair(pair_id)
    graph_backend, vector_backend = registry.backends[pair.graph], registry.backends[pair.vector]
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]
    unique = f"{digest}P{os.getpid()}"

    def server(fixture: str | None) -> Any:
        return request.getfixturevalue(fixture) if fixture else None

    graph = graph_backend.section(
        "graph", SectionRequest(server(graph_backend.server_fixture), unique, pair.vector)
    )
    vector = vector_backend.section(
        "vector", SectionRequest(server(vector_backend.server_fixture), unique, pair.graph)
    )

    def config(data_dir: Path) -> dict[str, Any]:
        return {"data_dir": str(data_dir), "graph": dict(graph), "vector": dict(vector)}

    def scratch(label: str) -> Path:
        return Path(request.getfixturevalue("tmp_path_factory").mktemp(label))

    # Server stores outlive a test: start each test from empty ones.
    if graph_backend.persistent or vector_backend.persistent:
        if after_reset is not None:
            # Before too: state a test left in the server (the store's embedder
            # record) must not refuse the store that resets it.
            after_reset(pair, config(scratch("reset")))
        with HybridStore(config(scratch("reset"))) as store:
            store.reset()
        if after_reset is not None:
            after_reset(pair, config(scratch("reset")))
    yield config
    cleanups = [b.after_test for b in (graph_backend, vector_backend) if b.after_test]
    if cleanups and after_reset is not None:
        after_reset(pair, config(scratch("cleanup")))
    for cleanup in cleanups:
        with HybridStore(config(scratch("cleanup"))) as store:
            cleanup(store)
