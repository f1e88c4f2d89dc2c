"""Regressions of issues 25 and 26 in the LangGraph store: a refresh never brings
back an erased item, no two namespaces share a scope, ids no other scope can take,
and the LangGraph semantics InMemoryStore has (paging, index=False, filters, batches)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langgraph.store.base import GetOp, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore

from hybridmem import HybridStore
from langgraph_hybridmem import HybridMemStore
from tests.integrations.checks import assert_no_trace

EMBEDDINGS = DeterministicFakeEmbedding(size=16)
INDEX: Any = {"dims": 16, "embed": EMBEDDINGS, "fields": ["text"]}


@pytest.fixture
def lg(store: HybridStore) -> Iterator[HybridMemStore]:
    yield HybridMemStore(store, index=INDEX)


def _erase_after_read(monkeypatch: pytest.MonkeyPatch, store: HybridStore, method: str) -> None:
    """Forces the interleaving: the scope is erased right after the read returns,
    before the read refreshes the item's TTL."""
    read = getattr(store, method)

    def read_then_erase(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        store.delete_all(user_id="alice")
        return found

    monkeypatch.setattr(store, method, read_then_erase)


@pytest.mark.parametrize("method", ["get", "get_all"])
def test_a_refresh_never_brings_back_an_item_erased_meanwhile(
    lg: HybridMemStore, store: HybridStore, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    ns = ("memories", "alice")
    lg.put(ns, "k", {"text": "x"}, ttl=60)
    _erase_after_read(monkeypatch, store, method)
    if method == "get":
        assert lg.get(ns, "k") is None  # the erased item is absent, not returned
    else:
        assert lg.search(ns) == []
    monkeypatch.undo()
    assert lg.get(ns, "k") is None
    assert store.get_all(user_id="alice") == []
    assert_no_trace(store)


@pytest.mark.parametrize(
    "erased, kept",
    [
        (("notes",), ("memories", "langgraph:notes")),
        (("memories", "langgraph:notes"), ("notes",)),
    ],
)
def test_no_two_namespaces_share_a_scope(
    lg: HybridMemStore, erased: tuple[str, ...], kept: tuple[str, ...]
) -> None:
    lg.put(erased, "a", {"text": "erase me"})
    lg.put(kept, "b", {"text": "keep me"})
    assert lg.layout.scope(erased) != lg.layout.scope(kept)
    assert lg.delete_namespace(erased) == 1
    item = lg.get(kept, "b")
    assert item is not None and item.value == {"text": "keep me"}
    assert lg.get(erased, "a") is None


def _predictable_ids(lg: HybridMemStore, ns: tuple[str, ...], key: str) -> list[str]:
    """The id an item gets, as this version and the one before computed it."""
    before = uuid.uuid5(
        uuid.UUID("3f6c2a8e-3b1d-4c57-9a51-0e2f7d9b4c18"), json.dumps([list(ns), key])
    )
    ids = [str(before)]
    layout_id = getattr(lg.layout, "memory_id", None)
    if layout_id is not None:
        ids.append(layout_id(ns, key))
    return ids


def test_another_scope_can_neither_take_nor_forge_an_items_id(
    lg: HybridMemStore, store: HybridStore
) -> None:
    bob = ("memories", "bob")
    # alice writes, in her own scope, under every id bob's item could have.
    for forged in _predictable_ids(lg, bob, "profile"):
        store.add(
            "forged",
            embedding=EMBEDDINGS.embed_query("forged"),
            user_id="alice",
            metadata={
                "text": "forged by alice",
                "_lg_namespace": list(bob),
                "_lg_key": "profile",
                "_lg_depth": 2,
                "_lg_ns0": "memories",
                "_lg_ns1": "bob",
            },
            memory_id=forged,
        )
    assert lg.get(bob, "profile") is None
    lg.put(bob, "profile", {"text": "bob's own"})
    item = lg.get(bob, "profile")
    assert item is not None and item.value == {"text": "bob's own"}
    lg.delete(bob, "profile")
    assert lg.get(bob, "profile") is None
    assert [m.text for m in store.get_all(user_id="alice")] == ["forged", "forged"]


def test_limit_zero_and_limits_above_the_core_bound_page_as_in_memory_store(
    lg: HybridMemStore,
) -> None:
    ns = ("memories", "alice")
    for i in range(3):
        lg.put(ns, f"k{i}", {"text": f"note {i}"})
    assert lg.search(ns, limit=0) == []
    assert lg.search(ns, query="note", limit=0) == []
    assert len(lg.search(ns, limit=200_000)) == 3
    assert len(lg.search(ns, query="note 1", limit=150_000, offset=1)) == 2
    assert len(lg.search(("memories",), limit=100_000, offset=1)) == 2
    assert lg.search(ns, query="note 1", limit=100_001)[0].key == "k1"


def test_index_false_items_are_kept_and_listed_unscored_after_the_ranked_ones(
    lg: HybridMemStore,
) -> None:
    ns = ("memories", "alice")
    reference = InMemoryStore(index=INDEX)
    for target in (lg, reference):
        target.put(ns, "ranked", {"text": "coffee"})
        target.put(ns, "hidden", {"text": "coffee"}, index=False)
    for limit in (1, 2):
        ours = [(i.key, i.score) for i in lg.search(ns, query="coffee", limit=limit)]
        theirs = [(i.key, i.score) for i in reference.search(ns, query="coffee", limit=limit)]
        assert [k for k, _ in ours] == [k for k, _ in theirs]
        assert [s is None for _, s in ours] == [s is None for _, s in theirs]
    assert [i.key for i in lg.search(ns, query="coffee", limit=2)] == ["ranked", "hidden"]
    item = lg.get(ns, "hidden")
    assert item is not None and item.value == {"text": "coffee"}


def test_filters_follow_langgraphs_semantics(lg: HybridMemStore) -> None:
    ns = ("memories", "alice")
    lg.put(ns, "a", {"text": "a", "created_at": "yesterday", "tags": ["x", "y"], "n": None})
    lg.put(ns, "b", {"text": "b", "flag": True, "meta": {"lang": "en", "v": 2}, "n": 1})
    lg.put(ns, "c", {"text": "c", "flag": 1, "n": 2.5})

    def keys(filter: dict[str, Any]) -> list[str]:
        return sorted(i.key for i in lg.search(ns, filter=filter))

    assert keys({"created_at": "yesterday"}) == ["a"]  # the value's field, not the record's
    assert keys({"tags": ["x", "y"]}) == ["a"]
    assert keys({"tags": ["y", "x"]}) == []
    assert keys({"n": None}) == ["a"]
    assert keys({"missing": None}) == ["a", "b", "c"]
    assert keys({"meta": {"lang": "en"}}) == ["b"]  # containment, as InMemoryStore
    # LangGraph's equality is Python's: True == 1 (issue 26 found them apart).
    assert keys({"flag": True}) == ["b", "c"]
    assert keys({"flag": 1}) == ["b", "c"]
    assert keys({"flag": {"$eq": True}}) == ["b", "c"]
    assert keys({"n": 1}) == ["b"]
    assert keys({"n": {"$gt": 1}}) == ["c"]
    assert keys({"n": {"$gte": 1, "$lt": 2}}) == ["b"]
    assert keys({"tags": {"$ne": ["x", "y"]}}) == ["b", "c"]
    assert keys({"meta": {"$eq": {"lang": "en", "v": 2}}}) == ["b"]
    with pytest.raises(ValueError, match="unsupported operator"):
        lg.search(ns, filter={"n": {"$in": [1]}})


def test_batch_reads_see_the_state_before_the_batch(lg: HybridMemStore) -> None:
    ns = ("memories", "alice")
    lg.put(ns, "k", {"text": "old"})
    results = lg.batch(
        [
            PutOp(ns, "k", {"text": "new"}),
            GetOp(ns, "k"),
            PutOp(ns, "fresh", {"text": "fresh"}),
            SearchOp(ns, limit=10),
        ]
    )
    got: Any = results[1]
    assert got.value == {"text": "old"}
    assert [i.key for i in results[3]] == ["k"]  # type: ignore[union-attr]
    item = lg.get(ns, "k")
    assert item is not None and item.value == {"text": "new"}
    assert lg.get(ns, "fresh") is not None
