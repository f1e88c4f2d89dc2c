"""Run one operation on a store in a child process (killed by the fault hook).

Usage: python -m tests.integration.crash_child CONFIG_JSON OPERATION_JSON
"""

from __future__ import annotations

import json
import sys

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding


def main() -> None:
    config = json.loads(sys.argv[1])
    operation = json.loads(sys.argv[2])
    with HybridStore({**config, "recover_on_open": False}) as store:
        kind = operation["kind"]
        if kind == "add":
            store.add(
                "crash add",
                embedding=embedding("crash"),
                user_id=operation["user_id"],
                entities=[{"name": "Crash", "type": "t"}, {"name": "Paris", "type": "city"}],
                relations=[{"source": "Crash", "target": "Paris", "type": "near"}],
            )
        elif kind == "update":
            store.update(operation["memory_id"], text="updated text")
        elif kind == "delete":
            store.delete(operation["memory_id"])
        elif kind == "delete_all":
            store.delete_all(user_id=operation["user_id"])
        elif kind == "reset":
            store.reset()
    print("finished without being killed")


if __name__ == "__main__":
    main()
