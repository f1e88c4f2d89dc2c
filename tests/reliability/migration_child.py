"""A migration in a child process that the parent kills with SIGKILL.

Usage: python -m tests.reliability.migration_child SOURCE_CONFIG_JSON DESTINATION_CONFIG_JSON BATCH

The kill comes from ``HYBRIDMEM_FAULT_KILL_AT=point[:n]``: the destination's
coordinator kills this process the n-th time one of its add_many batches
reaches that point (the source is only read, so it reaches none).
"""

from __future__ import annotations

import json
import sys

from hybridmem import HybridStore, Scope
from hybridmem.migration import migrate


def main() -> None:
    source_config, destination_config = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    with HybridStore(source_config) as source, HybridStore(destination_config) as destination:
        print("started", flush=True)
        migrate(source, destination, Scope(), batch_size=int(sys.argv[3]))
    print("finished without being killed", flush=True)


if __name__ == "__main__":
    main()
