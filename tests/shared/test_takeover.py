"""A worker killed with SIGKILL in the middle of add_many or delete_all: another
worker (its own data directory) finishes or rolls the operation back. On the
same machine it sees the killed process is gone and takes over at once, without
waiting for the lease (``local_owners``); a process that still exists keeps its
lease (``test_fencing.py``: a stalled worker is left alone until its lease has
run out). Nothing acknowledged is lost; nothing erased is readable."""

from __future__ import annotations

import time
from pathlib import Path

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding
from tests.shared.conftest import SharedConfig
from tests.shared.processes import kill, start_worker

LEASE = 30.0


def _killed(config: dict[str, object], operation: dict[str, object], at: str) -> float:
    worker = start_worker(config, operation, HYBRIDMEM_FAULT_KILL_AT=at)
    assert worker.wait(120) == -9, "the worker was not killed at its fault point"
    kill(worker)
    return time.monotonic()


def test_add_many_of_a_killed_worker_is_rolled_back_after_its_lease(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    operation = {"kind": "add_many", "user_id": "alice", "count": 6, "batch_size": 2}
    killed = _killed(
        servers_config(tmp_path / "a", lease_seconds=LEASE), operation, "add_many.graph_written:2"
    )
    b_config = {**servers_config(tmp_path / "b", lease_seconds=LEASE), "recover_on_open": False}
    with HybridStore(b_config) as b:
        # The first batch was acknowledged; the second, half-done, is rolled back
        # at once: its owner's process is gone, its lease need not run out.
        [recovered] = b.recover()
        assert time.monotonic() - killed < LEASE
        assert (recovered.kind, recovered.outcome) == ("add_many", "rolled_back")
        left = b.get_all(user_id="alice")
        assert sorted(m.text for m in left) == ["alice batch 0", "alice batch 1"]
        assert b.stats()["pending_operations"] == 0


def test_delete_all_of_a_killed_worker_is_finished_after_its_lease(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    a_config = {**servers_config(tmp_path / "a", lease_seconds=LEASE), "batch_size": 2}
    with HybridStore(a_config) as seed:
        ids = seed.add_many(
            [
                {"text": f"secret {i}", "embedding": embedding(f"s{i}"), "user_id": "alice"}
                for i in range(6)
            ]
        ).ids
        seed.add("bob keeps this", embedding=embedding("bob"), user_id="bob")
    killed = _killed(
        a_config, {"kind": "delete_all", "user_id": "alice"}, "delete_all.batch_journaled:1"
    )
    b_config = {**servers_config(tmp_path / "b", lease_seconds=LEASE), "recover_on_open": False}
    with HybridStore(b_config) as b:
        [recovered] = b.recover()
        assert time.monotonic() - killed < LEASE
        assert (recovered.kind, recovered.outcome) == ("delete_all", "completed")
        assert b.get_all(user_id="alice") == []
        assert b.vector.get(ids) == [] and b.graph.existing_memory_ids(ids) == set()
        texts = [e.new_text for memory_id in ids for e in b.history(memory_id)]
        assert len(texts) == 12 and all(text is None for text in texts)
        assert [m.text for m in b.get_all(user_id="bob")] == ["bob keeps this"]
