"""delete_all per DESIGN.md, on every adapter pair."""

from __future__ import annotations

import time

import pytest

from hybridmem import DeleteProgress, HybridStore, Scope
from hybridmem.testing import raw
from hybridmem.testing.builders import embedding
from hybridmem.testing.pair_checks import (
    assert_no_half_memory_or_orphan,
    assert_scope_empty,
    snapshot,
)
from hybridmem.testing.pair_suite import PairSuite
from hybridmem.testing.seeding import seed_victims_and_keepers


def _seed(store: HybridStore) -> dict[str, str]:
    ids = {}
    ids["a1"] = store.add(
        "Alice lives in Paris",
        embedding=embedding("a1"),
        user_id="alice",
        agent_id="a1",
        entities=[{"name": "Alice", "type": "person"}, {"name": "Paris", "type": "city"}],
        relations=[{"source": "Alice", "target": "Paris", "type": "lives_in"}],
    ).id
    ids["a1r"] = store.add(
        "Alice visited Rome in run r1",
        embedding=embedding("a1r"),
        user_id="alice",
        agent_id="a1",
        run_id="r1",
        entities=[{"name": "Alice", "type": "person"}],
        relations=[{"source": "Alice", "target": "Rome", "type": "visited"}],
    ).id
    ids["a2"] = store.add(
        "alice drinks tea in Paris",
        embedding=embedding("a2"),
        user_id="alice",
        agent_id="a2",
        entities=[{"name": "Paris", "type": "city"}, {"name": "Tea", "type": "drink"}],
    ).id
    ids["bob"] = store.add(
        "Bob lives in Paris",
        embedding=embedding("bob"),
        user_id="bob",
        entities=[{"name": "Paris", "type": "city"}],
        relations=[{"source": "Bob", "target": "Paris", "type": "lives_in"}],
    ).id
    ids["Alice"] = store.add("case twin", embedding=embedding("A"), user_id="Alice").id
    return ids


