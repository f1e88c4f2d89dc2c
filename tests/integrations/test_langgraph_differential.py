"""HybridMemStore against LangGraph's InMemoryStore: the same seeded operations,
sync and async, give the same results, except for the intended differences the
integration's README lists:

* unranked results (search without a query, and the unscored tail of a query
  search) come newest first, not in InMemoryStore's namespace-then-insertion
  order: compared as sets;
* list_namespaces lists namespaces that hold items (InMemoryStore also lists
  namespaces a get touched or a delete emptied): InMemoryStore's empty ones are
  dropped before comparing;
* scores are the same cosine computed on float32 vectors: compared to 1e-4;
* TTLs (InMemoryStore has none) are long enough never to expire here.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    SearchItem,
    SearchOp,
)
from langgraph.store.memory import InMemoryStore

from hybridmem.api import MemoryStore
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from langgraph_hybridmem import HybridMemStore
from tests.server.live import LiveServer

INDEX: Any = {"dims": 16, "embed": DeterministicFakeEmbedding(size=16), "fields": ["text"]}
NAMESPACES = [
    ("memories", "alice"),
    ("memories", "alice", "planner"),
    ("memories", "bob"),
    ("memories", "langgraph:docs"),
    ("docs",),
    ("docs", "manuals"),
]
PREFIXES = [(), ("memories",), ("memories", "alice"), ("docs",), ("docs", "manuals"), ("nope",)]
KEYS = ["k0", "k1", "k2", "k3", "u0", "u1"]  # u*: always put with index=False
OPS_PER_RUN = 400


@pytest.fixture
def store(any_store: MemoryStore) -> MemoryStore:
    """In process on each pair, and a HybridMemClient of a live serve (issue 23)."""
    return any_store


@pytest.fixture
def pair(store: MemoryStore) -> Iterator[tuple[HybridMemStore, InMemoryStore]]:
    yield HybridMemStore(store, index=INDEX), InMemoryStore(index=INDEX)


class Ops:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.count = 0

    def put(self) -> PutOp:
        rng = self.rng
        ns, key = rng.choice(NAMESPACES), rng.choice(KEYS)
        if rng.random() < 0.15:
            return PutOp(ns, key, None)
        self.count += 1
        value: dict[str, Any] = {
            "text": f"note {self.count} {rng.choice(['tea', 'coffee', 'juice'])}",
            "kind": rng.choice(["a", "b"]),
            "n": rng.randint(2, 6),
        }
        if rng.random() < 0.3:
            value["tags"] = rng.choice([["x"], ["x", "y"], []])
        if rng.random() < 0.3:
            value["meta"] = {"lang": rng.choice(["en", "fr"]), "flag": rng.random() < 0.5}
        if rng.random() < 0.2:
            value["created_at"] = rng.choice(["monday", "tuesday"])
        ttl = rng.choice([None, 60.0])
        return PutOp(ns, key, value, index=False if key.startswith("u") else None, ttl=ttl)

    def filter(self) -> dict[str, Any] | None:
        rng = self.rng
        return rng.choice(
            [
                None,
                {"kind": rng.choice(["a", "b"])},
                {"n": {rng.choice(["$gt", "$gte", "$lt", "$lte"]): rng.randint(2, 6)}},
                {"n": {"$ne": 3}, "kind": "a"},
                {"tags": rng.choice([["x"], ["x", "y"], []])},
                {"meta": {"lang": "en"}},
                {"meta": {"flag": True}},
                {"created_at": "monday"},
                {"absent": None},
                {"tags": {"$eq": ["x"]}},
            ]
        )

    def read(self) -> Op:
        rng = self.rng
        kind = rng.random()
        if kind < 0.3:
            return GetOp(rng.choice(NAMESPACES), rng.choice(KEYS), refresh_ttl=rng.random() < 0.5)
        if kind < 0.75:
            query = rng.choice([None, "tea", "note 3 coffee", "juice"])
            return SearchOp(
                rng.choice(PREFIXES),
                self.filter(),
                limit=rng.randint(0, 8),
                offset=rng.randint(0, 3),
                query=query,
                refresh_ttl=rng.random() < 0.3,
            )
        conditions = []
        if rng.random() < 0.5:
            conditions.append(MatchCondition("prefix", rng.choice([*PREFIXES[1:], ("*", "alice")])))
        if rng.random() < 0.3:
            conditions.append(MatchCondition("suffix", rng.choice([("alice",), ("planner",)])))
        return ListNamespacesOp(
            tuple(conditions),
            max_depth=rng.choice([None, 1, 2]),
            limit=rng.randint(1, 10),
            offset=rng.randint(0, 2),
        )

    def batch(self) -> list[Op]:
        return [self.put() if self.rng.random() < 0.5 else self.read() for _ in range(4)]

    def next(self) -> list[Op]:
        kind = self.rng.random()
        if kind < 0.45:
            return [self.put()]
        if kind < 0.9:
            return [self.read()]
        return self.batch()


def _without_ttl(op: Op) -> Op:
    return op._replace(ttl=None) if isinstance(op, PutOp) else op


def _drop_empty_namespaces(reference: InMemoryStore) -> None:
    for namespace in [ns for ns, items in reference._data.items() if not items]:
        del reference._data[namespace]


def _item(item: Item) -> tuple[Any, ...]:
    return (item.namespace, item.key, json.dumps(item.value, sort_keys=True))


def _assert_search(
    ours: list[SearchItem], theirs: list[SearchItem], everything: list[SearchItem], op: SearchOp
) -> None:
    assert len(ours) == len(theirs), op
    scored = [(i.key, i.namespace, i.score) for i in ours if i.score is not None]
    expected = [(i.key, i.namespace, i.score) for i in theirs if i.score is not None]
    assert [(k, ns) for k, ns, _ in scored] == [(k, ns) for k, ns, _ in expected], op
    for (_, _, got), (_, _, want) in zip(scored, expected, strict=True):
        assert got == pytest.approx(want, abs=1e-4)
    # The unranked part: the same items when the page holds them all, else a
    # page of them (InMemoryStore orders them otherwise).
    unranked = {_item(i) for i in ours if i.score is None}
    possible = {_item(i) for i in everything}
    assert unranked <= possible, op
    if len(everything) <= op.limit and (op.query or op.offset == 0):
        assert unranked == {_item(i) for i in theirs if i.score is None}, op


def _compare(ops: list[Op], ours: list[Any], theirs: list[Any], before: list[Any]) -> None:
    for op, got, want, everything in zip(ops, ours, theirs, before, strict=True):
        if isinstance(op, GetOp):
            assert (got and _item(got)) == (want and _item(want)), op
        elif isinstance(op, SearchOp):
            _assert_search(got, want, everything, op)
        elif isinstance(op, ListNamespacesOp):
            assert got == want, op
        else:
            assert got is None and want is None


def _reference_batch(reference: InMemoryStore, ops: list[Op]) -> tuple[list[Any], list[Any]]:
    """InMemoryStore's results, and for each search every item it could page
    through (read before the batch, as the batch's reads are)."""
    _drop_empty_namespaces(reference)
    before = [
        reference.search(op.namespace_prefix, filter=op.filter, limit=10_000)
        if isinstance(op, SearchOp)
        else None
        for op in ops
    ]
    return reference.batch([_without_ttl(op) for op in ops]), before


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_same_results_as_in_memory_store(
    pair: tuple[HybridMemStore, InMemoryStore], seed: int
) -> None:
    ours, reference = pair
    ops = Ops(seed)
    for _ in range(OPS_PER_RUN):
        batch = ops.next()
        theirs, before = _reference_batch(reference, batch)
        _compare(batch, ours.batch(batch), theirs, before)
    _assert_same_state(ours, reference)


@pytest.mark.parametrize("seed", [5, 6])
async def test_same_results_as_in_memory_store_async(
    pair: tuple[HybridMemStore, InMemoryStore], seed: int
) -> None:
    ours, reference = pair
    await _run_awaited(ours, reference, seed)
    _assert_same_state(ours, reference)


async def test_same_results_over_the_async_client(served: LiveServer) -> None:
    """Over an AsyncHybridMemClient (issue 23): the store's HTTP calls run on this
    test's event loop, and give InMemoryStore's results."""
    with HybridMemClient(served.url) as admin:
        admin.reset()
    async with AsyncHybridMemClient(served.url) as client:
        ours, reference = HybridMemStore(client, index=INDEX), InMemoryStore(index=INDEX)
        await _run_awaited(ours, reference, 7)
        _drop_empty_namespaces(reference)
        listed = await ours.alist_namespaces(limit=1000)
        assert listed == reference.list_namespaces(limit=1000)
        mine = {_item(i) for i in await ours.asearch((), limit=10_000)}
        assert mine == {_item(i) for i in reference.search((), limit=10_000)}
        # A synchronous call from the loop that owns the client would deadlock.
        with pytest.raises(RuntimeError, match="async methods"):
            ours.get(("memories", "alice"), "k0")


async def _run_awaited(ours: HybridMemStore, reference: InMemoryStore, seed: int) -> None:
    ops = Ops(seed)
    for _ in range(OPS_PER_RUN):
        batch = ops.next()
        theirs, before = _reference_batch(reference, batch)
        if len(batch) == 1 and isinstance(batch[0], PutOp):
            put = batch[0]
            if put.value is None:
                await ours.adelete(put.namespace, put.key)
            else:
                await ours.aput(put.namespace, put.key, put.value, index=put.index, ttl=put.ttl)
            got: list[Any] = [None]
        elif len(batch) == 1 and isinstance(batch[0], GetOp):
            get = batch[0]
            got = [await ours.aget(get.namespace, get.key, refresh_ttl=get.refresh_ttl)]
        else:
            got = await ours.abatch(batch)
        _compare(batch, got, theirs, before)


def _assert_same_state(ours: BaseStore, reference: InMemoryStore) -> None:
    _drop_empty_namespaces(reference)
    assert ours.list_namespaces(limit=1000) == reference.list_namespaces(limit=1000)
    mine = {_item(i) for i in ours.search((), limit=10_000)}
    assert mine == {_item(i) for i in reference.search((), limit=10_000)}
