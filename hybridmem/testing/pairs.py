"""The contract of a graph store and a vector store working as one ``HybridStore``.

The port contracts prove each adapter alone; this one proves a pair: a scoped
erasure leaves nothing of the scope and nothing else missing, and an operation
cut short between the two stores is finished (or rolled back) by ``recover()``.
Subclass it and override ``graph_store`` and ``vector_store`` (the fixtures of
the port contracts) to yield fresh, empty stores of the pair::

    class TestMyPair(StorePairContract):
        @pytest.fixture
        def graph_store(self): ...

        @pytest.fixture
        def vector_store(self): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hybridmem.faults import FaultHook, InjectedFault
from hybridmem.ports import GraphStore, VectorStore
from hybridmem.store import HybridStore
from hybridmem.testing.builders import embedding
from hybridmem.testing.contracts import StoreFixtures

USER = "pair-user"
#: delete_all erases this agent's memories; the other agent's share their entity.
ERASED, KEPT = "pair-erased", "pair-kept"
#: Two per batch: an erasure of five memories runs three batches.
BATCH_SIZE = 2

OpenPair = Callable[[FaultHook | None], HybridStore]


class FaultAt:
    """A fault hook that raises ``InjectedFault`` the first time ``point`` is reached."""

    def __init__(self, point: str) -> None:
        self.point = point
        self.fired = False

    def __call__(self, reached: str) -> None:
        if reached == self.point and not self.fired:
            self.fired = True
            raise InjectedFault(reached)


def _seed(store: HybridStore, erased: int = 5, kept: int = 2) -> dict[str, list[str]]:
    """Memories of one user: ``erased`` of agent ERASED, ``kept`` of agent KEPT; each
    mentions its own entity and "Paris", related to it, so Paris is shared."""
    ids: dict[str, list[str]] = {ERASED: [], KEPT: []}
    for agent, count in ((ERASED, erased), (KEPT, kept)):
        for i in range(count):
            own = f"{agent}-{i}"
            ids[agent].append(
                store.add(
                    f"memory {own}",
                    embedding=embedding(own),
                    user_id=USER,
                    agent_id=agent,
                    entities=[{"name": own, "type": "t"}, {"name": "Paris", "type": "city"}],
                    relations=[{"source": own, "target": "Paris", "type": "near"}],
                ).id
            )
    return ids


class StorePairContract(StoreFixtures):
    @pytest.fixture
    def open_pair(
        self, graph_store: GraphStore, vector_store: VectorStore, tmp_path: Path
    ) -> Iterator[OpenPair]:
        """A function: fault hook -> a HybridStore over the pair (closed afterwards)."""
        opened: list[HybridStore] = []

        def open_(fault_hook: FaultHook | None) -> HybridStore:
            store = HybridStore(
                {"data_dir": tmp_path / "pair", "batch_size": BATCH_SIZE},
                graph=graph_store,
                vector=vector_store,
                journal_path=tmp_path / "pair" / "journal.sqlite3",
                fault_hook=fault_hook,
            )
            opened.append(store)
            return store

        yield open_
        for store in opened:
            store.close()

    def _assert_kept_intact(self, store: HybridStore, ids: dict[str, list[str]]) -> None:
        kept = store.get_all(user_id=USER, agent_id=KEPT)
        assert sorted(m.id for m in kept) == sorted(ids[KEPT])
        assert {r.memory_id for r in store.relations(agent_id=KEPT)} == set(ids[KEPT])
        names = {e.name for e in store.entities(user_id=USER)}
        assert names == {"Paris"} | {f"{KEPT}-{i}" for i in range(len(ids[KEPT]))}
        assert store.reconcile().found.total() == 0

    def test_delete_all_erases_the_scope_and_nothing_else(self, open_pair: OpenPair) -> None:
        """Troubleshooting: vectors by id and by scope filter, memory nodes with their
        relations, then only the entities left with no MENTIONS and no RELATES."""
        store = open_pair(None)
        ids = _seed(store)
        result = store.delete_all(user_id=USER, agent_id=ERASED)
        assert (result.memories, result.vectors, result.memory_nodes) == (5, 5, 5)
        # Each erased memory's own entity goes; Paris stays for the kept ones.
        assert (result.relations, result.orphan_entities) == (5, 5)
        assert store.get_all(user_id=USER, agent_id=ERASED) == []
        assert store.relations(agent_id=ERASED) == []
        assert store.search(embedding(f"{ERASED}-0"), agent_id=ERASED) == []
        assert all(event.new_text is None for event in store.history(ids[ERASED][0]))
        self._assert_kept_intact(store, ids)

    def test_erasure_cut_short_is_finished_by_recover(self, open_pair: OpenPair) -> None:
        """Troubleshooting: every step must be idempotent; recover() repeats the
        interrupted batch (its vectors are gone already, its nodes not yet)."""
        fault = FaultAt("delete_all.vectors_deleted")
        store = open_pair(fault)
        ids = _seed(store)
        with pytest.raises(InjectedFault):
            store.delete_all(user_id=USER, agent_id=ERASED)
        assert fault.fired and store.stats()["pending_operations"] == 1
        [recovered] = store.recover()
        assert (recovered.kind, recovered.outcome) == ("delete_all", "completed")
        info = store.operation(recovered.operation_id)
        assert info is not None and info.state == "done" and info.counts["memories"] == 5
        assert store.get_all(user_id=USER, agent_id=ERASED) == []
        assert store.stats()["pending_operations"] == 0
        self._assert_kept_intact(store, ids)

    def test_add_cut_short_is_rolled_back_by_recover(self, open_pair: OpenPair) -> None:
        """Troubleshooting: a vector written without its memory node must be deleted
        by recover(), and deleting a node that was never written must count zero."""
        store = open_pair(FaultAt("add.vector_written"))
        with pytest.raises(InjectedFault):
            store.add("half", embedding=embedding("half"), user_id=USER, agent_id=ERASED)
        [recovered] = store.recover()
        assert (recovered.kind, recovered.outcome) == ("add", "rolled_back")
        assert store.get_all(user_id=USER) == []
        assert store.stats() == {
            "vectors": 0,
            "memory_nodes": 0,
            "entities": 0,
            "relations": 0,
            "pending_operations": 0,
            "set_aside_operations": 0,
        }

    def test_delete_cut_short_is_finished_by_recover(self, open_pair: OpenPair) -> None:
        """Troubleshooting: deleting an id whose vector is already gone must still
        delete its memory node, relations and orphaned entities."""
        store = open_pair(FaultAt("delete.vector_deleted"))
        ids = _seed(store, erased=1)
        with pytest.raises(InjectedFault):
            store.delete(ids[ERASED][0])
        [recovered] = store.recover()
        assert (recovered.kind, recovered.outcome) == ("delete", "completed")
        assert store.get(ids[ERASED][0]) is None
        assert store.relations(agent_id=ERASED) == []
        self._assert_kept_intact(store, ids)
