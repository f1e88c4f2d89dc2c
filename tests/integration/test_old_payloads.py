"""A pending operation written by the previous version (its payload as that
version's coordinator wrote it, a plain JSON object) still recovers: the typed
payloads of hybridmem.operations read the same JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hybridmem import HybridStore
from hybridmem.models import Scope
from hybridmem.testing.builders import embedding
from tests.integration.checks import assert_no_half_memory_or_orphan

U = Scope(user_id="u")


def _recovered(store: HybridStore, op_id: str) -> str:
    [recovered] = store.recover()
    assert recovered.operation_id == op_id
    assert store.journal.pending() == []
    return recovered.outcome


def test_an_update_journaled_by_the_previous_version_is_finished(store: HybridStore) -> None:
    memory = store.add("before", embedding=embedding("before"), user_id="u")
    stamp = datetime.now(UTC) + timedelta(seconds=1)
    # As the previous version's coordinator wrote it, then died before the stores.
    op_id = store.journal.begin(
        "update",
        scope=U,
        memory_id=memory.id,
        payload={
            "old_text": "before",
            "text": "after",
            "embedding": embedding("after"),
            "metadata": {"v": 2},
            "updated_at": stamp.isoformat(),
            "expires_at": None,
        },
    )
    assert _recovered(store, op_id) == "completed"
    found = store.get(memory.id)
    assert found is not None and (found.text, found.metadata) == ("after", {"v": 2})
    assert [(e.kind, e.old_text, e.new_text) for e in store.history(memory.id)] == [
        ("ADD", None, "before"),
        ("UPDATE", "before", "after"),
    ]


def test_an_update_journaled_before_expiry_existed_keeps_the_memorys_expiry(
    store: HybridStore,
) -> None:
    memory = store.add("before", embedding=embedding("before"), user_id="u", ttl=3600)
    op_id = store.journal.begin(
        "update",
        scope=U,
        memory_id=memory.id,
        payload={
            "old_text": "before",
            "text": "after",
            "embedding": embedding("after"),
            "metadata": {},
        },
    )
    assert _recovered(store, op_id) == "completed"
    found = store.get(memory.id)
    assert found is not None and found.text == "after"
    assert found.expires_at is not None and memory.expires_at is not None
    assert abs(found.expires_at - memory.expires_at) < timedelta(milliseconds=1)


def test_an_add_many_journaled_by_the_previous_version_is_rolled_back(store: HybridStore) -> None:
    kept = store.add("kept", embedding=embedding("kept"), user_id="u")
    written = [store.add(t, embedding=embedding(t), user_id="u").id for t in ("one", "two")]
    op_id = store.journal.begin("add_many", scope=U, payload={"ids": written})
    assert _recovered(store, op_id) == "rolled_back"
    assert [m.id for m in store.get_all(user_id="u")] == [kept.id]
    assert_no_half_memory_or_orphan(store)


def test_a_delete_all_batch_noted_by_the_previous_version_is_finished(store: HybridStore) -> None:
    victims = [store.add(t, embedding=embedding(t), user_id="u").id for t in ("a", "b", "c")]
    kept = store.add("kept", embedding=embedding("kept"), user_id="v")
    op_id = store.journal.begin("delete_all", scope=U)
    store.journal.note_batch(op_id, victims[:2])
    assert _recovered(store, op_id) == "completed"
    assert store.get_all(user_id="u") == []
    assert [m.id for m in store.get_all(user_id="v")] == [kept.id]
    info = store.operation(op_id)
    assert info is not None and info.counts["memories"] == 3
    for memory_id in victims:
        assert [e.kind for e in store.history(memory_id)] == ["ADD", "DELETE"]
    assert_no_half_memory_or_orphan(store)


def test_a_purge_batch_noted_by_the_previous_version_is_finished(store: HybridStore) -> None:
    due = store.add("due", embedding=embedding("due"), user_id="u", agent_id="a", ttl=3600)
    kept = store.add("kept", embedding=embedding("kept"), user_id="u")
    op_id = store.journal.begin("purge_expired")
    # The previous version's payload: {"batch": ids, "scopes": [[user, agent, run]]}.
    store.journal.note_batch(op_id, [due.id], [Scope(user_id="u", agent_id="a")])
    assert _recovered(store, op_id) == "completed"
    assert [m.id for m in store.get_all(user_id="u")] == [kept.id]
    assert [e.kind for e in store.history(due.id)] == ["ADD", "DELETE"]
    assert_no_half_memory_or_orphan(store)


def test_a_label_migration_left_by_a_pre_release_is_closed(store: HybridStore) -> None:
    # Its command is gone: recover() closes it like any kind it does not know.
    op_id = store.journal.begin("migrate_graph_labels")  # type: ignore[arg-type]
    assert _recovered(store, op_id) == "completed"
    info = store.operation(op_id)
    assert info is not None and (info.state, info.counts) == ("done", {"unknown_kind": 1})
