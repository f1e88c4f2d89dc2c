"""The pair registry: the pairs the suites run on come from the adapters' own
registrations, with the ids CI and the docs name."""

from __future__ import annotations

from typing import Any

import pytest

from hybridmem.testing.pair_fixtures import pair_marks, selected_pair_ids
from hybridmem.testing.pair_registry import (
    Registration,
    SectionRequest,
    TestBackend,
    TestPair,
    build_registry,
    load_registry,
)


def _section(role: str, request: SectionRequest) -> dict[str, Any]:
    return {"provider": "x"}


def _backend(name: str, **extra: Any) -> TestBackend:
    return TestBackend(name=name, provider=name, section=_section, **extra)


def test_the_installed_adapters_register_the_pairs_ci_and_the_docs_name() -> None:
    registry = load_registry()
    assert registry.ids("default") == (
        "kuzu+kuzu",
        "neo4j+kuzu",
        "kuzu+sqlite",
        "kuzu+weaviate",
        "neo4j+weaviate",
    )
    assert registry.ids("tenancy") == ("kuzu+weaviate_mt", "neo4j+weaviate_mt")
    assert [p.id for p in registry.pairs if p.production] == ["kuzu+sqlite", "neo4j+weaviate"]
    assert [m.name for m in pair_marks("neo4j+weaviate_mt")] == ["neo4j", "weaviate"]
    assert registry.pytest_plugins() == [
        "hybridmem_neo4j.pytest_server",
        "hybridmem_weaviate.pytest_server",
    ]


def test_a_backend_registered_twice_is_refused() -> None:
    one = Registration(backends=(_backend("mine"),))
    with pytest.raises(ValueError, match="'mine' is registered twice"):
        build_registry({"a": one, "b": one})


def test_a_pair_registered_twice_is_refused() -> None:
    pair = Registration(backends=(_backend("g"), _backend("v")), pairs=(TestPair("g+v"),))
    again = Registration(pairs=(TestPair("g+v"),))
    with pytest.raises(ValueError, match="'g\\+v' is registered twice"):
        build_registry({"a": pair, "b": again})


def test_an_entry_point_that_is_not_a_registration_is_refused() -> None:
    with pytest.raises(TypeError, match="'odd' is not a Registration"):
        build_registry({"odd": object()})  # type: ignore[dict-item]


def test_a_pair_whose_backend_is_not_installed_is_left_out() -> None:
    registry = build_registry(
        {"mine": Registration(backends=(_backend("mine"),), pairs=(TestPair("absent+mine"),))}
    )
    assert registry.pairs == ()
    with pytest.raises(KeyError, match="no registered pair 'absent\\+mine'"):
        registry.pair("absent+mine")


def test_a_store_without_a_registered_witness_is_named() -> None:
    registry = build_registry({"mine": Registration(backends=(_backend("mine"),))})
    with pytest.raises(LookupError, match="no graph witness registered for object"):
        registry.backend_of(object(), "graph")


def test_hybridmem_test_pairs_narrows_and_refuses_unknown_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HYBRIDMEM_TEST_PAIRS", "kuzu+weaviate_mt, kuzu+kuzu")
    assert selected_pair_ids() == ["kuzu+weaviate_mt", "kuzu+kuzu"]
    monkeypatch.setenv("HYBRIDMEM_TEST_PAIRS", "kuzu+nothing")
    with pytest.raises(pytest.UsageError, match="unknown pairs in HYBRIDMEM_TEST_PAIRS"):
        selected_pair_ids()
    monkeypatch.delenv("HYBRIDMEM_TEST_PAIRS")
    assert selected_pair_ids() == list(load_registry().ids("default"))
