"""Which engine runs the embedded vector role: SQLite or LadybugDB, side by side
in one run, on the same records (issue 24).

    python benchmarks/vector_roles.py                      # 100k memories
    python benchmarks/vector_roles.py --memories 1000000

Both stores are loaded through the VectorStore port (``upsert(fresh=True)``,
batches of 2,000, dimension 64). The layout, at N memories:
- a 100k scope: user ``u-big``, every (N / 100k)-th record;
- a 1k scope: agent ``a1k``, every (N / 1k)-th record, spread over the load;
- a 10k scope: agent ``agent-ERASED10K``, every (N / 10k)-th record, whose texts
  and metadata carry ``ERASEDTEXT`` / ``ERASEDMETA``; it is deleted with
  ``delete_scope`` (batches of 1,000, the core's default);
- the other records: users of 1,000 each.

Per store: load rate; search p50 (top 10) at the 1k and 100k scopes, cold (the
first search after opening the file, 3 opens) and warm (50 queries), the two
stores' queries interleaved so that the machine's load falls on both; the 10k
scope delete; bytes per memory (the file and its sidecars, closed); and how many
copies of the erased texts, metadata values and agent id a byte grep finds in
the files after the delete returns and after the store's cleanup step (the
compaction's rewrite: a blank twin, the live records copied, swapped in). Not a
CI test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hybridmem.models import Scope
from hybridmem.records import VectorRecord

DIMENSION = 64
BATCH = 2000
STAMP = datetime(2026, 12, 5, tzinfo=UTC)
ERASED_AGENT = "agent-ERASED10K"
MARKERS = (b"ERASEDTEXT", b"ERASEDMETA", ERASED_AGENT.encode())
BIG, SMALL, ERASED = Scope(user_id="u-big"), Scope(agent_id="a1k"), Scope(agent_id=ERASED_AGENT)


def batch(start: int, stop: int, total: int, rng: np.random.Generator) -> list[VectorRecord]:
    big, small, erased = total // 100_000, total // 1_000, total // 10_000
    vectors = rng.standard_normal((stop - start, DIMENSION), dtype=np.float32)
    out = []
    for i in range(start, stop):
        user = "u-big" if i % big == 0 else f"u{(i // big) % max(1, total // 1000)}"
        agent = "a1k" if i % small == 1 else ERASED_AGENT if i % erased == 3 else None
        gone = agent == ERASED_AGENT
        out.append(
            VectorRecord(
                f"{i:08d}-0000-4000-8000-000000000000",
                vectors[i - start].tolist(),
                f"ERASEDTEXT {i} a memory" if gone else f"text of memory {i}",
                "h",
                user,
                agent,
                None,
                STAMP,
                STAMP,
                {"note": f"ERASEDMETA {i}" if gone else f"kept {i}"},
            )
        )
    return out


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def grep(path: Path) -> dict[str, int]:
    found = {m.decode(): 0 for m in MARKERS}
    for part in path.parent.glob(path.name + "*"):
        if part.is_file():
            data = part.read_bytes()
            for marker in MARKERS:
                found[marker.decode()] += data.count(marker)
    return found


def p50_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def load(name: str, open_store: Callable[[], Any], path: Path, total: int) -> dict[str, Any]:
    row: dict[str, Any] = {"store": name}
    rng = np.random.default_rng(7)
    store = open_store()
    started = time.perf_counter()
    for start in range(0, total, BATCH):
        store.upsert(batch(start, min(total, start + BATCH), total, rng), fresh=True)
    row["load/s"] = round(total / (time.perf_counter() - started))
    store.close()
    row["bytes/memory"] = round(file_bytes(path) / total)
    return row


def searches(candidates: list[tuple[dict[str, Any], Callable[[], Any]]]) -> None:
    """Both stores' searches interleaved query by query, so a change in the machine's
    load falls on both alike."""
    queries = np.random.default_rng(11).standard_normal((50, DIMENSION)).tolist()
    for label, scope in (("1k", SMALL), ("100k", BIG)):
        cold: list[list[float]] = [[] for _ in candidates]
        warm: list[list[float]] = [[] for _ in candidates]
        stores: list[Any] = [None for _ in candidates]
        for q in queries[:3]:
            for k, (_, opener) in enumerate(candidates):
                if stores[k] is not None:
                    stores[k].close()
                stores[k] = opener()
                started = time.perf_counter()
                assert len(stores[k].search(q, scope, 10)) == 10
                cold[k].append(time.perf_counter() - started)
        for q in queries:
            for k in range(len(candidates)):
                started = time.perf_counter()
                stores[k].search(q, scope, 10)
                warm[k].append(time.perf_counter() - started)
        for k, (row, _) in enumerate(candidates):
            stores[k].close()
            row[f"{label} cold ms"], row[f"{label} warm ms"] = p50_ms(cold[k]), p50_ms(warm[k])


def erase(
    row: dict[str, Any], open_store: Callable[[], Any], path: Path, total: int, rewrite: bool
) -> None:
    store = open_store()
    store.search([1.0] * DIMENSION, ERASED, 10)  # the scope is cached, as a searched one is
    row["found before"] = grep(path)
    started = time.perf_counter()
    deleted = store.delete_scope(ERASED, 1000)
    row["delete 10k s"] = round(time.perf_counter() - started, 2)
    assert deleted == 10_000, deleted
    row["left after delete"] = grep(path)
    store.close()
    row["left after delete+close"] = grep(path)
    if not rewrite:
        return
    store = open_store()
    started = time.perf_counter()
    twin_path = path.with_name(path.name + ".compacting")
    store.checkpoint_file()
    twin = store.blank_twin(twin_path)
    for ids in store.iter_ids(1000):
        twin.upsert(store.get(ids), fresh=True)
    twin.close()
    store.swap_in(twin_path)
    row["rewrite s"] = round(time.perf_counter() - started, 1)
    store.close()
    row["left after rewrite"] = grep(path)
    row["bytes/memory after"] = round(file_bytes(path) / (total - deleted))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "ladybug"], default=None)
    parser.add_argument(
        "--skip-rewrite", action="store_true", help="no compaction rewrite (it is slow at 1M)"
    )
    args = parser.parse_args()
    total = args.memories
    if total % 100_000:
        parser.error("--memories must be a multiple of 100,000")
    from hybridmem_kuzu import KuzuVectorStore
    from hybridmem_sqlite import SQLiteVectorStore

    print(f"{total:,} memories, dim {DIMENSION}, load avg {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="vector-roles-") as tmp:
        sqlite_path = Path(tmp) / "sqlite" / "vectors.sqlite3"
        lbug_path = Path(tmp) / "ladybug" / "vectors.kuzu"
        lbug_path.parent.mkdir()
        candidates = [
            ("sqlite", lambda: SQLiteVectorStore(sqlite_path), sqlite_path),
            ("ladybug", lambda: KuzuVectorStore(lbug_path, engine="ladybug"), lbug_path),
        ]
        chosen = [c for c in candidates if args.only in (None, c[0])]
        for name, opener, path in chosen:
            rows.append(load(name, opener, path, total))
            print(rows[-1], f"load avg {os.getloadavg()[0]:.1f}", flush=True)
        searches([(row, opener) for row, (_, opener, _) in zip(rows, chosen, strict=True)])
        print(rows, f"searched; load avg {os.getloadavg()[0]:.1f}", flush=True)
        for row, (_, opener, path) in zip(rows, chosen, strict=True):
            erase(row, opener, path, total, not args.skip_rewrite)
            print(row, f"load avg {os.getloadavg()[0]:.1f}", flush=True)
    print(f"load avg at the end {os.getloadavg()[0]:.1f}")
    keys = [k for k in rows[0] if k != "store"]
    print("| | " + " | ".join(r["store"] for r in rows) + " |")
    print("| --- |" + " --- |" * len(rows))
    for key in keys:
        print(f"| {key} | " + " | ".join(str(r.get(key, "")) for r in rows) + " |")


if __name__ == "__main__":
    main()
