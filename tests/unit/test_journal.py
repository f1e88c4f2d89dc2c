"""The journal on its own file: what it records is what it reads back, field by field."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hybridmem.journal import HistoryEntry, Journal, PendingOperation
from hybridmem.models import Scope
from tests.integration import raw

SCOPE = Scope(user_id="u", agent_id="a", run_id="r")
MEMORY = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite")


def test_an_operation_reads_back_every_field(journal: Journal) -> None:
    op = journal.begin("delete", scope=SCOPE, memory_id=MEMORY)
    journal.fail(op, "x" * 3000)
    info = journal.operation(op)
    assert info is not None
    assert (info.id, info.kind, info.state) == (op, "delete", "pending")
    assert (info.user_id, info.agent_id, info.run_id) == ("u", "a", "r")
    assert info.memory_id == MEMORY
    assert info.error == "x" * 2000, "errors are kept, cut at 2000 characters"
    assert info.counts == {}
    assert info.created_at <= info.updated_at
    journal.finish(op, {"memories": 1})
    done = journal.operation(op)
    assert done is not None and (done.state, done.counts, done.error) == (
        "done",
        {"memories": 1},
        None,
    )
    assert journal.operation("missing") is None


def test_history_events_read_back_every_field(journal: Journal) -> None:
    op = journal.begin("add", scope=SCOPE, memory_id=MEMORY)
    journal.finish(op, events=[HistoryEntry("ADD", MEMORY, SCOPE, new_text="t", hash="h1")])
    erase = journal.begin("delete_all", scope=SCOPE)
    journal.finish(
        erase,
        {"memories": 1},
        events=[
            HistoryEntry("DELETE", MEMORY, SCOPE),
            HistoryEntry("DELETE_ALL", None, SCOPE, counts={"memories": 1}),
        ],
        erase_scope=SCOPE,
    )
    added, deleted = journal.history(MEMORY)
    assert (added.kind, added.memory_id, added.operation_id) == ("ADD", MEMORY, op)
    assert (added.user_id, added.agent_id, added.run_id) == ("u", "a", "r")
    assert (added.old_text, added.new_text, added.hash) == (None, None, "h1")
    assert added.erased_by == erase
    assert (deleted.kind, deleted.hash, deleted.erased_by) == ("DELETE", "h1", erase)
    [summary] = raw.operation_events(journal.path, "DELETE_ALL")
    assert (summary.operation_id, summary.counts) == (erase, {"memories": 1})
    assert raw.operation_events(journal.path, "RESET") == []
    assert len(raw.operation_events(journal.path, "DELETE_ALL")) == 1


def test_checkpoints_erase_their_batch_at_once(journal: Journal) -> None:
    other = "00000000-0000-4000-8000-000000000002"
    for memory_id in (MEMORY, other):
        op = journal.begin("add", scope=SCOPE, memory_id=memory_id)
        journal.finish(op, events=[HistoryEntry("ADD", memory_id, SCOPE, new_text="secret")])
    erase = journal.begin("delete_all", scope=SCOPE)
    journal.note_batch(erase, [MEMORY])
    assert journal.pending()[0].payload == {"batch": [MEMORY]}
    journal.checkpoint(erase, {"memories": 1}, erase_ids=[MEMORY])
    # Pending, not finished: the batch's text is gone already, the rest is not yet.
    assert raw.history_texts(journal.path, [MEMORY]) == 0
    assert raw.history_texts(journal.path, [other]) == 1
    assert [e.erased_by for e in journal.history(MEMORY)] == [erase]
    [pending] = journal.pending()
    assert (pending.payload, pending.counts) == ({}, {"memories": 1})


def test_pending_memory_ids_are_those_of_adds_by_default(journal: Journal) -> None:
    add = journal.begin("add", scope=SCOPE, memory_id=MEMORY)
    journal.begin("delete", scope=SCOPE, memory_id="00000000-0000-4000-8000-000000000002")
    journal.begin("delete_all", scope=SCOPE)
    assert journal.pending_memory_ids() == {MEMORY}
    assert journal.pending_memory_ids("delete") == {"00000000-0000-4000-8000-000000000002"}
    journal.finish(add)
    assert journal.pending_memory_ids() == set()


def test_the_journal_makes_its_directories(tmp_path: Path) -> None:
    # A configured journal path may name directories that do not exist yet.
    path = tmp_path / "not" / "yet" / "journal.sqlite"
    journal = Journal(path)
    try:
        assert journal.pending() == [] and path.is_file()
    finally:
        journal.close()


def test_a_pending_operation_reads_back_every_field(journal: Journal) -> None:
    erasure = journal.begin("delete_all", scope=SCOPE)
    journal.checkpoint(erasure, {"memories": 3})
    journal.note_batch(erasure, [MEMORY])
    delete = journal.begin("delete", scope=Scope(agent_id="b"), memory_id=MEMORY)
    journal.finish(journal.begin("reset"))
    assert journal.pending() == [
        PendingOperation(erasure, "delete_all", SCOPE, None, {"batch": [MEMORY]}, {"memories": 3}),
        PendingOperation(delete, "delete", Scope(agent_id="b"), MEMORY, {}, {}),
    ]


def test_the_time_index_reads_due_rows_oldest_first_through_its_index(journal: Journal) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    rows = [(f"m{i}", SCOPE, now + timedelta(minutes=i - 5)) for i in range(10)]
    journal.finish(journal.begin("add_many", scope=SCOPE, expiring=rows))
    due = journal.expired(now, 3)
    assert [r.memory_id for r in due] == ["m0", "m1", "m2"]
    assert len(journal.expired(now, 100)) == 6  # expires_at <= now: m0..m5
    assert due[0].scope == SCOPE
    # A range search of the index, never a scan of the table.
    with closing(sqlite3.connect(journal.path)) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT memory_id, expires_at, user_id, agent_id, run_id"
            " FROM expiry WHERE expires_at <= ? ORDER BY expires_at LIMIT ?",
            ("2030", 3),
        ).fetchall()
    detail = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH expiry USING INDEX expiry_due (expires_at<?)" in detail, detail
    # Erasing a memory drops its row; a row written again since it was read stays.
    journal.checkpoint(journal.begin("purge_expired"), {}, erase_ids=["m0"])
    stale = journal.expired(now, 1)[0]
    journal.finish(
        journal.begin(
            "add", scope=SCOPE, expiring=[(stale.memory_id, SCOPE, now + timedelta(days=1))]
        )
    )
    journal.forget_expiry([stale])
    assert journal.expiry_of("m0") is None
    assert journal.expiry_of(stale.memory_id) is not None
