"""``store.compact()`` in a child process that the fault hook kills with SIGKILL.

Usage: HYBRIDMEM_FAULT_KILL_AT=point[:n] python -m tests.integration.compaction_child CONFIG_JSON
"""

from __future__ import annotations

import json
import sys

from hybridmem import HybridStore


def main() -> None:
    with HybridStore({**json.loads(sys.argv[1]), "recover_on_open": False}) as store:
        print("started", flush=True)
        store.compact()
        print("compacted", flush=True)


if __name__ == "__main__":
    main()
