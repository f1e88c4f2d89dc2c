"""hybridmem.plan without a store: the tally, the loop guard, progress and results."""

from __future__ import annotations

import pytest

from hybridmem.errors import StoreError
from hybridmem.models import Scope
from hybridmem.plan import (
    DELETE_ALL_MESSAGE,
    DELETE_MESSAGE,
    DeletionPlan,
    DeletionTally,
    preview,
)
from hybridmem.records import GraphDeleteCounts

ALICE = Scope(user_id="alice")


def test_a_batch_counts_one_memory_per_memory_node() -> None:
    tally = DeletionTally()
    # Three nodes removed but only two vectors: one memory had lost its vector.
    tally.add_batch(2, GraphDeleteCounts(memory_nodes=3, relations=4, orphan_entities=1))
    tally.add_batch(5, GraphDeleteCounts(memory_nodes=5, relations=0, orphan_entities=2))
    assert tally.counts() == {
        "memories": 8,
        "vectors": 7,
        "memory_nodes": 8,
        "relations": 4,
        "orphan_entities": 3,
        "batches": 2,
    }


def test_swept_vectors_are_memories_without_a_node() -> None:
    tally = DeletionTally()
    tally.add_batch(1, GraphDeleteCounts(memory_nodes=1))
    tally.add_swept_vectors(2)
    assert (tally.memories, tally.vectors, tally.memory_nodes, tally.batches) == (3, 3, 1, 1)


def test_tally_resumes_from_journal_counts() -> None:
    tally = DeletionTally()
    tally.add_batch(2, GraphDeleteCounts(memory_nodes=2, relations=1, orphan_entities=1))
    resumed = DeletionTally.from_counts(tally.counts())
    assert resumed == tally
    # Counts written by another version: unknown names ignored, missing ones zero.
    partial = DeletionTally.from_counts({"memories": 4, "rolled_back": 1})
    assert partial == DeletionTally(memories=4)


def test_guard_refuses_the_same_batch_twice_in_a_row() -> None:
    plan = DeletionPlan("op", ALICE, 10)
    plan.next_batch_guard(["a", "b"])
    plan.next_batch_guard(["c"])
    with pytest.raises(StoreError) as caught:
        plan.next_batch_guard(["c"])
    # The message says which store misbehaved; "-" stands for an address the plan does not know.
    assert str(caught.value) == (
        "graph store at -: the same 1 memory ids were returned after being deleted"
    )
    assert (caught.value.store, caught.value.address) == ("graph store", "-")


def test_guard_compares_batches_as_sets() -> None:
    plan = DeletionPlan("op", ALICE, 10)
    plan.next_batch_guard(["a", "b"])
    with pytest.raises(StoreError):
        plan.next_batch_guard(["b", "a"])


def test_guard_lets_a_batch_come_back_after_another() -> None:
    plan = DeletionPlan("op", ALICE, 10)
    for batch in (["a"], ["b"], ["a"], [], []):
        plan.next_batch_guard(batch)


def test_progress_total_never_below_done_and_exact_when_done() -> None:
    plan = DeletionPlan("op", ALICE, 10, total=5)
    first = plan.progress("counting")
    assert (first.operation_id, first.phase, first.done, first.total) == ("op", "counting", 0, 5)
    # More memories than counted (added between count and erase): total follows done.
    plan.tally.add_batch(7, GraphDeleteCounts(memory_nodes=7))
    assert (plan.progress("deleting").done, plan.progress("deleting").total) == (7, 7)
    plan.total = 20
    assert plan.progress("cleanup").total == 20
    # Fewer than counted (some were gone already): "done" says what really happened.
    done = plan.progress("done")
    assert (done.done, done.total) == (7, 7)


def test_result_reports_the_tally() -> None:
    plan = DeletionPlan("op-1", ALICE, 10)
    plan.tally.add_batch(3, GraphDeleteCounts(memory_nodes=3, relations=2, orphan_entities=1))
    plan.tally.add_swept_vectors(1)
    result = plan.result(0.12345678)
    assert result.message == DELETE_ALL_MESSAGE == result["message"]
    assert (result.operation_id, result.scope, result.dry_run) == ("op-1", ALICE, False)
    assert (
        result.memories,
        result.vectors,
        result.memory_nodes,
        result.relations,
        result.orphan_entities,
    ) == (4, 4, 3, 2, 1)
    assert result.elapsed_seconds == 0.123457
    assert plan.result(0.0, message=DELETE_MESSAGE).message == "Memory deleted successfully!"


def test_preview_counts_the_larger_store_and_touches_nothing() -> None:
    graph = GraphDeleteCounts(memory_nodes=3, relations=5, orphan_entities=2)
    result = preview("dry-run", ALICE, 4, graph, 0.5)
    assert result.dry_run and result.message == DELETE_ALL_MESSAGE
    assert (result.memories, result.vectors, result.memory_nodes) == (4, 4, 3)
    assert (result.relations, result.orphan_entities) == (5, 2)
    assert preview("dry-run", ALICE, 1, graph, 0.0).memories == 3


def test_preview_reports_its_time_to_the_microsecond() -> None:
    graph = GraphDeleteCounts(memory_nodes=1)
    assert preview("dry-run", ALICE, 1, graph, 0.12345678).elapsed_seconds == 0.123457
    assert preview("dry-run", ALICE, 1, graph, 2.5).elapsed_seconds == 2.5


def test_public_counts_are_the_counts_but_the_batches() -> None:
    tally = DeletionTally()
    tally.add_batch(1, GraphDeleteCounts(memory_nodes=1, relations=2))
    assert tally.public_counts() == {
        "memories": 1,
        "vectors": 1,
        "memory_nodes": 1,
        "relations": 2,
        "orphan_entities": 0,
    }
