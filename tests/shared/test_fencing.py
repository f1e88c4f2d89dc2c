"""Fencing: a worker that stalls past its lease, and whose operation another
worker took over meanwhile, must not go on to record that operation as its own.
Its next journal write of the operation fails with LeaseLostError (a write of an
operation happens only while its owner is still this process), and nothing is
doubled or lost: the erasure is counted once and each memory's history has one
DELETE event."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from hybridmem import HybridStore
from hybridmem.models import Scope
from hybridmem.testing.builders import embedding
from tests.shared.conftest import SharedConfig
from tests.shared.processes import kill, next_line, start_worker, wait_for

#: Long enough for the second worker to open and look well inside it.
LEASE_SECONDS = 8.0


def wake_to_lease_lost(worker: subprocess.Popen[str]) -> None:
    """Resume a SIGSTOPped, held worker: its next journal write of the operation
    another worker took over must fail with LeaseLostError (exit status 1)."""
    os.kill(worker.pid, signal.SIGCONT)
    assert worker.stdin is not None
    worker.stdin.write("go\n")
    worker.stdin.flush()
    assert next_line(worker) == "failed LeaseLostError"
    assert worker.wait(60) == 1


def test_a_worker_taken_over_after_its_lease_ran_out_fails_cleanly(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    config = {**servers_config(tmp_path / "a", lease_seconds=LEASE_SECONDS), "batch_size": 2}
    with HybridStore(config) as seed:
        ids = seed.add_many(
            [
                {"text": f"secret {i}", "embedding": embedding(f"s{i}"), "user_id": "alice"}
                for i in range(6)
            ]
        ).ids
        seed.add("bob keeps this", embedding=embedding("bob"), user_id="bob")

    # Worker A erases alice; it stalls (SIGSTOP: its lease is not renewed either)
    # after the vector and graph deletes of its first batch (they run at once),
    # before their checkpoint: stopped inside its graph transaction, it would
    # hold Neo4j's locks on the batch and B's recovery would wait on them.
    worker = start_worker(
        config,
        {"kind": "delete_all", "user_id": "alice"},
        HYBRIDMEM_TEST_HOLD_AT="delete_all.batch_deleted",
    )
    try:
        wait_for(worker, "held")
        os.kill(worker.pid, signal.SIGSTOP)
        stopped = time.monotonic()
        b_config = servers_config(tmp_path / "b", lease_seconds=LEASE_SECONDS)
        with HybridStore({**b_config, "recover_on_open": False}) as b:
            # A's process exists and its lease is live: its operation is left alone.
            assert b.recover() == []
            assert time.monotonic() - stopped < LEASE_SECONDS
            time.sleep(max(0.0, stopped + LEASE_SECONDS + 1.0 - time.monotonic()))
            [recovered] = b.recover()
            assert (recovered.kind, recovered.outcome) == ("delete_all", "completed")
            assert b.get_all(user_id="alice") == []
        # A wakes up and goes on where it stopped.
        wake_to_lease_lost(worker)
    finally:
        kill(worker)

    with HybridStore(servers_config(tmp_path / "c")) as c:
        assert c.get_all(user_id="alice") == []
        assert c.vector.get(ids) == [] and c.graph.existing_memory_ids(ids) == set()
        for memory_id in ids:
            events = c.history(memory_id)
            assert [e.kind for e in events] == ["ADD", "DELETE"], memory_id
            assert all(e.new_text is None for e in events)
        info = c.journal.operation(recovered.operation_id)
        assert info is not None and info.state == "done"
        assert info.counts is not None and info.counts.get("memories") == 6
        assert [m.text for m in c.get_all(user_id="bob")] == ["bob keeps this"]
        assert c.stats()["pending_operations"] == 0


def test_an_add_many_taken_over_and_rolled_back_leaves_nothing_when_it_wakes(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    """A batch journaled, then stalled past the lease: another worker rolls it back
    (it was never acknowledged). When the stalled worker wakes it writes the batch's
    records, its finish fails with LeaseLostError, and it must remove them again:
    nothing of the unacknowledged batch may stay in either store."""
    config = servers_config(tmp_path / "a", lease_seconds=LEASE_SECONDS)
    worker = start_worker(
        config,
        {"kind": "add_many", "user_id": "carol", "count": 3, "batch_size": 3},
        HYBRIDMEM_TEST_HOLD_AT="add_many.journaled",
    )
    try:
        wait_for(worker, "held")
        os.kill(worker.pid, signal.SIGSTOP)
        stopped = time.monotonic()
        b_config = servers_config(tmp_path / "b", lease_seconds=LEASE_SECONDS)
        with HybridStore({**b_config, "recover_on_open": False}) as b:
            time.sleep(max(0.0, stopped + LEASE_SECONDS + 1.0 - time.monotonic()))
            [recovered] = b.recover()
            assert (recovered.kind, recovered.outcome) == ("add_many", "rolled_back")
        wake_to_lease_lost(worker)
    finally:
        kill(worker)

    with HybridStore(servers_config(tmp_path / "c")) as c:
        scope = Scope(user_id="carol")
        assert c.get_all(user_id="carol") == []
        assert c.vector.count_scope(scope) == 0
        assert c.graph.count_scope(scope).memory_nodes == 0
        assert c.stats()["pending_operations"] == 0
