"""Shared fixtures: every coordinator test runs on each adapter pair.

Pairs: the embedded default (kuzu+sqlite), kuzu+kuzu and the server pairs, whose
servers come from env vars, Docker (compose/) or the native launchers
(tests/servers/). ``HYBRIDMEM_TEST_PAIRS`` (comma-separated) narrows the set,
e.g. for a laptop without Java: ``HYBRIDMEM_TEST_PAIRS=kuzu+sqlite``.

The pairs, their backends' config sections, server fixtures and marks come from
the pair registry (``hybridmem.testing.pair_registry``): each adapter registers
its own under the ``hybridmem.testing`` entry point.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from hybridmem.testing.pair_fixtures import (
    PairConfig,
    open_registered_pair,
    pair_params,
    selected_pair_ids,
)
from hybridmem.testing.pair_registry import TestPair, load_registry

REGISTRY = load_registry()

# The server fixtures the registered backends name; each registers only if present.
pytest_plugins = [
    name for name in REGISTRY.pytest_plugins() if importlib.util.find_spec(name) is not None
]

ALL_PAIRS = REGISTRY.ids("default")
# Weaviate with ``multi_tenancy = true``: not a default pair (the suites that
# exercise it add it with ``with_tenancy_pair()``), but HYBRIDMEM_TEST_PAIRS may
# name it to run everything on it.
TENANCY_PAIRS = REGISTRY.ids("tenancy")

__all__ = ["PairConfig", "pair_params"]


def selected_pairs() -> list[str]:
    return selected_pair_ids(REGISTRY)


# Every adapter is in one of these: where a test exercises each adapter's own code
# rather than how two adapters meet, these cover it, at half the CI time (see
# docs/testing.md, "What runs where").
PRODUCTION_PAIRS = tuple(p.id for p in REGISTRY.pairs if p.production)


def production_pairs() -> list[str]:
    """The selected production pairs; the first selected pair if none is."""
    selected = selected_pairs()
    return [p for p in selected if p in PRODUCTION_PAIRS] or selected[:1]


@pytest.fixture(params=pair_params(selected_pairs()))
def pair_config(request: pytest.FixtureRequest) -> Iterator[PairConfig]:
    """A function: data_dir -> config dict for this pair, with empty server stores."""
    yield from open_pair(request, request.param)


def open_pair(request: pytest.FixtureRequest, pair: str) -> Iterator[PairConfig]:
    """The body of ``pair_config``, for conftests that narrow the pairs (the pair's
    sections, servers, reset and cleanup are its backends' registrations)."""
    yield from open_registered_pair(request, pair, after_reset=_empty_shared_state)


def _empty_shared_state(pair: TestPair, config: dict[str, Any]) -> None:
    if pair.graph == "neo4j":
        # reset() keeps the shared journal's nodes (operations, history, owners,
        # claims, counters): empty them, or one test leaks into the next.
        from tests.shared.state import wipe_shared_state

        graph = config["graph"]
        wipe_shared_state(graph, graph["label_prefix"])


@pytest.fixture(params=pair_params(production_pairs()))
def production_pair_config(request: pytest.FixtureRequest) -> Iterator[PairConfig]:
    """``pair_config`` on the production pairs only; a module narrows itself with
    ``pair_config = narrowed_to_production_pairs()``."""
    yield from open_pair(request, request.param)


def narrowed_to_production_pairs() -> Any:
    @pytest.fixture
    def pair_config(production_pair_config: PairConfig) -> PairConfig:
        return production_pair_config

    return pair_config


def tenancy_pairs() -> list[str]:
    """The selected pairs, plus kuzu+weaviate_mt when a Weaviate pair is selected."""
    selected = selected_pairs()
    if any(p.endswith("+weaviate") for p in selected) and not set(TENANCY_PAIRS) & set(selected):
        selected.append(TENANCY_PAIRS[0])
    return selected


@pytest.fixture(params=pair_params(tenancy_pairs()))
def tenancy_pair_config(request: pytest.FixtureRequest) -> Iterator[PairConfig]:
    yield from open_pair(request, request.param)


@pytest.fixture(params=pair_params([p for p in tenancy_pairs() if p in TENANCY_PAIRS][:1]))
def tenant_pair_config(request: pytest.FixtureRequest) -> Iterator[PairConfig]:
    """The tenant layout alone (none when no Weaviate pair is selected)."""
    yield from open_pair(request, request.param)


def with_tenancy_pair() -> Any:
    """A module's ``pair_config`` over the selected pairs and the multi-tenant
    Weaviate pair, for suites every mutation path must pass on it (crash,
    erasure, isolation)."""

    @pytest.fixture
    def pair_config(tenancy_pair_config: PairConfig) -> PairConfig:
        return tenancy_pair_config

    return pair_config


@pytest.fixture
def store(pair_config: PairConfig, tmp_path: Path) -> Iterator[HybridStore]:
    with HybridStore(pair_config(tmp_path / "data")) as opened:
        yield opened


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[HybridStore]:
    """The embedded default only, for tests about the facade rather than adapters."""
    with HybridStore.embedded(tmp_path / "data") as opened:
        yield opened
