"""Expiry: a memory given ``expires_at`` or ``ttl`` vanishes from every read the moment
it expires, and ``purge_expired()`` erases exactly the expired ones from both stores
(and their texts from history), as delete_all erases a scope.

What a user relies on: an agent's short-lived memory (a session note, a one-time
code) is never served after its time, even before any purge ran; a search still
fills its limit with live memories; the purge takes nothing live, nothing of
another scope, and leaves no orphan, no index row and no text behind.
"""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybridmem import HybridStore, Scope
from hybridmem.faults import FAULT_POINTS, InjectedFault
from hybridmem.migration import migrate
from hybridmem.portability import read_export, write_export
from hybridmem.testing import raw
from hybridmem.testing.builders import embedding
from hybridmem.testing.journal_file import set_expiry_row
from hybridmem.testing.pair_checks import assert_no_half_memory_or_orphan
from hybridmem.testing.pair_fixtures import PairConfig
from hybridmem.testing.pair_suite import PairSuite

PAST = "2020-01-01T00:00:00+00:00"
QUERY = embedding("query")


def near(i: int) -> list[float]:
    """Vectors close to QUERY, the lower ``i`` the closer."""
    return [x + 0.001 * i for x in QUERY]


def _expired_and_live(store: HybridStore, user_id: str, n: int = 5) -> tuple[list[str], list[str]]:
    """``n`` expired memories (closest to QUERY, mentioning 'Gone') and ``n`` live ones."""
    expired = store.add_many(
        [
            {
                "text": f"{user_id} expired {i}",
                "embedding": near(i),
                "user_id": user_id,
                "expires_at": PAST,
                "entities": [{"name": "Gone", "type": "t"}, {"name": "Shared", "type": "t"}],
                "relations": [{"source": "Gone", "target": "Shared", "type": "r"}],
            }
            for i in range(n)
        ]
    ).ids
    live = [
        store.add(
            f"{user_id} live {i}",
            embedding=near(10 + i),
            user_id=user_id,
            entities=[{"name": "Shared", "type": "t"}],
            ttl=3600 if i % 2 else None,
        ).id
        for i in range(n)
    ]
    return expired, live


def index_rows(store: HybridStore) -> list[tuple[Any, ...]]:
    """The expiry index's (memory_id, user_id) rows, read from the journal file."""
    return raw.expiry_rows(store.journal.path)


def _export_text(store: HybridStore, scope: Scope) -> str:
    out = io.StringIO()
    write_export(store, out, scope)
    return out.getvalue()


