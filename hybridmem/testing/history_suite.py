"""History keeps ids, hashes and times of erased memories, never their text:
after delete(id), after delete_all(scope), after reset. Nothing outside what was
erased loses its text."""

from __future__ import annotations

from typing import Any

import pytest

from hybridmem import HybridStore, NotFoundError, Scope
from hybridmem.testing import raw
from hybridmem.testing.builders import embedding
from hybridmem.testing.pair_suite import PairSuite


def _texts(store: HybridStore, memory_id: str) -> list[str | None]:
    return [t for e in store.history(memory_id) for t in (e.old_text, e.new_text)]


def _add(store: HybridStore, text: str, **scope: Any) -> str:
    memory_id = store.add(text, embedding=embedding(text), **scope).id
    store.update(memory_id, text=f"{text} (edited)")
    return memory_id


class HistorySuite(PairSuite):
    """History keeps ids, hashes and times of erased memories, never their text:
    after ``delete``, ``delete_all`` and ``reset``; nothing outside what was erased
    loses its text.

    Troubleshooting: ``delete_all`` must report every id it erased, including
    vectors whose memory node was already gone."""

    def test_delete_erases_the_text_of_that_memory_only(self, store: HybridStore) -> None:
        gone = _add(store, "secret one", user_id="u")
        kept = _add(store, "kept one", user_id="u")
        result = store.delete(gone)
        events = store.history(gone)
        assert [e.kind for e in events] == ["ADD", "UPDATE", "DELETE"]
        assert _texts(store, gone) == [None] * 6
        assert {e.erased_by for e in events} == {result.operation_id}
        assert all(e.hash for e in events), "erasure keeps the hashes as proof"
        assert _texts(store, kept) == [None, "kept one", "kept one", "kept one (edited)"]

    def test_delete_all_erases_the_scope_text_and_nothing_else(self, store: HybridStore) -> None:
        gone = [_add(store, f"a1 secret {i}", user_id="alice", agent_id="a1") for i in range(3)]
        other_agent = _add(store, "a2 note", user_id="alice", agent_id="a2")
        other_user = _add(store, "bob note", user_id="bob", agent_id="a1")
        result = store.delete_all(user_id="alice", agent_id="a1")
        for memory_id in gone:
            assert [e.kind for e in store.history(memory_id)] == ["ADD", "UPDATE", "DELETE"]
            assert set(_texts(store, memory_id)) == {None}
            assert {e.erased_by for e in store.history(memory_id)} == {result.operation_id}
        assert _texts(store, other_agent) == [None, "a2 note", "a2 note", "a2 note (edited)"]
        assert _texts(store, other_user) == [None, "bob note", "bob note", "bob note (edited)"]
        assert raw.history_texts(store.journal.path, gone) == 0

    def test_delete_all_erases_text_of_memories_the_graph_had_lost(
        self, store: HybridStore
    ) -> None:
        """A memory whose graph node went missing (outside interference, an old crash)
        is erased by the vector sweep: its history text must go with it."""
        lost = _add(store, "half gone secret", user_id="alice")
        raw.detach_memory_node(store, lost)
        result = store.delete_all(user_id="alice")
        assert result.memories == 1 and result.vectors == 1
        assert lost not in raw.vector_ids(store)
        assert set(_texts(store, lost)) == {None}, "the swept memory's text is still in history"
        assert {e.erased_by for e in store.history(lost)} == {result.operation_id}

    def test_reset_erases_every_text(self, store: HybridStore) -> None:
        ids = [_add(store, f"note {i}", user_id=f"u{i}") for i in range(3)]
        store.reset()
        assert raw.history_texts(store.journal.path, ids) == 0
        reset_op = raw.operation_events(store.journal.path, "RESET")[-1].operation_id
        for memory_id in ids:
            assert {e.erased_by for e in store.history(memory_id)} == {reset_op}

    def test_reset_reports_what_was_there(self, store: HybridStore) -> None:
        store.add(
            "tea in Paris",
            embedding=embedding("tea in Paris"),
            user_id="u",
            entities=[{"name": "tea", "type": "drink"}, {"name": "Paris", "type": "city"}],
            relations=[{"source": "tea", "target": "Paris", "type": "in"}],
        )
        store.add(
            "Paris again",
            embedding=embedding("Paris again"),
            user_id="u",
            entities=[{"name": "Paris", "type": "city"}],
        )
        store.add("someone else", embedding=embedding("someone else"), user_id="v")
        expected = {"vectors": 3, "memory_nodes": 3, "entities": 2, "relations": 1}
        assert store.reset() == expected
        [event] = raw.operation_events(store.journal.path, "RESET")
        assert event.counts == expected
        info = store.operation(event.operation_id)
        assert info is not None and (info.state, info.counts) == ("done", expected)

    def test_update_of_an_absent_id_names_it_and_writes_nothing(self, store: HybridStore) -> None:
        absent = "0f8fad5b-d9cb-469f-a165-70867728950e"
        with pytest.raises(NotFoundError, match=f"memory {absent} not found"):
            store._coordinator.update(absent, Scope(user_id="u"), lambda record: record)
        assert raw.operation_ids(store.journal.path, "update") == []
        assert store.history(absent) == []
