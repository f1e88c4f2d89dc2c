"""Shared fixtures: every coordinator test runs on each adapter pair.

Pairs: the embedded default (kuzu+kuzu) and the server pairs, whose servers come
from env vars, Docker (compose/) or the native launchers (tests/servers/).
``HYBRIDMEM_TEST_PAIRS`` (comma-separated) narrows the set, e.g. for a laptop
without Java: ``HYBRIDMEM_TEST_PAIRS=kuzu+kuzu``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore

# The server fixtures live beside this file; each registers only if present.
pytest_plugins = [
    f"tests.servers.{name}"
    for name in ("neo4j", "weaviate")
    if (Path(__file__).parent / "servers" / f"{name}.py").exists()
]

ALL_PAIRS = ("kuzu+kuzu", "neo4j+kuzu", "kuzu+weaviate", "neo4j+weaviate")
# Weaviate with ``multi_tenancy = true``: not a default pair (the suites that
# exercise it add it with ``with_tenancy_pair()``), but HYBRIDMEM_TEST_PAIRS may
# name it to run everything on it.
TENANCY_PAIRS = ("kuzu+weaviate_mt", "neo4j+weaviate_mt")


def selected_pairs() -> list[str]:
    wanted = os.environ.get("HYBRIDMEM_TEST_PAIRS", "")
    pairs = [p.strip() for p in wanted.split(",") if p.strip()] or list(ALL_PAIRS)
    unknown = set(pairs) - set(ALL_PAIRS) - set(TENANCY_PAIRS)
    if unknown:
        raise pytest.UsageError(f"unknown pairs in HYBRIDMEM_TEST_PAIRS: {sorted(unknown)}")
    return pairs


def _marks(pair: str) -> list[pytest.MarkDecorator]:
    marks = []
    if "neo4j" in pair:
        marks.append(pytest.mark.neo4j)
    if "weaviate" in pair:
        marks.append(pytest.mark.weaviate)
    return marks


PairConfig = Callable[[Path], dict[str, Any]]


def pair_params(pairs: list[str]) -> list[Any]:
    return [pytest.param(p, marks=_marks(p), id=p) for p in pairs]


# Every adapter is in one of these two: where a test exercises each adapter's
# own code rather than how two adapters meet, these two cover it, at half the
# CI time (see docs/testing.md, "What runs where").
PRODUCTION_PAIRS = ("kuzu+kuzu", "neo4j+weaviate")


def production_pairs() -> list[str]:
    """The selected production pairs; the first selected pair if none is."""
    selected = selected_pairs()
    return [p for p in selected if p in PRODUCTION_PAIRS] or selected[:1]


@pytest.fixture(params=pair_params(selected_pairs()))
def pair_config(request: pytest.FixtureRequest) -> Iterator[PairConfig]:
    """A function: data_dir -> config dict for this pair, with empty server stores."""
    yield from open_pair(request, request.param)


def open_pair(request: pytest.FixtureRequest, pair: str) -> Iterator[PairConfig]:
    """The body of ``pair_config``, for conftests that narrow the pairs."""
    graph_name, vector_name = pair.split("+")
    # Weaviate class names are case-insensitive ("alice" and "Alice" tests would
    # collide): name the collection after a digest of the test id.
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]
    collection = f"T{digest}P{os.getpid()}"
    graph: dict[str, Any] = {"provider": "kuzu"}
    vector: dict[str, Any] = {"provider": "kuzu"}
    if graph_name == "neo4j":
        graph = request.getfixturevalue("neo4j_server").graph_config()
        # Not the default prefix, and one per pair: a query with a hard-coded label
        # would miss this store's data.
        graph["label_prefix"] = f"Pair{vector_name.capitalize()}"
    if vector_name.startswith("weaviate"):
        vector = request.getfixturevalue("weaviate_server").vector_config(collection)
        if vector_name == "weaviate_mt":
            vector["multi_tenancy"] = True

    def config(data_dir: Path) -> dict[str, Any]:
        return {"data_dir": str(data_dir), "graph": dict(graph), "vector": dict(vector)}

    # Server stores outlive a test: start each test from empty ones.
    if graph_name != "kuzu" or vector_name != "kuzu":
        scratch = Path(request.getfixturevalue("tmp_path_factory").mktemp("reset"))
        with HybridStore(config(scratch)) as store:
            store.reset()
    yield config
    if vector_name.startswith("weaviate"):
        scratch = Path(request.getfixturevalue("tmp_path_factory").mktemp("cleanup"))
        with HybridStore(config(scratch)) as store:
            drop = getattr(store.vector, "drop", store.vector.reset)
            drop()


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
