"""Batches of adds into the embedded default, each commit followed by a full
checkpoint of the graph file, until the parent kills this process.

Usage: python -m tests.reliability.checkpoint_child DATA_DIR

Prints ``acked <json ids>`` once ``add_many`` has returned for a batch: from
then on those memories are acknowledged and must survive any kill.
"""

from __future__ import annotations

import json
import sys

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding


def main() -> None:
    with HybridStore({"data_dir": sys.argv[1]}) as store:
        # Every commit checkpoints: most of the wall time below is checkpointing,
        # so a kill at a random moment mostly lands inside one.
        store.graph._db.rows("CALL checkpoint_threshold=1")  # type: ignore[attr-defined]
        print("started", flush=True)
        for batch in range(10_000):
            added = store.add_many(
                [
                    {
                        "text": f"checkpointed {batch}-{i}",
                        "embedding": embedding(f"cp-{batch}-{i}"),
                        "user_id": f"user-{batch % 3}",
                        "entities": [
                            {"name": f"Entity{i % 7}", "type": "t"},
                            {"name": "Paris", "type": "city"},
                        ],
                        "relations": [
                            {"source": f"Entity{i % 7}", "target": "Paris", "type": "near"}
                        ],
                    }
                    for i in range(40)
                ],
                batch_size=20,
            )
            print("acked", json.dumps(added.ids), flush=True)


if __name__ == "__main__":
    main()
