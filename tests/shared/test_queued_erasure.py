"""A delete_all queued behind another erasure's claim, whose process dies while it
waits, is not lost: it is journaled before it waits, so another process's
``recover()`` runs it once the erasure it waited for is done. Before, the queued
erasure lived in its process's memory only: the scope it named outside the
other erasure's survived."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hybridmem import HybridStore
from hybridmem.errors import ClaimTimeoutError
from hybridmem.testing.builders import embedding
from tests.shared.conftest import SharedConfig
from tests.shared.processes import kill, start_worker, wait_for
from tests.shared.state import pending_erasures

LEASE = 30.0


def _seed(config: dict[str, object]) -> list[str]:
    with HybridStore(config) as seed:
        alice = seed.add_many(
            [
                {
                    "text": f"alice {agent} {i}",
                    "embedding": embedding(f"{agent}{i}"),
                    "user_id": "alice",
                    "agent_id": agent,
                }
                for agent in ("a1", "a2")
                for i in range(3)
            ]
        ).ids
        seed.add("bob keeps this", embedding=embedding("bob"), user_id="bob")
    return alice


def test_a_queued_delete_all_of_a_killed_worker_is_run_by_another(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    a_config = servers_config(tmp_path / "a", lease_seconds=LEASE)
    alice = _seed(a_config)

    # Worker A erases alice's agent a1 and stops there, holding its claim; worker B's
    # delete_all of all of alice overlaps it, so B waits for A's claim.
    holder = start_worker(
        a_config,
        {"kind": "delete_all", "user_id": "alice", "agent_id": "a1"},
        HYBRIDMEM_TEST_PAUSE_AT="delete_all.counted",
    )
    queued = None
    try:
        wait_for(holder, "paused")
        queued = start_worker(
            servers_config(tmp_path / "b", lease_seconds=LEASE),
            {"kind": "delete_all", "user_id": "alice"},
        )
        wait_for(queued, "started")
        graph = a_config["graph"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if pending_erasures(graph, graph["label_prefix"], "alice"):
                break
            time.sleep(0.2)
        time.sleep(0.5)  # into its wait for A's claim
        assert queued.poll() is None, "the queued erasure must still be waiting"
        kill(queued)

        c_config = {
            **servers_config(tmp_path / "c", lease_seconds=LEASE, claim_timeout_seconds=1.0),
            "recover_on_open": False,
        }
        with HybridStore(c_config) as c:
            # A is alive and holds its claim: B's erasure waits behind it, untouched,
            # and counts no failed attempt.
            assert c.recover() == []
            assert len(c.get_all(user_id="alice", agent_id="a2")) == 3
            kill(holder)
            # Both dead now: their erasures are finished, A's and the queued one.
            recovered = c.recover()
            assert sorted((r.kind, r.outcome) for r in recovered) == [
                ("delete_all", "completed"),
                ("delete_all", "completed"),
            ]
            assert c.get_all(user_id="alice") == []
            assert c.vector.get(alice) == [] and c.graph.existing_memory_ids(alice) == set()
            texts = [e.new_text for memory_id in alice for e in c.history(memory_id)]
            assert texts and all(text is None for text in texts)
            assert [m.text for m in c.get_all(user_id="bob")] == ["bob keeps this"]
            assert c.stats()["pending_operations"] == 0
    finally:
        kill(holder)
        if queued is not None:
            kill(queued)


def test_a_delete_all_whose_claim_never_came_is_withdrawn(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    """Told ClaimTimeoutError ("the operation did not start"), a caller must be able
    to rely on it: the journaled intent is withdrawn, and no process runs it later."""
    a_config = servers_config(tmp_path / "a", lease_seconds=LEASE)
    _seed(a_config)
    holder = start_worker(
        a_config,
        {"kind": "delete_all", "user_id": "alice", "agent_id": "a1"},
        HYBRIDMEM_TEST_PAUSE_AT="delete_all.counted",
    )
    try:
        wait_for(holder, "paused")
        b_config = servers_config(tmp_path / "b", lease_seconds=LEASE, claim_timeout_seconds=1.0)
        with HybridStore({**b_config, "recover_on_open": False}) as b:
            with pytest.raises(ClaimTimeoutError, match="claim"):
                b.delete_all(user_id="alice")
            graph = a_config["graph"]
            assert pending_erasures(graph, graph["label_prefix"], "alice") == 0
            kill(holder)
            assert [(r.kind, r.outcome) for r in b.recover()] == [("delete_all", "completed")]
            assert sorted(m.text for m in b.get_all(user_id="alice")) == [
                f"alice a2 {i}" for i in range(3)
            ]
            assert b.stats()["pending_operations"] == 0
    finally:
        kill(holder)