class DeleteAllSuite(PairSuite):
    """``delete_all`` erases exactly its scope: exact counts, the dry run, idempotence,
    literal patterns, half-memories inside the scope, streaming batches; nothing
    outside the scope is lost and no text of the erased memories stays in history.

    Troubleshooting: scope matching must be exact and case-sensitive in both stores,
    and ``count_scope`` must predict what ``delete_memories`` removes."""

    def test_delete_all_erases_scope_and_keeps_everything_else(self, store: HybridStore) -> None:
        ids = _seed(store)
        before = snapshot(store)
        events: list[DeleteProgress] = []
        called = time.monotonic()
        result = store.delete_all(user_id="alice", agent_id="a1", progress=events.append)
        waited = time.monotonic() - called

        assert result["message"] == "Memories deleted successfully!"
        assert (result.memories, result.vectors, result.memory_nodes) == (2, 2, 2)
        assert result.relations == 2
        # Rome was reached only by a1's relation; Alice only by a1's memories.
        assert result.orphan_entities == 2
        assert result.operation_id
        # The time reported is the erasure's own: some, and no more than the call took.
        assert 0 < result.elapsed_seconds <= waited
        assert_scope_empty(store, Scope(user_id="alice", agent_id="a1"))
        after = snapshot(store)
        assert after.vector_ids == before.vector_ids - {ids["a1"], ids["a1r"]}
        assert {name for _, name, _ in after.entities} == {"paris", "tea", "bob"}
        assert store.get(ids["a2"]) is not None and store.get(ids["Alice"]) is not None
        assert events[-1].phase == "done" and events[-1].done == events[-1].total == 2
        assert_no_half_memory_or_orphan(store)

        history = store.history(ids["a1"])
        assert [e.kind for e in history] == ["ADD", "DELETE"]
        assert all(e.new_text is None and e.old_text is None for e in history)
        assert history[0].hash and history[0].erased_by == result.operation_id
        assert store.history(ids["a2"])[0].new_text == "alice drinks tea in Paris"

    def test_dry_run_counts_and_touches_nothing(self, store: HybridStore) -> None:
        _seed(store)
        before = snapshot(store)
        started = time.monotonic()
        preview = store.delete_all(user_id="alice", dry_run=True)
        spent = time.monotonic() - started
        assert preview.dry_run and preview["message"] == "Memories deleted successfully!"
        assert preview.operation_id == "dry-run"
        assert 0 <= preview.elapsed_seconds <= spent + 1e-6
        assert snapshot(store) == before
        real = store.delete_all(user_id="alice")
        for key in ("memories", "vectors", "memory_nodes", "relations", "orphan_entities"):
            assert preview[key] == real[key], key

    def test_empty_scope_and_repeat_are_safe(self, store: HybridStore) -> None:
        _seed(store)
        before = snapshot(store)
        nothing = store.delete_all(user_id="nobody")
        assert nothing["message"] == "Memories deleted successfully!" and nothing.memories == 0
        first = store.delete_all(run_id="r1")
        again = store.delete_all(run_id="r1")
        assert first.memories == 1 and again.memories == 0 and again.relations == 0
        assert len(snapshot(store).vector_ids) == len(before.vector_ids) - 1

    @pytest.mark.parametrize("literal", ["*", "%", "alice*", "ali%", "'", '" OR 1=1 --', "Alice"])
    def test_patterns_are_literal(self, store: HybridStore, literal: str) -> None:
        _seed(store)
        before = snapshot(store)
        result = store.delete_all(user_id=literal)
        expected = 1 if literal == "Alice" else 0
        assert result.memories == expected
        assert len(snapshot(store).vector_ids) == len(before.vector_ids) - expected

    def test_orphans_inside_scope_are_removed(self, store: HybridStore) -> None:
        """A crash can leave a vector without node or the reverse; delete_all removes both."""
        ids = _seed(store)
        store.graph.delete_memories([ids["a1"]])  # vector of a1 is now an orphan
        store.vector.delete([ids["a2"]])  # node of a2 is now an orphan
        result = store.delete_all(user_id="alice")
        assert result.memories == 3 and result.vectors == 2 and result.memory_nodes == 2
        assert_scope_empty(store, Scope(user_id="alice"))
        assert store.get(ids["bob"]) is not None
        assert_no_half_memory_or_orphan(store)

    def test_batches_stream_through_large_scope(self, store: HybridStore) -> None:
        with HybridStore(
            {**store.config.model_dump(), "batch_size": 7, "data_dir": store.config.data_dir / "b"},
            graph=store.graph,
            vector=store.vector,
        ) as small:
            seed_victims_and_keepers(small, 30, 1)
            seen: list[int] = []
            result = small.delete_all(user_id="victim", progress=lambda p: seen.append(p.done))
            # The victims' own E0-E2 and Paris: the keeper's Paris is another namespace.
            assert result.memories == 30 and result.orphan_entities == 4
            # counting, then one report per batch of 7 (5 batches), cleanup, done
            assert seen == [0, 7, 14, 21, 28, 30, 30, 30]
            operation = small.operation(result.operation_id)
            assert operation is not None and operation.counts["batches"] == 5
            assert small.stats()["vectors"] == 1

    def test_delete_of_an_absent_id_journals_nothing(self, store: HybridStore) -> None:
        absent = "0f8fad5b-d9cb-469f-a165-70867728950e"
        started = time.monotonic()
        result = store.delete(absent)
        spent = time.monotonic() - started
        assert (result["message"], result.operation_id) == ("Memory deleted successfully!", "none")
        assert (result.memories, result.vectors, result.memory_nodes) == (0, 0, 0)
        assert 0 <= result.elapsed_seconds <= spent + 1e-6
        assert raw.operation_ids(store.journal.path, "delete") == []
        assert store.history(absent) == []

    @pytest.mark.parametrize("half", ["vector only", "memory node only"])
    def test_delete_erases_a_half_memory(self, store: HybridStore, half: str) -> None:
        memory = store.add("half", embedding=embedding("half"), user_id="u")
        if half == "vector only":
            store._coordinator.graph.delete_memories([memory.id])
        else:
            store._coordinator.vector.delete([memory.id])
        started = time.monotonic()
        result = store.delete(memory.id)
        spent = time.monotonic() - started
        assert raw.vector_ids(store) == raw.memory_node_ids(store) == set()
        assert (result["message"], result.memories) == ("Memory deleted successfully!", 1)
        assert 0 <= result.elapsed_seconds <= spent + 1e-6
        counts = (
            {"vectors": 1, "memory_nodes": 0}
            if half == "vector only"
            else {
                "vectors": 0,
                "memory_nodes": 1,
            }
        )
        assert (result.vectors, result.memory_nodes) == (counts["vectors"], counts["memory_nodes"])
        info = store.operation(result.operation_id)
        assert info is not None and info.state == "done"
        assert info.counts is not None and info.counts["memories"] == 1
        assert {e.kind for e in store.history(memory.id)} == {"ADD", "DELETE"}

    def test_the_operation_keeps_the_totals_with_swept_vectors(self, store: HybridStore) -> None:
        # A vector with no memory node is found by the final sweep, after the last checkpoint.
        store.add("kept", embedding=embedding("kept"), user_id="alice")
        lonely = store.add("lonely", embedding=embedding("lonely"), user_id="alice")
        store._coordinator.graph.delete_memories([lonely.id])
        events: list[DeleteProgress] = []
        result = store.delete_all(user_id="alice", progress=events.append)
        assert (events[0].phase, events[0].total) == ("counting", 2)
        assert (result.memories, result.vectors, result.memory_nodes) == (2, 2, 1)
        info = store.operation(result.operation_id)
        assert info is not None and info.counts is not None
        assert {k: info.counts[k] for k in ("memories", "vectors", "memory_nodes")} == {
            "memories": 2,
            "vectors": 2,
            "memory_nodes": 1,
        }
