"""The journal contract: what every ``JournalPort`` must do, run on each journal.

Subclass it with a ``journal`` fixture that yields an empty journal::

    class TestMyJournal(JournalContract):
        @pytest.fixture
        def journal(self):
            j = MyJournal(...)
            yield j
            j.close()
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hybridmem.journal import ExpiryRow, HistoryEntry, expiry_text
from hybridmem.journal_port import JournalPort
from hybridmem.models import Scope

ALICE = Scope(user_id="alice")
BOB = Scope(user_id="bob")
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _add(journal: JournalPort, memory_id: str, text: str, scope: Scope = ALICE) -> str:
    op = journal.begin("add", scope=scope, memory_id=memory_id)
    journal.finish(op, events=[HistoryEntry("ADD", memory_id, scope, new_text=text, hash="h1")])
    return op


class JournalContract:
    def test_an_operation_is_pending_from_begin_until_finish(self, journal: JournalPort) -> None:
        op = journal.begin("update", scope=ALICE, memory_id="m1", payload={"text": "new"})
        [pending] = journal.pending()
        assert (pending.id, pending.kind, pending.memory_id) == (op, "update", "m1")
        assert pending.scope == ALICE and pending.payload == {"text": "new"}
        assert journal.pending(op) == [pending]
        journal.finish(op, {"updated": 1})
        assert journal.pending() == [] and journal.pending(op) == []
        info = journal.operation(op)
        assert info is not None and info.state == "done" and info.counts == {"updated": 1}
        assert journal.operation("no-such-operation") is None

    def test_pending_operations_come_in_the_order_begun(self, journal: JournalPort) -> None:
        ops = [journal.begin("delete", scope=ALICE, memory_id=f"m{i}") for i in range(5)]
        assert [p.id for p in journal.pending()] == ops

    def test_history_is_ordered_and_an_erasure_nulls_its_texts(self, journal: JournalPort) -> None:
        _add(journal, "m1", "first text")
        update = journal.begin("update", scope=ALICE, memory_id="m1")
        journal.finish(
            update,
            events=[
                HistoryEntry(
                    "UPDATE", "m1", ALICE, old_text="first text", new_text="second", hash="h2"
                )
            ],
        )
        _add(journal, "m2", "other memory")
        delete = journal.begin("delete", scope=ALICE, memory_id="m1")
        journal.finish(delete, events=[HistoryEntry("DELETE", "m1", ALICE)], erase_ids=["m1"])
        events = journal.history("m1")
        assert [e.kind for e in events] == ["ADD", "UPDATE", "DELETE"]
        assert all(e.old_text is None and e.new_text is None for e in events)
        assert {e.erased_by for e in events} == {delete}
        # The DELETE event carries the memory's last hash: proof of what was erased.
        assert events[-1].hash == "h2"
        assert [e.new_text for e in journal.history("m2")] == ["other memory"]

    def test_erasing_a_scope_nulls_its_texts_and_expiry_rows_only(
        self, journal: JournalPort
    ) -> None:
        op = journal.begin(
            "add_many",
            payload={"ids": ["a1", "b1"]},
            expiring=[("a1", ALICE, T0), ("b1", BOB, T0)],
        )
        journal.finish(
            op,
            events=[
                HistoryEntry("ADD", "a1", ALICE, new_text="alice text"),
                HistoryEntry("ADD", "b1", BOB, new_text="bob text"),
            ],
        )
        erase = journal.begin("delete_all", scope=ALICE)
        journal.finish(
            erase,
            events=[HistoryEntry("DELETE_ALL", None, ALICE, counts={"memories": 1})],
            erase_scope=ALICE,
        )
        assert [e.new_text for e in journal.history("a1")] == [None]
        assert [e.new_text for e in journal.history("b1")] == ["bob text"]
        assert journal.expiry_of("a1") is None and journal.expiry_of("b1") is not None

    def test_erasing_everything_leaves_no_text_and_no_expiry(self, journal: JournalPort) -> None:
        op = journal.begin("add", scope=BOB, memory_id="b1", expiring=[("b1", BOB, T0)])
        journal.finish(op, events=[HistoryEntry("ADD", "b1", BOB, new_text="bob text")])
        open_update = journal.begin("update", scope=BOB, memory_id="b1", payload={"text": "x"})
        reset = journal.begin("reset")
        journal.finish(reset, {"vectors": 1}, erase_everything=True)
        assert [e.new_text for e in journal.history("b1")] == [None]
        assert journal.expiry_of("b1") is None
        assert journal.expired(T0 + timedelta(days=1), 10) == []
        # A pending operation's payload (it may hold text) is dropped too.
        assert [p.payload for p in journal.pending(open_update)] == [{}]

    def test_the_time_index_answers_due_rows_oldest_first(self, journal: JournalPort) -> None:
        rows = [(f"m{i}", ALICE, T0 + timedelta(minutes=10 - i)) for i in range(5)]
        journal.begin("add_many", payload={"ids": [r[0] for r in rows]}, expiring=rows)
        due = journal.expired(T0 + timedelta(minutes=8), 2)
        assert [r.memory_id for r in due] == ["m4", "m3"]
        assert due[0].scope == ALICE
        assert journal.expiry_of("m4") == expiry_text(T0 + timedelta(minutes=6))
        later = T0 + timedelta(days=1)
        # A stale row goes; a row written again with another expiry stays.
        journal.forget_expiry([due[0], ExpiryRow("m3", "2000-01-01", ALICE)])
        assert journal.expiry_of("m4") is None and journal.expiry_of("m3") is not None
        journal.forget_expiry([], reindex=[("m3", ALICE, later)])
        assert journal.expiry_of("m3") == expiry_text(later)
        # Many ids in one read: only those with a row, each once.
        assert journal.expiries(["m3", "m0", "missing", "m3"]) == {
            "m3": expiry_text(later),
            "m0": expiry_text(T0 + timedelta(minutes=10)),
        }
        assert journal.expiries([]) == {}

    def test_a_noted_batch_is_pending_until_its_checkpoint(self, journal: JournalPort) -> None:
        _add(journal, "p1", "purged text")
        op = journal.begin("purge_expired")
        journal.note_batch(op, ["p1"], [ALICE])
        [pending] = journal.pending(op)
        assert pending.payload == {"batch": ["p1"], "scopes": [["alice", None, None]]}
        journal.checkpoint(
            op, {"memories": 1}, events=[HistoryEntry("DELETE", "p1", ALICE)], erase_ids=["p1"]
        )
        [pending] = journal.pending(op)
        assert pending.payload == {} and pending.counts == {"memories": 1}
        assert [e.new_text for e in journal.history("p1")] == [None, None]

    def test_failed_recoveries_set_an_operation_aside_until_retried(
        self, journal: JournalPort
    ) -> None:
        op = journal.begin("delete", scope=ALICE, memory_id="m1")
        journal.fail(op, "store down")
        assert [p.id for p in journal.pending()] == [op]
        info = journal.operation(op)
        assert info is not None and info.error == "store down"
        assert [journal.recovery_failed(op, "boom") for _ in range(3)] == [False, False, True]
        assert journal.pending() == []
        assert [o.id for o in journal.set_aside()] == [op]
        assert journal.retry_set_aside() == 1
        assert [p.id for p in journal.pending()] == [op] and journal.set_aside() == []

    def test_pending_adds_are_protected_from_reconcile(self, journal: JournalPort) -> None:
        journal.begin("add", scope=ALICE, memory_id="single")
        journal.begin("add_many", scope=ALICE, payload={"ids": ["b1", "b2"]})
        done = journal.begin("add", scope=ALICE, memory_id="finished")
        journal.finish(done)
        assert journal.pending_memory_ids("add") == {"single"}
        assert journal.pending_added_ids() == {"single", "b1", "b2"}
