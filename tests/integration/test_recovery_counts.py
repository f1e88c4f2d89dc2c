"""After a crash and recover(), the journal tells the truth: counts and history
events checked against what the test seeded, not against what the code reports.

delete_all of 10 victim memories in batches of 3 (4 batches), each memory with one
relation; the victim's namespace holds E0, E1, E2 and its own Paris, which the
erasure orphans (4). An interrupted add is rolled back: nothing of it survives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore, StoreError
from hybridmem.faults import FAULT_POINTS, ROLLBACK_POINTS, InjectedFault
from hybridmem.ids import scoped_id
from hybridmem.models import Scope
from hybridmem.operations import add as add_operation
from hybridmem.records import text_hash
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig
from tests.integration import raw
from tests.integration.checks import assert_no_half_memory_or_orphan
from tests.integration.seeding import seed_victims_and_keepers, victim_entity_names

VICTIMS, KEEPERS, BATCH = 10, 3, 3
#: Per batch point, the crash is on the second batch (3 memories already counted).
DELETE_ALL_CRASHES = [
    ("delete_all.journaled", 1),
    ("delete_all.counted", 1),
    ("delete_all.batch_fetched", 2),
    ("delete_all.vectors_deleted", 2),
    ("delete_all.graph_deleted", 2),
    ("delete_all.batch_journaled", 2),
    ("delete_all.vectors_swept", 1),
]
#: Killed after a batch's store steps (both run at once: both are done at either
#: point) and before its checkpoint, the vectors and relations that batch removed
#: are not known any more; every memory still is.
STEPS_LOST = {"delete_all.vectors_deleted": (3, 3), "delete_all.graph_deleted": (3, 3)}


def _orphans_lost(batches: list[list[str]], victims: list[str]) -> int:
    """Entities whose last mention went in the batch the crash cut off before its
    checkpoint: they were erased then, uncounted. Which entities those are depends
    on the order the graph store hands out the scope's ids (Neo4j reuses freed
    node ids, so not insertion order on a shared server)."""
    index = {memory_id: i for i, memory_id in enumerate(victims)}
    before = {index[m] for batch in batches[:-1] for m in batch}
    through = before | {index[m] for m in batches[-1]}
    mentions: dict[str, set[int]] = {}
    for i in range(len(victims)):
        for name in victim_entity_names(i):
            mentions.setdefault(name, set()).add(i)
    return sum(1 for by in mentions.values() if by <= through and not by <= before)


def _store(
    pair_config: PairConfig, tmp_path: Path, point: str, nth: int
) -> tuple[HybridStore, Any]:
    reached: dict[str, int] = {}
    armed = {"on": False}

    def hook(name: str) -> None:
        reached[name] = reached.get(name, 0) + 1
        if armed["on"] and name == point and reached[name] == nth:
            raise InjectedFault(point)

    store = HybridStore({**pair_config(tmp_path / "d"), "batch_size": BATCH}, fault_hook=hook)
    return store, (armed, reached)


@pytest.mark.parametrize(
    ("point", "nth"), DELETE_ALL_CRASHES, ids=[p for p, _ in DELETE_ALL_CRASHES]
)
def test_delete_all_counts_and_events_survive_a_crash(
    pair_config: PairConfig, tmp_path: Path, point: str, nth: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, (armed, reached) = _store(pair_config, tmp_path, point, nth)
    with store:
        ids = seed_victims_and_keepers(store, VICTIMS, KEEPERS)
        victims = [ids[f"v{i}"] for i in range(VICTIMS)]
        batches: list[list[str]] = []
        delete_memories = store.graph.delete_memories

        def recording(ids: Any) -> Any:
            batches.append(list(ids))
            return delete_memories(ids)

        reached.clear()
        armed["on"] = True
        monkeypatch.setattr(store.graph, "delete_memories", recording)
        with pytest.raises(InjectedFault):
            store.delete_all(user_id="victim")
        armed["on"] = False
        monkeypatch.undo()
        orphans_lost = _orphans_lost(batches, victims) if point in STEPS_LOST else 0
        [recovered] = store.recover()
        assert (recovered.kind, recovered.outcome) == ("delete_all", "completed")

        info = store.operation(recovered.operation_id)
        assert info is not None and info.state == "done"
        vectors_lost, relations_lost = STEPS_LOST.get(point, (0, 0))
        assert info.counts["memories"] == VICTIMS
        assert info.counts["memory_nodes"] == VICTIMS
        assert info.counts["vectors"] == VICTIMS - vectors_lost
        assert info.counts["relations"] == VICTIMS - relations_lost
        assert info.counts["orphan_entities"] == 4 - orphans_lost
        for memory_id in victims:
            events = store.history(memory_id)
            assert [e.kind for e in events] == ["ADD", "DELETE"], (memory_id, events)
            assert events[-1].operation_id == recovered.operation_id
            assert all(e.new_text is None and e.erased_by for e in events)
        [summary] = raw.operation_events(store.journal.path, "DELETE_ALL")
        assert summary.counts == {k: v for k, v in info.counts.items() if k != "batches"}
        assert raw.vector_ids(store) == {ids[f"k{i}"] for i in range(KEEPERS)}
        assert_no_half_memory_or_orphan(store)


@pytest.mark.parametrize("point", FAULT_POINTS["add"])
def test_an_interrupted_add_is_rolled_back_by_recover(
    pair_config: PairConfig, tmp_path: Path, point: str
) -> None:
    # The in-process rollback would undo the add at once: make it fail too, so
    # recover() is what rolls back (as after a SIGKILL).
    store, (armed, reached) = _store(pair_config, tmp_path, point, 1)
    with store:
        before_vectors, before_nodes = raw.vector_ids(store), raw.memory_node_ids(store)
        kept = store.add("kept", embedding=embedding("kept"), user_id="u")
        rollback = add_operation.try_roll_back
        add_operation.try_roll_back = lambda ctx, op_id, memory_id: None
        reached.clear()
        armed["on"] = True
        with pytest.raises(InjectedFault):
            store.add(
                "interrupted",
                embedding=embedding("new"),
                user_id="u",
                entities=[{"name": "New", "type": "t"}],
                relations=[{"source": "New", "target": "Far", "type": "r"}],
            )
        armed["on"] = False
        add_operation.try_roll_back = rollback
        [pending] = store.journal.pending()
        [recovered] = store.recover()
        assert (recovered.kind, recovered.outcome) == ("add", "rolled_back")
        assert raw.vector_ids(store) == before_vectors | {kept.id}
        assert raw.memory_node_ids(store) == before_nodes | {kept.id}
        assert raw.relation_memory_ids(store) == {}
        assert store.entities(user_id="u") == []
        assert store.history(pending.memory_id or "") == [], "a rolled-back add has no history"
        assert [m.id for m in store.get_all(user_id="u")] == [kept.id]
        assert_no_half_memory_or_orphan(store)


def test_a_store_error_during_add_is_rolled_back_at_once(
    pair_config: PairConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store error (not a crash): the add is undone before the error reaches the
    # caller, so nothing of it is left, not even for recover().
    # The stored id of a chosen one (hybridmem.ids): kept as it is.
    memory_id = scoped_id(Scope(user_id="u"), "0f8fad5b-d9cb-469f-a165-70867728950e")
    reached: list[str] = []
    with HybridStore(pair_config(tmp_path / "d"), fault_hook=reached.append) as store:
        kept = store.add("kept", embedding=embedding("kept"), user_id="u")
        reached.clear()

        def refuse(graphs: object, **options: object) -> None:
            raise StoreError("graph store", "test", "write refused")

        monkeypatch.setattr(store._coordinator.graph, "add_memories", refuse)
        with pytest.raises(StoreError, match="write refused"):
            store.add("refused", embedding=embedding("new"), user_id="u", memory_id=memory_id)
        monkeypatch.undo()
        # The crash matrix kills at the rollback's own points: they must be reached.
        assert reached == ["add.journaled", "add.vector_written", *ROLLBACK_POINTS]
        assert raw.vector_ids(store) == {kept.id}
        assert raw.memory_node_ids(store) == {kept.id}
        assert store.journal.pending() == []
        [op_id] = raw.operation_ids(store.journal.path, "add", memory_id)
        info = store.operation(op_id)
        assert info is not None
        assert (info.state, info.counts) == ("done", {"rolled_back": 1})
        assert "write refused" in (info.error or "")
        assert store.history(memory_id) == []
        assert store.recover() == []


def test_an_interrupted_update_is_completed_by_recover(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    store, (armed, _) = _store(pair_config, tmp_path, "update.journaled", 1)
    with store:
        old = store.add("old text", embedding=embedding("old"), user_id="u", metadata={"v": 1})
        before = datetime.now(UTC)
        armed["on"] = True
        with pytest.raises(InjectedFault):
            store.update(old.id, text="new text", embedding=embedding("new"), metadata={"v": 2})
        armed["on"] = False
        after = datetime.now(UTC)
        [pending] = store.journal.pending()
        info = store.operation(pending.id)
        assert info is not None and (info.kind, info.user_id, info.memory_id) == (
            "update",
            "u",
            old.id,
        )
        [recovered] = store.recover()
        assert (recovered.kind, recovered.outcome) == ("update", "completed")
        # Finished without counts: the operation keeps its empty ones.
        info = store.operation(pending.id)
        assert info is not None and (info.state, info.counts) == ("done", {})
        new = store.get(old.id)
        assert new is not None
        assert (new.text, new.metadata, new.hash) == ("new text", {"v": 2}, text_hash("new text"))
        assert new.embedding == pytest.approx(embedding("new"), rel=1e-6)
        assert before <= new.updated_at <= after, "the update's own time, not recover()'s"
        node = store._coordinator.graph.get_memory_node(old.id)
        assert node is not None and node.updated_at == new.updated_at
        assert [(e.kind, e.old_text, e.new_text) for e in store.history(old.id)] == [
            ("ADD", None, "old text"),
            ("UPDATE", "old text", "new text"),
        ]
        assert store.history(old.id)[1].hash == text_hash("new text")


@pytest.mark.parametrize("gone", ["memory", "memory node"])
def test_recover_skips_an_update_of_what_is_gone(
    pair_config: PairConfig, tmp_path: Path, gone: str
) -> None:
    store, (armed, _) = _store(pair_config, tmp_path, "update.journaled", 1)
    with store:
        old = store.add("old text", embedding=embedding("old"), user_id="u")
        armed["on"] = True
        with pytest.raises(InjectedFault):
            store.update(old.id, text="new text")
        armed["on"] = False
        if gone == "memory":
            store.delete(old.id)
        else:
            store._coordinator.graph.delete_memories([old.id])
        [pending] = store.journal.pending()
        [recovered] = store.recover()
        assert (recovered.kind, recovered.outcome) == ("update", "completed")
        info = store.operation(pending.id)
        assert info is not None and (info.state, info.counts) == ("done", {"skipped": 1})
        left = store._coordinator.vector.get([old.id])
        assert [r.text for r in left] == ([] if gone == "memory" else ["old text"])
        assert [e.kind for e in store.history(old.id)] == (
            ["ADD", "DELETE"] if gone == "memory" else ["ADD"]
        )


@pytest.mark.parametrize("kind", ["update", "delete", "delete_all", "reset"])
def test_a_store_error_leaves_the_operation_pending_with_its_error(
    pair_config: PairConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with HybridStore(pair_config(tmp_path / "d")) as store:
        memory = store.add("text", embedding=embedding("text"), user_id="u")

        def refuse(*args: object, **options: object) -> None:
            raise StoreError("vector store", "test", "write refused")

        method = {"update": "upsert", "delete": "delete", "delete_all": "delete", "reset": "reset"}[
            kind
        ]
        monkeypatch.setattr(store._coordinator.vector, method, refuse)
        with pytest.raises(StoreError, match="write refused"):
            if kind == "update":
                store.update(memory.id, text="new text")
            elif kind == "delete":
                store.delete(memory.id)
            elif kind == "delete_all":
                store.delete_all(user_id="u")
            else:
                store.reset()
        monkeypatch.undo()
        [pending] = store.journal.pending()
        info = store.operation(pending.id)
        assert info is not None and info.kind == kind
        assert "write refused" in (info.error or "")
        if kind in ("update", "delete"):
            assert (info.user_id, info.memory_id) == ("u", memory.id)
        [recovered] = store.recover()
        assert (recovered.operation_id, recovered.outcome) == (pending.id, "completed")


def test_each_checkpoint_erases_its_batch_text_before_the_operation_ends(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    store, (armed, _) = _store(pair_config, tmp_path, "delete_all.batch_journaled", 1)
    with store:
        ids = seed_victims_and_keepers(store, VICTIMS, KEEPERS)
        victims = [ids[f"v{i}"] for i in range(VICTIMS)]
        armed["on"] = True
        with pytest.raises(InjectedFault):
            store.delete_all(user_id="victim")
        armed["on"] = False
        # Pending after one checkpoint: that batch's text is gone, the rest is not yet.
        erased = [v for v in victims if any(e.erased_by for e in store.history(v))]
        assert len(erased) == BATCH
        assert raw.history_texts(store.journal.path, erased) == 0
        assert raw.history_texts(store.journal.path, set(victims) - set(erased)) > 0


def test_recover_closes_an_operation_of_a_kind_it_does_not_know(store: HybridStore) -> None:
    # Left by a newer version: recover() marks it done, counted, and touches nothing.
    op_id = store.journal.begin("from_a_newer_version")  # type: ignore[arg-type]
    [recovered] = store.recover()
    assert (recovered.operation_id, recovered.outcome) == (op_id, "completed")
    info = store.operation(op_id)
    assert info is not None and (info.state, info.counts) == ("done", {"unknown_kind": 1})
    assert store.journal.pending() == []


def test_a_store_error_during_recover_is_noted_on_the_operation(
    pair_config: PairConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crash notes nothing; the store error recover() then meets is noted on the
    # operation it was finishing, which stays pending for the next recover().
    store, (armed, _) = _store(pair_config, tmp_path, "delete.journaled", 1)
    with store:
        memory = store.add("text", embedding=embedding("text"), user_id="u")
        armed["on"] = True
        with pytest.raises(InjectedFault):
            store.delete(memory.id)
        armed["on"] = False
        [pending] = store.journal.pending()
        info = store.operation(pending.id)
        assert info is not None and info.error is None

        def refuse(*args: object) -> None:
            raise StoreError("vector store", "test", "delete refused")

        monkeypatch.setattr(store._coordinator.vector, "delete", refuse)
        with pytest.raises(StoreError, match="delete refused"):
            store.recover()
        monkeypatch.undo()
        info = store.operation(pending.id)
        assert info is not None and info.state == "pending"
        assert "delete refused" in (info.error or "")
        [recovered] = store.recover()
        assert (recovered.operation_id, recovered.outcome) == (pending.id, "completed")
        info = store.operation(pending.id)
        assert info is not None and (info.state, info.error) == ("done", None)
        assert store.get(memory.id) is None


def test_a_recovered_delete_all_erases_its_whole_scope_and_nothing_more(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    # The scope read back from the journal keeps every part: without agent_id or
    # run_id, the resumed erasure would take the user's other agents' or runs' memories.
    store, (armed, _) = _store(pair_config, tmp_path, "delete_all.journaled", 1)
    with store:

        def add(text: str, agent_id: str, run_id: str) -> str:
            found = store.add(
                text, embedding=embedding(text), user_id="u", agent_id=agent_id, run_id=run_id
            )
            return found.id

        add("victim", "a", "r")
        kept = {add("other agent", "b", "r"), add("other run", "a", "s")}
        armed["on"] = True
        with pytest.raises(InjectedFault):
            store.delete_all(user_id="u", agent_id="a", run_id="r")
        armed["on"] = False
        [recovered] = store.recover()
        assert (recovered.kind, recovered.outcome) == ("delete_all", "completed")
        assert {m.id for m in store.get_all(user_id="u")} == kept