class ExpirySuite(PairSuite):
    """A memory given ``expires_at`` or ``ttl`` vanishes from every read the moment it
    expires; ``purge_expired()`` erases exactly the expired ones from both stores and
    their text from history, finishes after a fault at any of its points, races adds
    and erasures consistently; export, migrate and a second add keep each expiry.

    Troubleshooting: ``Filters.alive_at`` must be evaluated in the store, before
    offset and limit, on ``list_scope`` and ``search``."""

    def test_expired_memories_vanish_from_every_read_before_any_purge(
        self, store: HybridStore
    ) -> None:
        expired, live = _expired_and_live(store, "alice")
        # The expired ones are the closest: the limit is still filled with live ones.
        hits = store.search(QUERY, user_id="alice", limit=5)
        assert sorted(h.memory.id for h in hits) == sorted(live)
        assert all(store.get(m) is None for m in expired)
        assert {m.id for m in store.get_all(user_id="alice")} == set(live)
        assert [m.id for m in store.get_all(user_id="alice", limit=2)] == [
            m.id for m in store.get_all(user_id="alice")
        ][:2]
        assert {m.id for m in store.get_all(user_id="alice", entity="Shared")} == set(live)
        assert store.get_all(user_id="alice", entity="Gone") == []
        anchored = store.search(QUERY, user_id="alice", entities=["Gone"], limit=10)
        assert {h.memory.id for h in anchored} == set(live)
        filtered = store.search(QUERY, user_id="alice", filters={"created_at": {"$gt": PAST}})
        assert {h.memory.id for h in filtered} == set(live)
        with_graph = store.search(QUERY, user_id="alice", graph=True, limit=10)
        assert {h.memory.id for h in with_graph} == set(live)
        # History keeps its events, but not the text of what expired.
        assert all(e.new_text is None for m in expired for e in store.history(m))
        assert store.history(live[0])[0].new_text == "alice live 0"
        # Live memories say when they expire; the others that they never do.
        expiries = {m.id: m.expires_at for m in store.get_all(user_id="alice")}
        assert expiries[live[0]] is None and expiries[live[1]] is not None

    def test_a_memory_disappears_the_moment_its_ttl_runs_out(self, store: HybridStore) -> None:
        short = store.add("one-time code 4711", embedding=near(0), user_id="bob", ttl=1.5)
        kept = store.add("bob likes tea", embedding=near(1), user_id="bob")
        assert short.expires_at is not None
        assert {h.memory.id for h in store.search(QUERY, user_id="bob", limit=1)} == {short.id}
        time.sleep(max(0.0, (short.expires_at - datetime.now(UTC)).total_seconds()) + 0.05)
        assert [h.memory.id for h in store.search(QUERY, user_id="bob", limit=1)] == [kept.id]
        assert store.get(short.id) is None
        assert [m.id for m in store.get_all(user_id="bob")] == [kept.id]

    def test_purge_erases_exactly_the_expired(self, store: HybridStore) -> None:
        expired, live = _expired_and_live(store, "alice")
        other_expired, other_live = _expired_and_live(store, "carol", 2)
        result = store.purge_expired()
        assert (result.memories, result.vectors, result.memory_nodes) == (7, 7, 7)
        assert result.relations == 7
        # 'Gone' was mentioned only by expired memories (one entity per user namespace).
        assert result.orphan_entities == 2
        vectors, nodes = raw.vector_ids(store), raw.memory_node_ids(store)
        assert vectors == nodes == set(live) | set(other_live)
        assert sorted(e.name for e in store.entities(user_id="alice")) == ["Shared"]
        assert raw.history_texts(store.journal.path, expired + other_expired) == 0
        assert all(e.erased_by == result.operation_id for e in store.history(expired[0]))
        assert raw.history_texts(store.journal.path, live) == len(live)
        # Only the live memories that expire later keep a row in the time index.
        assert {row[0] for row in index_rows(store)} == {live[1], live[3], other_live[1]}
        info = store.operation(result.operation_id)
        assert info is not None and (info.kind, info.state) == ("purge_expired", "done")
        assert_no_half_memory_or_orphan(store)
        again = store.purge_expired()
        assert again.memories == 0 and len(store.get_all(user_id="alice")) == len(live)

    def test_a_memory_written_again_with_a_later_expiry_survives(self, store: HybridStore) -> None:
        memory_id = "5b3e6a52-3c55-4a57-9d7d-0d7a1f0c2b11"
        store.add_many(
            [
                {
                    "memory_id": memory_id,
                    "text": "renewed",
                    "embedding": near(0),
                    "user_id": "dave",
                    "expires_at": PAST,
                }
            ]
        )
        renewed = store.add(
            "renewed", embedding=near(0), user_id="dave", memory_id=memory_id, ttl=600
        )
        memory_id = renewed.id  # the stored id: the chosen one's in dave's scope
        assert renewed.expires_at is not None and store.get(memory_id) is not None
        assert store.purge_expired().memories == 0
        found = store.get(memory_id)
        assert found is not None and found.expires_at == renewed.expires_at
        assert [row[0] for row in index_rows(store)] == [memory_id]

    def test_a_row_read_before_the_memory_was_renewed_does_not_erase_it(
        self, store: HybridStore
    ) -> None:
        """The race purge vs add, made deterministic: the index row still says "due"
        when the purge reads it, but the memory it points at no longer expires then;
        the check under the claim keeps the memory and re-indexes its real expiry."""
        kept = store.add("kept", embedding=near(0), user_id="erin", ttl=600)
        set_expiry_row(store.journal.path, kept.id, PAST)
        assert store.purge_expired().memories == 0
        assert store.get(kept.id) is not None
        assert store.journal.expiry_of(kept.id) is not None
        assert store.journal.expiry_of(kept.id) != PAST

    def test_an_erasure_removes_the_index_rows_of_what_it_erased(self, store: HybridStore) -> None:
        one = store.add("one", embedding=near(0), user_id="hank", ttl=600)
        two = store.add("two", embedding=near(1), user_id="hank", agent_id="a", ttl=600)
        other = store.add("other", embedding=near(2), user_id="ivy", ttl=600)
        store.delete(one.id)
        assert store.journal.expiry_of(one.id) is None
        store.delete_all(user_id="hank")
        assert store.journal.expiry_of(two.id) is None
        # No id of an erased scope is left in the index; other scopes keep theirs.
        assert index_rows(store) == [(other.id, "ivy")]
        store.reset()
        assert index_rows(store) == []

    def test_update_keeps_the_expiry(self, store: HybridStore) -> None:
        memory = store.add("draft", embedding=near(0), user_id="jack", ttl=600)
        updated = store.update(memory.id, text="final")
        assert updated.expires_at == memory.expires_at
        found = store.get(memory.id)
        assert found is not None and found.expires_at == memory.expires_at

    @pytest.mark.parametrize("point", FAULT_POINTS["purge_expired"])
    def test_a_purge_that_fails_at_any_point_is_finished_by_recover(
        self, pair_config: PairConfig, tmp_path: Any, point: str
    ) -> None:
        config = {**pair_config(tmp_path / "data"), "batch_size": 3}

        def fail(reached: str) -> None:
            if reached == point:
                raise InjectedFault(point)

        with HybridStore(config, fault_hook=fail) as store:
            expired, live = _expired_and_live(store, "kate")
            with pytest.raises(InjectedFault):
                store.purge_expired()
        with HybridStore(config) as store:  # recovers on open
            assert not store.journal.pending()
            vectors, nodes = raw.vector_ids(store), raw.memory_node_ids(store)
            assert vectors == nodes == set(live)
            assert raw.history_texts(store.journal.path, expired) == 0
            assert {row[0] for row in index_rows(store)} <= set(live)
            assert_no_half_memory_or_orphan(store)

    def test_purge_racing_adds_and_delete_all_of_the_scope_ends_consistent(
        self, pair_config: PairConfig, tmp_path: Any
    ) -> None:
        with HybridStore({**pair_config(tmp_path / "data"), "batch_size": 4}) as store:
            expired, _ = _expired_and_live(store, "liam", 12)
            errors: list[BaseException] = []
            added: list[str] = []

            def run(action: Any) -> None:
                try:
                    action()
                except BaseException as exc:
                    errors.append(exc)

            def add_more() -> None:
                for i in range(8):
                    added.append(
                        store.add(f"new {i}", embedding=near(30 + i), user_id="liam", ttl=600).id
                    )

            threads = [
                threading.Thread(target=run, args=(store.purge_expired,)),
                threading.Thread(target=run, args=(lambda: store.delete_all(user_id="liam"),)),
                threading.Thread(target=run, args=(add_more,)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert not errors, errors
            assert all(not t.is_alive() for t in threads)
            # Nothing expired is left, whoever erased it; every add either survived whole
            # or was erased whole by the delete_all it raced; the index names only those.
            present = raw.vector_ids(store)
            assert not present & set(expired)
            assert present <= set(added)
            assert {row[0] for row in index_rows(store)} == present
            assert raw.history_texts(store.journal.path, expired) == 0
            assert_no_half_memory_or_orphan(store)

    def test_export_leaves_out_the_expired_and_import_keeps_each_expiry(
        self, store: HybridStore, tmp_path: Any
    ) -> None:
        expired, live = _expired_and_live(store, "mia", 3)
        lines = [
            json.loads(line) for line in _export_text(store, Scope(user_id="mia")).splitlines()
        ]
        memories = {line["id"]: line for line in lines if line["type"] == "memory"}
        assert set(memories) == set(live)
        assert not [line for line in lines if line.get("memory_id") in expired]
        assert memories[live[0]]["expires_at"] is None
        assert memories[live[1]]["expires_at"] is not None
        with HybridStore.embedded(tmp_path / "imported") as other:
            other.add_many(read_export(_export_text(store, Scope(user_id="mia")).splitlines()))
            for memory_id in live:
                mine, theirs = store.get(memory_id), other.get(memory_id)
                assert mine is not None and theirs is not None
                assert theirs.expires_at == mine.expires_at
            assert {row[0] for row in index_rows(other)} == {live[1]}

    def test_migrate_keeps_expiries_and_the_expired_stay_invisible(
        self, store: HybridStore, tmp_path: Any
    ) -> None:
        expired, live = _expired_and_live(store, "noah", 3)
        with HybridStore.embedded(tmp_path / "copy") as copy:
            report = migrate(store, copy, Scope(user_id="noah"))
            assert report.verified and report.copied == 6
            assert {m.id for m in copy.get_all(user_id="noah")} == set(live)
            assert all(copy.get(m) is None for m in expired)
            copied = copy.get(live[1])
            assert copied is not None and copied.expires_at == store.get(live[1]).expires_at  # type: ignore[union-attr]
            assert copy.purge_expired().memories == len(expired)

    def test_adding_a_memory_again_with_a_new_ttl_renews_its_expiry(
        self, store: HybridStore
    ) -> None:
        """A framework that re-adds a memory by its id (with its entities) to keep it
        alive: the second add renews the expiry and keeps one memory, graph unchanged."""
        memory_id = "0d5c1c55-6f0e-4d5e-9a3b-7a1e0f3b9c22"
        arguments: dict[str, Any] = {
            "embedding": near(0),
            "user_id": "olga",
            "memory_id": memory_id,
            "entities": [{"name": "Olga", "type": "person"}],
        }
        first = store.add("session note", ttl=60, **arguments)
        second = store.add("session note", ttl=3600, **arguments)
        assert first.expires_at is not None and second.expires_at is not None
        assert second.expires_at - first.expires_at > timedelta(minutes=50)
        assert first.id == second.id
        found = store.get(second.id)
        assert found is not None and found.expires_at == second.expires_at
        assert found.created_at == first.created_at
        assert [e.name for e in store.entities(user_id="olga")] == ["Olga"]
        assert store.journal.expiry_of(second.id) is not None
        assert store.journal.expiry_of(second.id) > first.expires_at.isoformat()  # type: ignore[operator]
        assert [e.kind for e in store.history(second.id)] == ["ADD", "UPDATE"]

    def test_purge_waits_for_a_write_in_flight_on_a_memory_it_would_erase(
        self,
        store: HybridStore,
    ) -> None:
        """The purge claims each batch before it reads the stores: a write holding the
        memory's claim (an add renewing it, an update) finishes first, and the purge
        then decides on what that write left."""
        [memory_id] = store.add_many(
            [{"text": "due", "embedding": near(0), "user_id": "pia", "expires_at": PAST}]
        ).ids
        purge = threading.Thread(target=store.purge_expired)
        with store._coordinator.locks.records(Scope(user_id="pia"), memory_id):
            purge.start()
            purge.join(timeout=1.0)
            waited = purge.is_alive()
            assert store.vector.existing_ids([memory_id]) == {memory_id}
        purge.join(timeout=60)
        assert waited, "the purge read or erased a memory whose claim another write held"
        assert not purge.is_alive() and store.vector.existing_ids([memory_id]) == set()
