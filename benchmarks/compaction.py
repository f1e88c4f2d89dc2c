"""What a compaction costs: load N memories into the embedded default, erase a
tenth of them (delete_all of 10% of the users), then time ``store.compact()``.

    python benchmarks/compaction.py                       # 100k
    python benchmarks/compaction.py --memories 100000 1000000

Prints, per size: the load and compaction times, the compaction's rate, the
store's bytes (graph, vector and journal files with their WALs) before and
after, and how many of the erased user ids a byte grep finds in the files
before and after. Not a CI test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hybridmem import HybridStore
from hybridmem.compaction import store_bytes

DIMENSION = 64
BATCH = 2000
USERS = 1000
#: One user in this many is erased (a tenth of the memories).
ERASE_EVERY = 10


def _vector(i: int) -> list[float]:
    return [((i * 2654435761 + k * 40503) % 1000) / 1000.0 + 0.001 for k in range(DIMENSION)]


def items(total: int) -> Iterator[dict[str, Any]]:
    for i in range(total):
        user = f"bench-user-{i % USERS:04d}"
        yield {
            "text": f"memory {i} of {user}",
            "embedding": _vector(i),
            "user_id": user,
            "agent_id": f"agent-{i % 3}",
            "memory_id": str(uuid.UUID(int=i + 1)),
            "entities": [
                {"name": f"topic-{i % 50}", "type": "topic"},
                {"name": f"person-{i % 20}", "type": "person"},
            ],
            "relations": [
                {"source": f"person-{i % 20}", "target": f"topic-{i % 50}", "type": "talks_about"}
            ],
        }


def erased_users() -> list[str]:
    return [f"bench-user-{u:04d}" for u in range(0, USERS, ERASE_EVERY)]


def ids_found(data_dir: Path, values: list[str]) -> int:
    """How many of ``values`` some file under ``data_dir`` holds (a byte grep)."""
    found: set[str] = set()
    for path in data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found.update(v for v in values if v.encode() in data)
    return len(found)


def measure(total: int, root: Path) -> dict[str, Any]:
    data = root / f"n{total}"
    row: dict[str, Any] = {"memories": total}
    started = time.perf_counter()
    with HybridStore.embedded(data) as store:
        store.add_many(items(total), batch_size=BATCH)
        row["load_s"] = time.perf_counter() - started
        for user in erased_users():
            store.delete_all(user_id=user)
        row["live"] = store.stats()["vectors"]
    row["found_before"] = ids_found(data, erased_users())
    with HybridStore.embedded(data) as store:
        row["bytes_before"] = store_bytes(store)
        started = time.perf_counter()
        report = store.compact()
        row["compact_s"] = time.perf_counter() - started
        row["bytes_after"] = report.bytes_after
    row["found_after"] = ids_found(data, erased_users())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, nargs="+", default=[100_000])
    parser.add_argument("--dir", type=Path, default=None, help="Where the stores go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        rows = [measure(total, Path(tmp)) for total in args.memories]
    erased = len(erased_users())
    print(
        f"{'memories':>10}{'live':>10}{'load s':>9}{'compact s':>11}{'live/s':>9}"
        f"{'MB before':>11}{'MB after':>10}{'ids before':>12}{'ids after':>11}"
    )
    for r in rows:
        print(
            f"{r['memories']:>10,}{r['live']:>10,}{r['load_s']:>9.1f}{r['compact_s']:>11.1f}"
            f"{r['live'] / r['compact_s']:>9,.0f}{r['bytes_before'] / 2**20:>11.1f}"
            f"{r['bytes_after'] / 2**20:>10.1f}{r['found_before']:>8}/{erased}"
            f"{r['found_after']:>7}/{erased}"
        )


if __name__ == "__main__":
    main()
