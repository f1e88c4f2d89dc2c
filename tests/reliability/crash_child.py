"""One operation in a child process that the parent kills with SIGKILL.

Usage: python -m tests.reliability.crash_child CONFIG_JSON OPERATION_JSON

The kill comes from ``HYBRIDMEM_FAULT_KILL_AT=point[:n]`` (the coordinator's
fault hook kills this process the n-th time it reaches that point), or from the
parent at a random moment after this process prints ``progress`` (once per
delete_all progress report, once per add of ``adds``): so the kill lands inside
the operation, not before it started or after it finished.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding


def run(store: HybridStore, operation: dict[str, Any]) -> None:
    kind = operation["kind"]
    if kind == "add":
        store.add(
            "crash add",
            embedding=embedding("crash"),
            user_id=operation["user_id"],
            entities=[{"name": "Crash", "type": "t"}, {"name": "Paris", "type": "city"}],
            relations=[{"source": "Crash", "target": "Paris", "type": "near"}],
        )
    elif kind == "add_many":
        store.add_many(
            [
                {
                    "text": f"batch add {i}",
                    "embedding": embedding(f"batch-{i}"),
                    "user_id": operation["user_id"],
                    "entities": [{"name": "Paris", "type": "city"}],
                    "relations": [{"source": f"Batch{i}", "target": "Paris", "type": "near"}],
                }
                for i in range(operation.get("count", 4))
            ],
            batch_size=operation.get("batch_size", 2),
        )
    elif kind == "adds":
        for i in range(operation["count"]):
            store.add(
                f"bulk add {i}",
                embedding=embedding(f"bulk-{i}"),
                user_id=operation["user_id"],
                entities=[{"name": f"Bulk{i % 3}", "type": "t"}, {"name": "Paris", "type": "city"}],
            )
            print("progress", flush=True)
    elif kind == "update":
        store.update(operation["memory_id"], text="updated text")
    elif kind == "delete":
        store.delete(operation["memory_id"])
    elif kind == "delete_all":
        store.delete_all(
            user_id=operation["user_id"], progress=lambda _: print("progress", flush=True)
        )
    elif kind == "reset":
        store.reset()
    elif kind == "reconcile":
        store.reconcile(fix=True)
    elif kind == "purge_expired":
        store.purge_expired()
    elif kind == "recover":
        store.recover()
    else:
        raise ValueError(f"unknown operation {kind!r}")


def main() -> None:
    config = json.loads(sys.argv[1])
    operation = json.loads(sys.argv[2])
    with HybridStore({**config, "recover_on_open": False}) as store:
        print("started", flush=True)
        run(store, operation)
    print("finished without being killed", flush=True)


if __name__ == "__main__":
    main()
