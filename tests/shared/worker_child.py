"""One worker process of the shared-coordination tests, killed or left to finish.

Usage: python -m tests.shared.worker_child CONFIG_JSON OPERATION_JSON

``HYBRIDMEM_TEST_PAUSE_AT=point`` makes the worker print ``paused`` and sleep for
good the first time the coordinator reaches that point (the parent kills it);
``HYBRIDMEM_FAULT_KILL_AT`` kills it there (hybridmem.faults). It prints ``done``
when the operation returned.
"""

from __future__ import annotations

import json
import os
import sys
import time

from hybridmem import HybridStore
from hybridmem.faults import kill_hook_from_environment
from hybridmem.testing.builders import embedding


def _pause_hook() -> object:
    where = os.environ.get("HYBRIDMEM_TEST_PAUSE_AT")
    kill = kill_hook_from_environment()

    def hook(point: str) -> None:
        if kill is not None:
            kill(point)
        if point == where:
            print("paused", flush=True)
            while True:
                time.sleep(60)

    return hook


def main() -> None:
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
            store.delete_all(user_id=user)
        else:
            raise ValueError(operation["kind"])
        print("done", flush=True)


if __name__ == "__main__":
    main()
