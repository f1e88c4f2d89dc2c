"""``hybridmem serve`` takes over a dead worker's operations on its own (issue 23).

A worker of ``serve --workers 2`` answers a ``delete_all`` 202 ``queued`` (it
waits for a claim this test holds), then dies (SIGKILL). The erasure was
journaled before it waited, and the supervisor runs ``recover()`` once per
lease: once the claim is free (after the replacement worker has opened its
store, so its recover() on open cannot be what runs it), the erasure runs, with
nobody calling ``recover``. Before, the queued erasure lived in the dead
worker's memory only and was lost.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from hybridmem import HybridStore
from hybridmem.client import HybridMemClient
from tests.server.test_workers import (
    WORKERS,
    Served,
    _config_of,
    _owner_pids,
    _serving,
    _vector,
    server_pair,
)

__all__ = ["server_pair"]

LEASE_SECONDS = 3.0


def _replacement_workers(served: Served, graph: dict[str, Any], dead: int) -> list[int]:
    deadline = time.monotonic() + 120
    while True:
        # The dead worker's owner record stays until a takeover pass ends it; this
        # process (the claim's holder) and the supervisor are owners too.
        others = (dead, served.process.pid, os.getpid())
        workers = [p for p in _owner_pids(graph) if p not in others]
        if len(workers) == WORKERS:
            return workers
        assert time.monotonic() < deadline, (workers, served.log_tail())
        time.sleep(0.2)


def _until_each_worker_answers(served: Served) -> None:
    """The replacement registers its lease on open, before its recover() and before
    it listens."""
    deadline = time.monotonic() + 120
    while True:
        try:
            served.on_each_worker(lambda c: c.ready())
            return
        except AssertionError:
            assert time.monotonic() < deadline, served.log_tail()
            time.sleep(0.5)


def test_the_queued_erasure_of_a_killed_worker_runs_without_a_restart(
    server_pair: dict[str, Any], tmp_path: Path
) -> None:
    graph = {**server_pair["graph"], "lease_seconds": LEASE_SECONDS, "claim_timeout_seconds": 2.0}
    config = {**server_pair, "graph": graph, "server": {"erasure_wait_seconds": 0.2}}
    with _serving(config, tmp_path) as served, HybridStore(_config_of(config)) as holder:
        with HybridMemClient(served.url) as client:
            items = [
                {"text": f"d {i}", "embedding": _vector(i), "user_id": "w-dead"} for i in range(12)
            ]
            assert client.add_many(items).added == 12
            client.add("kept", embedding=_vector(99), user_id="w-kept")
        answered: dict[int, Any] = {}

        def erase_once(client: HybridMemClient) -> Any:
            if answered:
                return None
            answer = client._http.request("DELETE", "/memories", params={"user_id": "w-dead"})
            answered[0] = answer
            return "answered"

        with holder._coordinator.context.locks.everything():
            seen = served.on_each_worker(erase_once)
            answer = answered[0]
            assert answer.status_code == 202 and answer.json()["status"] == "queued", answer.text
            [dead] = [pid for pid, said in seen.items() if said == "answered"]
            os.kill(dead, signal.SIGKILL)
            # The supervisor restarts the worker; the replacement's recover() on open
            # meets the claim still held and leaves the erasure pending. Only once it
            # answers is the claim freed: then nothing but the takeover pass runs it.
            served.worker_pids = _replacement_workers(served, config["graph"], dead)
            _until_each_worker_answers(served)
        operation_id = answer.json()["operation_id"]
        deadline = time.monotonic() + 90
        with HybridMemClient(served.url) as client:
            while (record := client.operation(operation_id)) is None or record.state != "done":
                assert time.monotonic() < deadline, (record, served.log_tail())
                time.sleep(0.5)
            assert record.counts["memories"] == 12
            assert client.get_all(user_id="w-dead") == []
            assert [m.text for m in client.get_all(user_id="w-kept")] == ["kept"]
