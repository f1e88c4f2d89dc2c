"""Issue 26: list_namespaces and short-prefix searches cost what they return.

They read the namespace index (one marker memory per namespace, kept in
hybridmem) and then only the namespaces they return, never the other
namespaces' items; and they stay right when items are erased outside LangGraph."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langgraph.store.base import PutOp

from hybridmem import HybridStore
from hybridmem.models import Memory, SearchHit
from langchain_hybridmem import HybridMemVectorStore
from langgraph_hybridmem import HybridMemStore
from langgraph_hybridmem.index import INDEX_RUN
from tests.integrations.checks import assert_no_trace
from tests.integrations.langgraph_checks import items_only, markers_of

EMBEDDINGS = DeterministicFakeEmbedding(size=16)
INDEX: Any = {"dims": 16, "embed": EMBEDDINGS, "fields": ["text"]}
USERS, PER_USER = 12, 15


@pytest.fixture
def lg(store: HybridStore) -> Iterator[HybridMemStore]:
    yield HybridMemStore(store, index=INDEX)


def _fill(lg: HybridMemStore) -> None:
    lg.batch(
        [
            PutOp(("memories", f"user{u:02}"), f"k{i}", {"text": f"note {i} of user {u}"})
            for u in range(USERS)
            for i in range(PER_USER)
        ]
    )


class ReadLog:
    """Every memory the real store's reads hand back, by the namespace it holds."""

    def __init__(self, store: HybridStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.namespaces: list[tuple[str, ...]] = []
        self.scans = 0
        for name in ("get_all", "search", "get"):
            self._wrap(store, name, monkeypatch)
        iter_ids = store.vector.iter_ids

        def counted_scan(*args: Any, **kwargs: Any) -> Any:
            self.scans += 1
            return iter_ids(*args, **kwargs)

        monkeypatch.setattr(store.vector, "iter_ids", counted_scan)

    def _wrap(self, store: HybridStore, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        read = getattr(store, name)

        def logged(*args: Any, **kwargs: Any) -> Any:
            found = read(*args, **kwargs)
            for entry in found if isinstance(found, list) else [found]:
                memory = entry.memory if isinstance(entry, SearchHit) else entry
                if isinstance(memory, Memory) and "_lg_namespace" in memory.metadata:
                    self.namespaces.append(tuple(memory.metadata["_lg_namespace"]))
            return found

        monkeypatch.setattr(store, name, logged)


def test_list_namespaces_reads_no_items(
    lg: HybridMemStore, store: HybridStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(lg)
    log = ReadLog(store, monkeypatch)
    assert lg.list_namespaces(limit=5) == [("memories", f"user{u:02}") for u in range(5)]
    assert lg.list_namespaces(prefix=("memories", "user03")) == [("memories", "user03")]
    assert lg.list_namespaces(max_depth=1) == [("memories",)]
    assert (log.namespaces, log.scans) == ([], 0)


def test_a_short_prefix_search_reads_only_the_namespaces_it_returns(
    lg: HybridMemStore, store: HybridStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(lg)
    log = ReadLog(store, monkeypatch)
    page = lg.search(("memories",), limit=5)
    assert len(page) == 5 and len({i.namespace for i in page}) == 1
    assert set(log.namespaces) == {page[0].namespace} and log.scans == 0
    # The newest namespace first; newest first within one; paging goes on.
    last = ("memories", f"user{USERS - 1:02}")
    assert page[0].namespace == last
    rest = lg.search(("memories",), limit=PER_USER, offset=5)
    assert [i.namespace for i in rest] == [last] * 10 + [("memories", f"user{USERS - 2:02}")] * 5
    keys = [(i.namespace, i.key) for i in page + rest]
    assert len(set(keys)) == len(keys)


def test_erasures_outside_langgraph_leave_no_namespace_listed(
    lg: HybridMemStore, store: HybridStore
) -> None:
    lg.put(("memories", "alice"), "a", {"text": "alice's"})
    lg.put(("memories", "alice", "planner"), "p", {"text": "planner's"})
    lg.put(("memories", "bob"), "b", {"text": "bob's"})
    lg.put(("memories", "carol", "agent", "run-1"), "c", {"text": "a run's"})
    lg.put(("memories", "dave"), "d", {"text": "short-lived"}, ttl=0.02)  # 1.2 s
    store.delete_all(user_id="alice")
    # No erased user's namespace name is left anywhere: the markers went with her.
    assert store.get_all(user_id="alice") == []
    store.delete_all(run_id="run-1")
    time.sleep(1.5)
    assert store.purge_expired()["memories"] == 1
    assert lg.list_namespaces() == [("memories", "bob")]
    assert lg.search(("memories",)) == lg.search(("memories", "bob"))
    assert [i.key for i in lg.search((), query="bob's")] == ["b"]
    # The dead namespaces' markers were retired by that read.
    assert markers_of(store.get_all(run_id=INDEX_RUN)) == [("memories", "bob")]


def test_namespaces_emptied_through_langgraph_are_not_listed(lg: HybridMemStore) -> None:
    for ns in [("memories", "alice"), ("docs", "a"), ("docs", "b", "c")]:
        lg.put(ns, "k", {"text": "x"})
    lg.delete(("docs", "a"), "k")
    assert lg.list_namespaces() == [("docs", "b", "c"), ("memories", "alice")]
    assert lg.delete_namespace(("docs",)) == 1
    assert lg.list_namespaces() == [("memories", "alice")]
    lg.batch([PutOp(("memories", "alice"), "k", None), PutOp(("memories", "bob"), "k", {})])
    assert lg.list_namespaces() == [("memories", "bob")]


def test_the_index_is_in_the_store_shared_by_every_store_object(
    lg: HybridMemStore, store: HybridStore
) -> None:
    lg.put(("memories", "alice"), "a", {"text": "x"})
    other = HybridMemStore(store, index=INDEX)
    assert other.list_namespaces() == [("memories", "alice")]
    other.delete(("memories", "alice"), "a")
    assert lg.list_namespaces() == []
    assert_no_trace(store)


def test_repair_finds_items_without_markers_and_retires_stale_ones(
    lg: HybridMemStore, store: HybridStore
) -> None:
    lg.put(("memories", "alice"), "a", {"text": "x"})
    lg.put(("memories", "bob"), "b", {"text": "y"})
    [alice] = items_only(store.get_all(user_id="alice"))
    store.delete(alice.id)  # one item erased through hybridmem: its marker stays
    [bob_marker] = store.get_all(user_id="bob", run_id=INDEX_RUN)
    store.delete(bob_marker.id)  # as a store written before the index
    assert lg.repair_namespace_index() == 1
    assert lg.list_namespaces() == [("memories", "bob")]
    assert markers_of(store.get_all(run_id=INDEX_RUN)) == [("memories", "bob")]


def test_markers_are_not_vectorstore_documents(lg: HybridMemStore, store: HybridStore) -> None:
    lg.put(("memories", "alice"), "a", {"text": "LangGraph namespace"})
    vs = HybridMemVectorStore(store, EMBEDDINGS, user_id="alice")
    vs.add_texts(["a document"], ids=["doc"])
    found = vs.similarity_search("LangGraph namespace", k=10)
    assert [d.page_content for d in found] == ["a document"]
    assert [m for m in store.get_all(user_id="alice") if "_lg_marker" in m.metadata]
