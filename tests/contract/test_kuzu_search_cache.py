"""The Kuzu vector store's in-memory search equals its in-Kuzu search.

A search ranks a scope from the rows SearchCache holds (filters included); with
the cache off (``search_cache_mb=0``) every search ranks inside Kuzu. Both stores
take the same seeded sequence of writes and must answer every search alike:
same records, same order, same scores.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from hybridmem.errors import StoreError
from hybridmem.filters import Filters, parse_filters
from hybridmem.models import Scope
from hybridmem.records import VectorRecord
from hybridmem.testing.builders import BASE_TIME, memory_id, vector_record
from hybridmem_kuzu import KuzuVectorStore
from tests.contract.kuzu_engines import ENGINE, suite_on_other_engines

SCOPES = [
    Scope(user_id="alice"),
    Scope(user_id="alice", agent_id="a1"),
    Scope(user_id="alice", agent_id="a1", run_id="r1"),
    Scope(user_id="alice", agent_id="a2"),
    Scope(agent_id="a1"),
    Scope(user_id="bob"),
    Scope(user_id="bob", run_id="r1"),
]
DIMENSION = 8


def _record(rng: random.Random, label: str, scope: Scope) -> VectorRecord:
    base = vector_record(label, scope, text=f"{label} v{rng.random():.6f}")
    # A few repeated vectors, so ties (ordered by id) occur.
    vector = [float(rng.randint(-3, 3) or 1) for _ in range(DIMENSION)]
    return replace(base, embedding=vector)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[KuzuVectorStore, KuzuVectorStore]]:
    cached = KuzuVectorStore(tmp_path / "cached.kuzu", engine=ENGINE)
    plain = KuzuVectorStore(tmp_path / "plain.kuzu", engine=ENGINE, search_cache_mb=0)
    yield cached, plain
    cached.close()
    plain.close()


def _alike(got: list[tuple[VectorRecord, float]], want: list[tuple[VectorRecord, float]]) -> None:
    assert [r for r, _ in got] == [r for r, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-5)


def _filters(rng: random.Random) -> Filters | None:
    labels = [f"m{rng.randrange(60)}-{rng.randrange(5)}" for _ in range(20)]
    return rng.choice(
        [
            None,
            parse_filters({"label": {"$in": labels}}),
            parse_filters({"label": {"$nin": labels}, "created_at": {"$gte": BASE_TIME}}),
        ]
    )


def _same_search(cached: KuzuVectorStore, plain: KuzuVectorStore, rng: random.Random) -> None:
    query = [rng.uniform(-1, 1) for _ in range(DIMENSION)]
    for scope in SCOPES:
        limit = rng.choice([1, 3, 10, 100])
        filters = _filters(rng)
        _alike(
            cached.search(query, scope, limit, filters=filters),
            plain.search(query, scope, limit, filters=filters),
        )


@pytest.mark.parametrize("seed", range(3))
def test_cached_search_equals_the_query_through_every_write(
    pair: tuple[KuzuVectorStore, KuzuVectorStore], seed: int
) -> None:
    cached, plain = pair
    rng = random.Random(seed)
    labels: list[str] = []
    for step in range(60):
        action = rng.choice(["add", "add", "add", "update", "delete", "delete_scope", "search"])
        if action == "add" or not labels:
            batch = [
                _record(rng, f"m{step}-{i}", rng.choice(SCOPES[:3] + SCOPES[5:]))
                for i in range(rng.randint(1, 5))
            ]
            labels += [f"m{step}-{i}" for i in range(len(batch))]
        elif action == "update":
            label = rng.choice(labels)
            [old] = plain.get([memory_id(label)]) or [None]
            if old is None:
                continue
            batch = [_record(rng, label, old.scope)]
        elif action == "delete":
            doomed = [memory_id(rng.choice(labels)) for _ in range(3)]
            assert cached.delete(doomed) == plain.delete(doomed)
            batch = []
        elif action == "delete_scope":
            scope = rng.choice(SCOPES)
            assert cached.delete_scope(scope, 2) == plain.delete_scope(scope, 2)
            batch = []
        else:
            batch = []
        if batch:
            cached.upsert(batch)
            plain.upsert(batch)
        _same_search(cached, plain, rng)
    cached.reset()
    plain.reset()
    assert cached.search([1.0] * DIMENSION, SCOPES[0], 10) == []


def test_a_failed_write_leaves_search_correct(
    pair: tuple[KuzuVectorStore, KuzuVectorStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    cached, plain = pair
    rng = random.Random(7)
    first = [_record(rng, f"m{i}", SCOPES[1]) for i in range(5)]
    for store in pair:
        store.upsert(first)
    _same_search(cached, plain, rng)  # every scope is now cached

    # The write fails inside its transaction, after the cache was told of it.
    calls = {"n": 0}
    real_rows = cached._db.rows

    def failing_commit(query: str, params: object = None) -> list[list[object]]:
        if query == "COMMIT":
            calls["n"] += 1
            real_rows("ROLLBACK")
            raise StoreError("Kuzu vector store", "test", "injected commit failure")
        return real_rows(query, params)  # type: ignore[arg-type]

    replacement = [_record(rng, "m0", SCOPES[1]), _record(rng, "new", SCOPES[1])]
    monkeypatch.setattr(cached._db, "rows", failing_commit)
    with pytest.raises(StoreError):
        cached.upsert(replacement)
    with pytest.raises(StoreError):
        cached.delete([memory_id("m1")])
    monkeypatch.undo()
    assert calls["n"] == 2
    _same_search(cached, plain, rng)


def test_a_scope_beyond_the_budget_is_ranked_in_kuzu(tmp_path: Path) -> None:
    """search_cache_mb bounds the memory; a larger scope is still searched, by Kuzu."""
    store = KuzuVectorStore(tmp_path / "v.kuzu", engine=ENGINE, search_cache_mb=1)
    plain = KuzuVectorStore(tmp_path / "p.kuzu", engine=ENGINE, search_cache_mb=0)
    rng = random.Random(3)
    # 1 MiB holds ~1,600 rows of 8 dimensions; 2,000 do not fit.
    big = [_record(rng, f"b{i}", Scope(user_id="big")) for i in range(2000)]
    small = [_record(rng, f"s{i}", Scope(user_id="small")) for i in range(10)]
    for s in (store, plain):
        s.upsert(big + small)
    for scope in (Scope(user_id="big"), Scope(user_id="small")):
        query = [rng.uniform(-1, 1) for _ in range(DIMENSION)]
        _alike(store.search(query, scope, 5), plain.search(query, scope, 5))
    assert store._cache.get(Scope(user_id="small")) is not None
    assert store._cache.get(Scope(user_id="big")) is None
    store.close()
    plain.close()


def test_the_least_recently_searched_scope_leaves_first(tmp_path: Path) -> None:
    store = KuzuVectorStore(tmp_path / "v.kuzu", engine=ENGINE, search_cache_mb=1)
    rng = random.Random(4)
    scopes = [Scope(user_id=f"u{n}") for n in range(4)]
    # Each scope takes ~0.28 MiB of the 1 MiB budget: three fit, not four.
    store.upsert([_record(rng, f"u{n}-{i}", s) for n, s in enumerate(scopes) for i in range(350)])
    query = [1.0] * DIMENSION
    for scope in scopes[:3]:
        store.search(query, scope, 1)
    store.search(query, scopes[0], 1)  # u0 is now the most recent
    store.search(query, scopes[3], 1)
    cached = [store._cache.get(s) is not None for s in scopes]
    assert cached == [True, False, True, True]
    store.close()


def test_search_cache_mb_is_a_vector_option_and_is_checked(tmp_path: Path) -> None:
    from hybridmem.errors import ConfigurationError
    from hybridmem_kuzu import plugin

    off = plugin.vector({"search_cache_mb": 0, "engine": ENGINE}, tmp_path)
    assert not off._cache.enabled
    off.close()
    with pytest.raises(ConfigurationError, match="search_cache_mb"):
        plugin.vector({"search_cache_mb": -1}, tmp_path)
    with pytest.raises(ConfigurationError, match="search_cache_mb"):
        plugin.graph({"search_cache_mb": 64}, tmp_path)


test_the_suite_passes_on_every_engine = suite_on_other_engines(__file__)
