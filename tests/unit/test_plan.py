"""The deletion plan on its own (no store): counting, the loop guard, progress, results."""

from __future__ import annotations

import pytest

from hybridmem.errors import StoreError
from hybridmem.models import Scope
from hybridmem.plan import DELETE_ALL_MESSAGE, DeletionPlan, DeletionTally, preview
from hybridmem.records import GraphDeleteCounts

SCOPE = Scope(user_id="u")


def test_the_tally_counts_batches_and_each_kind() -> None:
    tally = DeletionTally()
    tally.add_batch(3, GraphDeleteCounts(memory_nodes=3, relations=2, orphan_entities=1))
    tally.add_batch(1, GraphDeleteCounts(memory_nodes=2, relations=0, orphan_entities=4))
    tally.add_swept_vectors(5)
    assert tally.counts() == {
        "memories": 10,
        "vectors": 9,
        "memory_nodes": 5,
        "relations": 2,
        "orphan_entities": 5,
        "batches": 2,
    }
    assert DeletionTally.from_counts({**tally.counts(), "unknown": 7}) == tally


def test_the_guard_stops_a_store_that_returns_the_same_ids_again() -> None:
    plan = DeletionPlan("op", SCOPE, 2)
    plan.next_batch_guard(["a", "b"])
    plan.next_batch_guard(["c", "d"])
    plan.next_batch_guard(["a", "b"])  # not the previous batch: allowed
    with pytest.raises(StoreError) as refused:
        plan.next_batch_guard(["b", "a"])
    assert refused.value.store == "graph store"
    assert "the same 2 memory ids were returned after being deleted" in str(refused.value)


def test_progress_never_reports_more_done_than_total_and_ends_exact() -> None:
    plan = DeletionPlan("op", SCOPE, 2, total=10)
    plan.tally.memories = 4
    assert (plan.progress("deleting").done, plan.progress("deleting").total) == (4, 10)
    plan.tally.memories = 12
    assert plan.progress("cleanup").total == 12
    plan.tally.memories = 8
    done = plan.progress("done")
    assert (done.phase, done.done, done.total, done.operation_id) == ("done", 8, 8, "op")
    assert plan.progress("cleanup").total == 10


def test_results_carry_the_counts_and_a_rounded_time() -> None:
    plan = DeletionPlan("op", SCOPE, 2)
    plan.tally.add_batch(2, GraphDeleteCounts(memory_nodes=2, relations=1, orphan_entities=3))
    result = plan.result(1.23456789)
    assert result.message == DELETE_ALL_MESSAGE and result.operation_id == "op"
    assert (result.memories, result.vectors, result.memory_nodes) == (2, 2, 2)
    assert (result.relations, result.orphan_entities) == (1, 3)
    assert result.elapsed_seconds == 1.234568
    dry = preview("dry", SCOPE, 3, GraphDeleteCounts(memory_nodes=2, relations=4), 0.1234567)
    assert dry.dry_run and dry.memories == 3 and dry.elapsed_seconds == 0.123457
