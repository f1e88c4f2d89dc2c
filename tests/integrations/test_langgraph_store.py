"""HybridMemStore against LangGraph's own store behaviours (the ones its store tests
check on InMemoryStore, written anew here), on hybridmem's real stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langgraph.store.base import GetOp, InvalidNamespaceError, ListNamespacesOp, PutOp, SearchOp

from hybridmem.api import MemoryStore
from langgraph_hybridmem import HybridMemStore
from tests.integrations.checks import assert_no_trace
from tests.integrations.langgraph_checks import items_only, markers_of

EMBEDDINGS = DeterministicFakeEmbedding(size=16)


@pytest.fixture
def store(any_store: MemoryStore) -> MemoryStore:
    """In process on each pair, and a HybridMemClient of a live serve (issue 23)."""
    return any_store


@pytest.fixture
def lg(store: MemoryStore) -> Iterator[HybridMemStore]:
    yield HybridMemStore(store, index={"dims": 16, "embed": EMBEDDINGS, "fields": ["text"]})


def test_put_get_update_delete(lg: HybridMemStore) -> None:
    ns = ("memories", "alice")
    lg.put(ns, "k1", {"text": "likes tea", "n": 1, "tags": ["a", "b"], "deep": {"x": [1]}})
    item = lg.get(ns, "k1")
    assert item is not None
    assert (item.namespace, item.key) == (ns, "k1")
    assert item.value == {"text": "likes tea", "n": 1, "tags": ["a", "b"], "deep": {"x": [1]}}
    lg.put(ns, "k1", {"text": "likes coffee"})
    updated = lg.get(ns, "k1")
    assert updated is not None and updated.value == {"text": "likes coffee"}
    assert updated.created_at == item.created_at
    assert updated.updated_at >= item.updated_at
    assert lg.get(ns, "other") is None
    assert lg.get(("memories", "bob"), "k1") is None
    lg.delete(ns, "k1")
    assert lg.get(ns, "k1") is None
    lg.delete(ns, "k1")  # deleting a missing key is a no-op


def test_namespaces_map_onto_scopes(lg: HybridMemStore, store: MemoryStore) -> None:
    lg.put(("memories", "alice"), "a", {"text": "user level"})
    lg.put(("memories", "alice", "planner", "run-7"), "b", {"text": "run level"})
    lg.put(("docs", "manuals"), "c", {"text": "another layout"})
    memories = store.get_all(user_id="alice", limit=None)
    scopes = {(m.user_id, m.agent_id, m.run_id) for m in items_only(memories)}
    assert scopes == {("alice", None, None), ("alice", "planner", "run-7")}
    # A plain read of the scope also shows the namespace index's markers.
    assert markers_of(memories) == [
        ("memories", "alice"),
        ("memories", "alice", "planner", "run-7"),
    ]
    [other] = items_only(store.get_all(user_id="langgraph:docs"))
    assert other.text == "another layout"
    # Nothing lost: every item comes back with its full namespace.
    assert lg.search(("docs",))[0].namespace == ("docs", "manuals")


def test_keys_are_stable_ids_across_batches(lg: HybridMemStore) -> None:
    ns = ("memories", "alice")
    lg.batch([PutOp(ns, "k", {"text": "one"}), PutOp(ns, "k", {"text": "two"})])
    [item] = lg.search(ns)
    assert (item.key, item.value) == ("k", {"text": "two"})
    results = lg.batch([GetOp(ns, "k"), SearchOp(ns, limit=5), ListNamespacesOp()])
    assert results[0] is not None and results[0].value == {"text": "two"}  # type: ignore[union-attr]
    assert len(results[1]) == 1  # type: ignore[arg-type]
    assert results[2] == [ns]


def test_invalid_namespaces_and_reserved_keys_are_refused(lg: HybridMemStore) -> None:
    for bad in [(), ("the", "thing.about"), ("some", "fun", ""), ("langgraph", "foo")]:
        with pytest.raises(InvalidNamespaceError):
            lg.put(bad, "k", {"text": "x"})
    with pytest.raises(ValueError, match="reserved"):
        lg.put(("memories", "alice"), "k", {"_lg_key": "forged"})
    with pytest.raises(ValueError, match="reserved"):
        lg.search(("memories", "alice"), filter={"_lg_ns0": "x"})
    assert lg.list_namespaces() == []


NAMESPACES = [
    ("a", "b", "c"),
    ("a", "b", "d", "e"),
    ("a", "b", "d", "i"),
    ("a", "b", "f"),
    ("a", "c", "f"),
    ("b", "a", "f"),
    ("users", "123"),
    ("users", "456", "settings"),
    ("admin", "users", "789"),
    ("memories", "alice"),
    ("memories", "alice", "planner"),
]


def test_list_namespaces_prefix_suffix_wildcards_depth_paging(lg: HybridMemStore) -> None:
    assert lg.list_namespaces() == []
    for i, ns in enumerate(NAMESPACES):
        lg.put(ns, f"id_{i}", {"text": f"value {i}"})
    assert lg.list_namespaces() == sorted(NAMESPACES)
    assert lg.list_namespaces(prefix=("a", "b")) == [
        ("a", "b", "c"),
        ("a", "b", "d", "e"),
        ("a", "b", "d", "i"),
        ("a", "b", "f"),
    ]
    assert lg.list_namespaces(suffix=("f",)) == [("a", "b", "f"), ("a", "c", "f"), ("b", "a", "f")]
    assert lg.list_namespaces(prefix=("a",), suffix=("f",)) == [("a", "b", "f"), ("a", "c", "f")]
    assert lg.list_namespaces(prefix=("a", "*", "f")) == [("a", "b", "f"), ("a", "c", "f")]
    assert lg.list_namespaces(suffix=("*", "settings")) == [("users", "456", "settings")]
    assert lg.list_namespaces(prefix=("a", "b"), max_depth=3) == [
        ("a", "b", "c"),
        ("a", "b", "d"),
        ("a", "b", "f"),
    ]
    assert lg.list_namespaces(max_depth=1) == [
        ("a",),
        ("admin",),
        ("b",),
        ("memories",),
        ("users",),
    ]
    assert lg.list_namespaces(prefix=("a", "b"), limit=2) == [("a", "b", "c"), ("a", "b", "d", "e")]
    assert lg.list_namespaces(prefix=("a", "b"), offset=2) == [
        ("a", "b", "d", "i"),
        ("a", "b", "f"),
    ]
    assert lg.list_namespaces(prefix=("memories",)) == [
        ("memories", "alice"),
        ("memories", "alice", "planner"),
    ]
    assert lg.list_namespaces(prefix=("memories", "alice"), max_depth=2) == [("memories", "alice")]
    assert lg.list_namespaces(prefix=("nonexistent",)) == []


def test_search_filters_in_the_store_with_paging(lg: HybridMemStore) -> None:
    ns = ("memories", "alice")
    for i in range(6):
        lg.put(ns, f"k{i}", {"text": f"note {i}", "kind": "even" if i % 2 == 0 else "odd", "n": i})
    lg.put(("memories", "alicex"), "k", {"text": "note 0", "kind": "even", "n": 0})
    evens = lg.search(ns, filter={"kind": "even"}, limit=10)
    assert sorted(i.key for i in evens) == ["k0", "k2", "k4"]
    assert all(i.namespace == ns for i in evens)
    big = lg.search(ns, filter={"n": {"$gt": 2}, "kind": {"$ne": "odd"}})
    assert [i.key for i in big] == ["k4"]
    first, second = lg.search(ns, limit=3), lg.search(ns, limit=3, offset=3)
    assert len({i.key for i in first + second}) == 6
    ranked = lg.search(ns, query="note 3", limit=2)
    assert ranked[0].key == "k3" and ranked[0].score == pytest.approx(1.0)
    paged = lg.search(ns, query="note 3", limit=2, offset=1)
    assert [i.key for i in paged] == [i.key for i in lg.search(ns, query="note 3", limit=3)[1:]]
    # A prefix above one scope scans, and still filters and ranks.
    assert {i.namespace for i in lg.search(("memories",), query="note 0", limit=2)} == {
        ns,
        ("memories", "alicex"),
    }


def test_index_fields_choose_what_is_embedded(lg: HybridMemStore) -> None:
    ns = ("memories", "alice")
    lg.put(ns, "a", {"text": "tea", "other": "coffee"})
    lg.put(ns, "b", {"text": "coffee"}, index=["text"])
    lg.put(ns, "c", {"title": "coffee", "text": "juice"}, index=["title"])
    assert {i.key for i in lg.search(ns, query="coffee", limit=2)} == {"b", "c"}


def test_ttl_hides_expired_items_and_sweep_erases_them(
    lg: HybridMemStore, store: MemoryStore
) -> None:
    ns = ("memories", "alice")
    lg.put(ns, "short", {"text": "short-lived"}, ttl=0.02)  # 1.2 s
    lg.put(ns, "forever", {"text": "kept"})
    time.sleep(1.5)
    assert lg.get(ns, "short") is None
    assert [i.key for i in lg.search(ns)] == ["forever"]
    assert [i.key for i in lg.search(ns, query="short-lived")] == ["forever"]
    assert lg.sweep_ttl() == 1
    assert_no_trace(store, left=2)  # "forever" and its namespace's marker


def test_reading_refreshes_ttl(lg: HybridMemStore) -> None:
    ns = ("memories", "alice")
    lg.put(ns, "k", {"text": "x"}, ttl=0.1)  # 6 s
    start = time.monotonic()
    time.sleep(4)
    assert lg.get(ns, "k") is not None  # refreshes: expires 6 s from now
    time.sleep(max(0.0, start + 8 - time.monotonic()))
    assert lg.get(ns, "k", refresh_ttl=False) is not None  # past the first expiry
    time.sleep(max(0.0, start + 11.5 - time.monotonic()))
    assert lg.get(ns, "k") is None


def test_ttl_is_hybridmems_expiry_and_purge_erases_the_item(
    lg: HybridMemStore, store: MemoryStore
) -> None:
    """An item's TTL is the memory's expires_at: hybridmem's own reads stop
    returning it when it expires, and purge_expired (hybridmem serve's sweep)
    erases it, not only this store's sweep."""
    ns = ("memories", "alice")
    lg.put(ns, "short", {"text": "short-lived"}, ttl=0.1)  # 6 s
    lg.put(ns, "forever", {"text": "kept"})
    short = lg.get(ns, "short", refresh_ttl=False)
    assert short is not None
    [memory] = [
        m for m in items_only(store.get_all(user_id="alice")) if m.metadata["_lg_key"] == "short"
    ]
    assert memory.expires_at is not None
    assert abs((memory.expires_at - memory.updated_at).total_seconds() - 6) < 0.5
    time.sleep(max(0.0, (memory.expires_at - datetime.now(UTC)).total_seconds()) + 0.2)
    assert [m.metadata["_lg_key"] for m in items_only(store.get_all(user_id="alice"))] == [
        "forever"
    ]
    assert store.get(memory.id) is None
    assert store.purge_expired()["memories"] == 1
    assert [i.key for i in lg.search(ns)] == ["forever"]
    assert_no_trace(store, left=2)  # "forever" and its namespace's marker


def test_ttl_sweeper_erases_expired_items_until_stopped(
    lg: HybridMemStore, store: MemoryStore
) -> None:
    with pytest.raises(ValueError, match="sweep_interval_minutes"):
        lg.start_ttl_sweeper()
    ns = ("memories", "alice")
    lg.put(ns, "short", {"text": "short-lived"}, ttl=0.02)  # 1.2 s
    lg.put(ns, "forever", {"text": "kept"})
    done = lg.start_ttl_sweeper(sweep_interval_minutes=0.005)
    with pytest.raises(RuntimeError, match="running already"):
        lg.start_ttl_sweeper(sweep_interval_minutes=1)
    deadline = time.monotonic() + 20
    while store.stats()["vectors"] > 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lg.stop_ttl_sweeper(timeout=10)
    assert done.done() and done.exception() is None
    assert_no_trace(store, left=2)  # "forever" and its namespace's marker


def test_items_with_an_expiry_only_in_metadata_are_found_once_and_erased_when_due(
    lg: HybridMemStore, store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items written before the core expiry carry theirs only in metadata. The
    sweep finds them with one read of the store, not a read of the whole store on
    every sweep, and erases each when it is due unless a put renewed it since."""
    ns = ("memories", "alice")
    for key in ("old", "renewed", "forever"):
        lg.put(ns, key, {"text": key})
    due = time.time() + 1.0
    for memory in items_only(store.get_all(user_id="alice")):
        if memory.metadata["_lg_key"] != "forever":  # as an older version wrote them
            store.update(memory.id, metadata={**memory.metadata, "_lg_ttl": 1, "_lg_expires": due})
    reads: list[tuple[str, ...]] = []
    matching = lg._matching

    def counted(prefix: tuple[str, ...], *args: Any, **kwargs: Any) -> Any:
        reads.append(prefix)
        return matching(prefix, *args, **kwargs)

    monkeypatch.setattr(lg, "_matching", counted)
    assert lg.sweep_ttl() == 0  # none due yet
    lg.put(ns, "renewed", {"text": "renewed"}, ttl=60)
    time.sleep(max(0.0, due - time.time()) + 0.1)
    assert lg.sweep_ttl() == 1
    assert lg.sweep_ttl(("memories",)) == 0
    assert reads == [()]
    assert lg._legacy == {}  # none held that has no due time ("forever")
    assert sorted(i.key for i in lg.search(ns)) == ["forever", "renewed"]
    assert_no_trace(store, left=3)  # and the namespace's marker


def test_delete_namespace_is_delete_all_and_leaves_no_trace(
    lg: HybridMemStore, store: MemoryStore
) -> None:
    for i in range(3):
        lg.put(("memories", "alice"), f"k{i}", {"text": f"alice {i}"})
        lg.put(("memories", "alice", "planner"), f"p{i}", {"text": f"planner {i}"})
    store.add(
        "Alice lives in Lisbon",
        embedding=EMBEDDINGS.embed_query("x"),
        user_id="alice",
        relations=[{"source": "Alice", "target": "Lisbon", "type": "lives_in"}],
    )
    lg.put(("memories", "bob"), "k", {"text": "bob's"})
    assert lg.delete_namespace(("memories", "alice")) == 7
    assert lg.list_namespaces(prefix=("memories",)) == [("memories", "bob")]
    assert store.entities(user_id="alice") == [] and store.relations(user_id="alice") == []
    # 7: the six items and the memory written beside them: one delete_all of the scope,
    # which also erased the namespaces' markers (bob's item and marker are left).
    assert_no_trace(store, left=2)


def test_delete_namespace_below_or_above_a_scope(lg: HybridMemStore, store: MemoryStore) -> None:
    lg.put(("memories", "alice", "planner", "r1", "notes"), "a", {"text": "x"})
    lg.put(("memories", "alice", "planner", "r1"), "b", {"text": "y"})
    lg.put(("docs", "manuals"), "c", {"text": "z"})
    assert lg.delete_namespace(("memories", "alice", "planner", "r1", "notes")) == 1
    assert [i.key for i in lg.search(("memories", "alice"))] == ["b"]
    assert lg.delete_namespace(("docs",)) == 1
    assert lg.delete_namespace(("memories",)) == 1
    assert_no_trace(store)


async def test_async_methods(lg: HybridMemStore, store: MemoryStore) -> None:
    ns = ("memories", "alice")
    await lg.aput(ns, "k", {"text": "async"})
    item = await lg.aget(ns, "k")
    assert item is not None and item.value == {"text": "async"}
    assert [i.key for i in await lg.asearch(ns, query="async")] == ["k"]
    assert await lg.alist_namespaces(prefix=("memories",)) == [ns]
    results: list[Any] = await lg.abatch([GetOp(ns, "k"), PutOp(ns, "k", None), GetOp(ns, "k")])
    # A batch's reads see the state before it, as InMemoryStore's do.
    assert results[0] is not None and results[2] is not None
    assert await lg.aget(ns, "k") is None
    await lg.adelete_namespace(ns)
    assert_no_trace(store)
