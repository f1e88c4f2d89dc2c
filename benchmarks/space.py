"""Does disk space come back after erasures on the server pair? Measured in one run.

    python benchmarks/space.py                      # 50k memories, 330 s for Weaviate
    python benchmarks/space.py --memories 20000 --wait 60

It starts a Neo4j and a Weaviate server of its own (the test launchers, in a
temporary directory: a server other stores share would measure them too), and
measures on neo4j+weaviate, in this order, the disk use of Neo4j's store files,
Neo4j's transaction logs and Weaviate's data directory:

1. **loaded**: ``add_many`` of ``--memories`` memories (2 entities, 1 relation
   each) over 100 users, then Neo4j restarted (its store files hold the writes
   once a checkpoint has run);
2. **erased**: ``delete_all`` of half the users;
3. **Neo4j restarted**: a clean shutdown checkpoints, after which Neo4j prunes
   the transaction logs its retention policy no longer keeps
   (``db.tx_log.rotation.retention_policy``; the test launcher sets ``1 files``,
   Neo4j's default is ``2 days``). Community Edition has no
   ``db.checkpoint()``: otherwise it checkpoints every 15 minutes or 100,000
   transactions (``db.checkpoint.interval.time`` / ``.tx``);
4. **after --wait s**: Weaviate's background work (LSM compaction of the deleted
   objects' segments, HNSW tombstone cleanup every ``cleanupIntervalSeconds``,
   300 s by default) given time to run;
5. **reloaded**: the erased half added again (then Neo4j restarted): the
   growth of each part against the first load shows whether freed space is
   reused.

Bytes per live memory are printed beside each size. Sizes are the blocks the files take
on disk (as ``du``), so a preallocated log file counts what it allocated.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import items

from hybridmem import HybridStore
from hybridmem_neo4j import native_server as neo4j_server
from hybridmem_weaviate import native_server as weaviate_server

USERS = 100
BATCH = 2000


def allocated(path: Path) -> int:
    """Bytes the files under ``path`` take on disk (their blocks, as ``du``): a
    preallocated log file counts what it has allocated, a sparse one less."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file())


def sizes(neo4j_data: Path, weaviate_data: Path) -> dict[str, int]:
    return {
        "neo4j store": allocated(neo4j_data / "databases"),
        "neo4j tx logs": allocated(neo4j_data / "transactions"),
        "weaviate": allocated(weaviate_data),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=50_000)
    parser.add_argument(
        "--wait", type=float, default=330.0, help="seconds for Weaviate's cleanup (300 s cycle)"
    )
    args = parser.parse_args()
    owners = [f"user-{i % USERS}" for i in range(args.memories)]
    erased_users = {f"user-{u}" for u in range(USERS // 2)}
    erased = [i for i, user in enumerate(owners) if user in erased_users]
    rows: list[tuple[str, dict[str, int], int]] = []

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        neo4j = neo4j_server.start(root / "neo4j")
        weaviate = weaviate_server.start(root / "weaviate")
        neo4j_data, weaviate_data = root / "neo4j" / "data", root / "weaviate"

        def note(stage: str, live: int) -> None:
            measured = sizes(neo4j_data, weaviate_data)
            rows.append((stage, measured, live))
            shown = ", ".join(f"{k} {v / 2**20:,.1f} MB" for k, v in measured.items())
            print(f"{stage}: {shown} ({live:,} live)", flush=True)

        config = {
            "data_dir": str(root / "data"),
            "graph": {
                "provider": "neo4j",
                "uri": neo4j.uri,
                "user": "neo4j",
                "password": neo4j.password,
            },
            "vector": {
                "provider": "weaviate",
                "host": weaviate.host,
                "http_port": weaviate.http_port,
                "grpc_port": weaviate.grpc_port,
                "collection": "BenchSpace",
            },
        }
        try:
            note("empty", 0)
            with HybridStore(config) as store:
                store.add_many(items(owners), batch_size=BATCH)
            # Neo4j's store files hold the writes only once a checkpoint has run.
            neo4j.restart()
            note("loaded, Neo4j restarted", args.memories)
            with HybridStore(config) as store:
                for user in sorted(erased_users):
                    store.delete_all(user_id=user)
            live = args.memories - len(erased)
            note("erased", live)
            neo4j.restart()
            note("Neo4j restarted", live)
            time.sleep(args.wait)
            note(f"after {args.wait:.0f} s", live)
            with HybridStore(config) as store:
                again = [owners[i] for i in erased]
                store.add_many(items(again, args.memories), batch_size=BATCH)
            neo4j.restart()
            note("reloaded, Neo4j restarted", args.memories)
        finally:
            neo4j.stop()
            weaviate.stop()
    report(rows)


def report(rows: list[tuple[str, dict[str, int], int]]) -> None:
    parts = list(rows[0][1])
    head = f"{'stage':<26}" + "".join(f"{p + ' MB':>16}{'B/mem':>9}" for p in parts)
    print("\n" + head + "\n" + "-" * len(head))
    for stage, measured, live in rows:
        cells = "".join(
            f"{measured[p] / 2**20:>16,.1f}"
            + (f"{measured[p] / live:>9,.0f}" if live else f"{'-':>9}")
            for p in parts
        )
        print(f"{stage:<26}{cells}")
    base, loaded, reloaded = rows[0][1], rows[1][1], rows[-1][1]
    print("\ngrowth of the reload (the erased half again) against the first load's:")
    for p in parts:
        first = loaded[p] - base[p]
        second = reloaded[p] - rows[-2][1][p]
        ratio = second / first if first else float("nan")
        print(f"  {p}: {second / 2**20:,.1f} MB against {first / 2**20:,.1f} MB ({ratio:.2f})")


if __name__ == "__main__":
    main()
