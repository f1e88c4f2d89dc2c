"""One worker process of the shared-coordination tests, killed or left to finish.

Usage: python -m tests.shared.worker_child CONFIG_JSON OPERATION_JSON

``HYBRIDMEM_TEST_PAUSE_AT=point`` makes the worker print ``paused`` and sleep for
good the first time the coordinator reaches that point (the parent kills it);
``HYBRIDMEM_TEST_HOLD_AT=point`` makes it print ``held`` there and go on when a
line arrives on its stdin; ``HYBRIDMEM_FAULT_KILL_AT`` kills it there
(hybridmem.faults). It prints ``done`` when the operation returned, or
``failed <error class>`` when it raised a hybridmem error (exit status 1).
"""

from __future__ import annotations

import json
import os
import sys
import time

from hybridmem import HybridStore
from hybridmem.errors import HybridMemError
from hybridmem.faults import FaultHook, kill_hook_from_environment
from hybridmem.testing.builders import embedding


def _pause_hook() -> FaultHook:
    where = os.environ.get("HYBRIDMEM_TEST_PAUSE_AT")
    hold = os.environ.get("HYBRIDMEM_TEST_HOLD_AT")
    kill = kill_hook_from_environment()
    held = False

    def hook(point: str) -> None:
        nonlocal held
        if kill is not None:
            kill(point)
        if point == where:
            print("paused", flush=True)
            while True:
                time.sleep(60)
        if point == hold and not held:
            held = True
            print("held", flush=True)
            sys.stdin.readline()

    return hook


def main() -> None:
    try:
        run()
    except HybridMemError as exc:
        print(f"failed {type(exc).__name__}", flush=True)
        sys.exit(1)


def run() -> None:
    config = json.loads(sys.argv[1])
    operation = json.loads(sys.argv[2])
    user = operation["user_id"]
    with HybridStore({**config, "recover_on_open": False}, fault_hook=_pause_hook()) as store:
        print("started", flush=True)
        if operation["kind"] == "add_many":
            store.add_many(
                [
                    {
                        "text": f"{user} batch {i}",
                        "embedding": embedding(f"{user}-b{i}"),
                        "user_id": user,
                    }
                    for i in range(operation["count"])
                ],
                batch_size=operation["batch_size"],
            )
        elif operation["kind"] == "delete_all":
            store.delete_all(user_id=user, agent_id=operation.get("agent_id"))
        else:
            raise ValueError(operation["kind"])
        print("done", flush=True)


if __name__ == "__main__":
    main()
