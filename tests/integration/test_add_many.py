"""add_many: many memories, one journaled operation per batch, all or nothing per batch.

What a bulk loader relies on: every item lands whole (vector, node, entities,
relations, history) exactly as add() would write it; entities shared across a
batch are one entity; a bad item refuses its whole batch with an error naming
it; a failed batch leaves nothing behind; an import run twice changes nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore, ValidationError
from hybridmem.errors import HybridMemError
from hybridmem.faults import InjectedFault
from hybridmem.ids import scoped_id
from hybridmem.models import AddProgress, Scope
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig, narrowed_to_production_pairs
from tests.integration.checks import assert_no_half_memory_or_orphan, assert_scope_empty

# Each adapter's batch writes are in one of the production pairs.
pair_config = narrowed_to_production_pairs()


def _items(user_id: str, n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "text": f"{user_id} fact {i}",
            "embedding": embedding(f"{user_id}-{i}"),
            "user_id": user_id,
            "agent_id": f"a{i % 2}",
            "metadata": {"i": i},
            "entities": [{"name": f"Topic{i % 3}", "type": "t"}, {"name": "Paris", "type": "city"}],
            "relations": [{"source": f"Topic{i % 3}", "target": "Paris", "type": "in"}],
        }
        for i in range(start, start + n)
    ]


def test_every_item_is_stored_whole_as_add_would(store: HybridStore) -> None:
    result = store.add_many(_items("alice", 7), batch_size=3)
    assert (result.added, result.unchanged, result.batches) == (7, 0, 3)
    assert len(result.operation_ids) == 3 and len(set(result.ids)) == 7
    stored = {m.id: m for m in store.get_all(user_id="alice")}
    assert set(stored) == set(result.ids)
    for i, memory_id in enumerate(result.ids):
        memory = stored[memory_id]
        assert (memory.text, memory.metadata, memory.agent_id) == (
            f"alice fact {i}",
            {"i": i},
            f"a{i % 2}",
        )
        assert [e.kind for e in store.history(memory_id)] == ["ADD"]
        assert store.history(memory_id)[0].new_text == f"alice fact {i}"
    # Entities shared across batches and items are one entity each in the user's namespace.
    names = sorted(e.name for e in store.entities(user_id="alice"))
    assert names == ["Paris", "Topic0", "Topic1", "Topic2"]
    assert len(store.relations(user_id="alice")) == 7
    hits = store.search(embedding("alice-4"), user_id="alice", limit=1)
    assert hits[0].memory.id == result.ids[4]
    for operation_id in result.operation_ids:
        info = store.operation(operation_id)
        assert info is not None and (info.kind, info.state) == ("add_many", "done")
    assert_no_half_memory_or_orphan(store)


def test_an_iterator_is_read_one_batch_at_a_time(store: HybridStore) -> None:
    consumed = 0
    seen_when_written: list[int] = []

    def generate() -> Iterator[dict[str, Any]]:
        nonlocal consumed
        for item in _items("gen", 5):
            consumed += 1
            yield item

    reports: list[AddProgress] = []

    def progress(report: AddProgress) -> None:
        reports.append(report)
        seen_when_written.append(consumed)

    result = store.add_many(generate(), batch_size=2, progress=progress)
    assert result.added == 5
    assert [(r.phase, r.done, r.total) for r in reports] == [
        ("adding", 2, None),
        ("adding", 4, None),
        ("adding", 5, None),
        ("done", 5, None),
    ]
    # Each batch is written before the next item is read: nothing is read ahead.
    assert seen_when_written[:3] == [2, 4, 5]


def test_progress_knows_the_total_of_a_list(store: HybridStore) -> None:
    reports: list[AddProgress] = []
    store.add_many(_items("bob", 3), batch_size=2, progress=reports.append)
    assert [(r.done, r.total) for r in reports] == [(2, 3), (3, 3), (3, 3)]


def test_a_bad_item_refuses_its_batch_and_names_it(store: HybridStore) -> None:
    items = _items("carol", 5)
    items[3]["embedding"] = [1.0, float("nan")]
    with pytest.raises(ValidationError, match=r"^items\[3\]: invalid embedding"):
        store.add_many(items, batch_size=2)
    # The first batch (items 0 and 1) was stored; nothing of items 2-3's batch was.
    texts = sorted(m.text for m in store.get_all(user_id="carol"))
    assert texts == ["carol fact 0", "carol fact 1"]
    assert_no_half_memory_or_orphan(store)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, r"items\[0\]: unknown field 'colour'"),
        ({"text": None}, r"items\[0\]: invalid text"),
        ({"user_id": None, "agent_id": None}, r"items\[0\]: At least one of user_id"),
        ({"created_at": "yesterday"}, r"items\[0\]: invalid created_at"),
        ({"created_at": "2024-01-01T00:00:00"}, r"items\[0\]: invalid created_at: needs a UTC"),
        ({"memory_id": "x"}, r"items\[0\]: invalid memory_id"),
        ({"entities": "Paris"}, r"items\[0\]: invalid entities"),
    ],
)
def test_invalid_items_are_refused_before_any_write(
    store: HybridStore, change: dict[str, Any], message: str
) -> None:
    items = _items("dan", 2)
    items[0] = {k: v for k, v in {**items[0], **change}.items() if v is not None}
    with pytest.raises(ValidationError, match=message):
        store.add_many(items)
    assert store.stats()["vectors"] == 0
    assert store.journal.pending() == []


def test_batch_size_is_bounded(store: HybridStore) -> None:
    for bad in (0, 10_001, True, "5"):
        with pytest.raises(ValidationError, match="invalid batch_size"):
            store.add_many(_items("erin", 1), batch_size=bad)  # type: ignore[arg-type]


def test_caller_ids_and_times_are_kept_and_an_import_run_twice_changes_nothing(
    store: HybridStore,
) -> None:
    items = _items("fay", 4)
    created = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    for i, item in enumerate(items):
        item["memory_id"] = str(uuid.UUID(int=i + 1))
        item["created_at"] = created.isoformat()
        item["updated_at"] = "2024-06-01T08:30:00+02:00"
    first = store.add_many(items, batch_size=3)
    # Chosen ids are names in their scope: the stored id is the scope's id of each.
    assert first.ids == [
        scoped_id(Scope(user_id="fay", agent_id=f"a{i % 2}"), str(uuid.UUID(int=i + 1)))
        for i in range(4)
    ]
    memory = store.get(first.ids[0])
    assert memory is not None
    assert memory.created_at == created
    assert memory.updated_at == datetime(2024, 6, 1, 6, 30, tzinfo=UTC)
    before = (store.stats(), sorted(r.id for r in store.relations(user_id="fay")))
    again = store.add_many(items, batch_size=3)
    assert (again.added, again.unchanged, again.operation_ids) == (0, 4, [])
    assert (store.stats(), sorted(r.id for r in store.relations(user_id="fay"))) == before
    assert all([e.kind for e in store.history(i)] == ["ADD"] for i in first.ids)


def test_a_caller_id_with_other_content_refuses_the_batch(store: HybridStore) -> None:
    memory_id = str(uuid.uuid4())
    store.add("kept", embedding=embedding("kept"), user_id="gus", memory_id=memory_id)
    changed = {"text": "other", "embedding": embedding("kept"), "user_id": "gus"}
    others = _items("gus", 2)
    with pytest.raises(ValidationError, match="add_many does not replace memories"):
        store.add_many([*others, {**changed, "memory_id": memory_id}])
    # The same id in another scope is another memory of that scope.
    store.add_many([{**changed, "text": "hal's", "user_id": "hal", "memory_id": memory_id}])
    assert [m.text for m in store.get_all(user_id="gus")] == ["kept"]
    assert [m.text for m in store.get_all(user_id="hal")] == ["hal's"]


def test_a_repeated_id_in_a_batch_is_refused(store: HybridStore) -> None:
    memory_id = str(uuid.uuid4())
    items = [{**item, "memory_id": memory_id, "agent_id": "a0"} for item in _items("ivy", 2)]
    with pytest.raises(ValidationError, match=r"items\[1\]: memory_id .* is repeated"):
        store.add_many(items)
    assert store.stats()["vectors"] == 0


def test_texts_without_embeddings_go_to_the_embedder_once_per_batch(tmp_path: Path) -> None:
    calls: list[int] = []

    class Counting:
        name = "counting"
        dimension = 8

        def embed(self, texts: list[str]) -> list[list[float]]:
            calls.append(len(texts))
            return [embedding(t, 8) for t in texts]

    config = {"data_dir": str(tmp_path / "d"), "graph": {"provider": "kuzu"}}
    with HybridStore(config, embedder=Counting()) as store:
        items = [{"text": f"fact {i}", "user_id": "jo"} for i in range(5)]
        items[2]["embedding"] = embedding("given", 8)
        result = store.add_many(items, batch_size=3)
        assert result.added == 5
        assert calls == [2, 2]
        hits = store.search("fact 4", user_id="jo", limit=1)
        assert hits[0].memory.text == "fact 4"


def test_a_store_error_mid_batch_leaves_nothing_of_the_batch(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    armed = False

    def hook(point: str) -> None:
        if armed and point == "add_many.graph_written":
            raise InjectedStoreError(point)

    with HybridStore(pair_config(tmp_path / "d"), fault_hook=hook) as store:
        store.add_many(_items("kim", 2))
        armed = True
        with pytest.raises(InjectedStoreError):
            store.add_many(_items("kim", 3, start=2))
        armed = False
        assert sorted(m.text for m in store.get_all(user_id="kim")) == [
            "kim fact 0",
            "kim fact 1",
        ]
        # Rolled back on the spot: nothing pending, no orphan, no history text.
        assert_no_half_memory_or_orphan(store)


def test_recover_rolls_back_a_batch_cut_short(pair_config: PairConfig, tmp_path: Path) -> None:
    with HybridStore(pair_config(tmp_path / "d")) as store:
        # Between the stores: the batch's vectors are written, its graph is not (the
        # two writes run at once, so the cut is made in the graph write itself).
        written = store.graph.add_memories

        def cut_short(*args: Any, **kwargs: Any) -> None:
            raise InjectedFault("add_many: the graph write")

        store.graph.add_memories = cut_short  # type: ignore[method-assign]
        with pytest.raises(InjectedFault):
            store.add_many(_items("lee", 4))
        store.graph.add_memories = written  # type: ignore[method-assign]
        assert len(store.vector.get(store.vector.iter_ids(100).__next__())) == 4
        pending = store.journal.pending()
        assert [op.kind for op in pending] == ["add_many"]
        # A reconcile in between must not take the batch's half-written records for orphans.
        report = store.reconcile()
        assert report.found.orphan_memory_nodes == 0 and report.found.orphan_vectors == 0
        recovered = store.recover()
        assert [(r.kind, r.outcome) for r in recovered] == [("add_many", "rolled_back")]
        assert_scope_empty(store, Scope(user_id="lee"))
        assert_no_half_memory_or_orphan(store)


def test_delete_all_waits_for_a_batch_of_its_scope(store: HybridStore) -> None:
    """An erasure that starts while a batch of its scope is being written erases all of it."""
    in_batch = threading.Event()
    release = threading.Event()
    original = store.vector.upsert

    def slow_upsert(records: Any, **options: Any) -> None:
        original(records, **options)
        in_batch.set()
        release.wait(30)

    store.vector.upsert = slow_upsert  # type: ignore[method-assign]
    writer = threading.Thread(target=lambda: store.add_many(_items("max", 4)))
    writer.start()
    assert in_batch.wait(30)
    erased: list[int] = []
    eraser = threading.Thread(
        target=lambda: erased.append(store.delete_all(user_id="max").memories)
    )
    eraser.start()
    eraser.join(0.5)
    waited = eraser.is_alive()
    release.set()
    assert waited, "delete_all ran while the batch held its scope"
    writer.join(30)
    eraser.join(30)
    store.vector.upsert = original  # type: ignore[method-assign]
    assert erased == [4]
    assert_scope_empty(store, Scope(user_id="max"))
    assert_no_half_memory_or_orphan(store)


class InjectedStoreError(HybridMemError):
    """A store error at a chosen point: add_many rolls its batch back at once."""
