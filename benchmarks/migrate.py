"""Migration speed: migrate a kuzu+kuzu store into neo4j+weaviate, copy and verify
timed apart, against the export of the same records (the floor: reading the
source alone, as migrate does) measured in the same run.

    set -a; . /tmp/srv/n.env; . /tmp/srv/w.env; set +a   # HYBRIDMEM_TEST_* servers
    python benchmarks/migrate.py                         # 10k memories
    python benchmarks/migrate.py --memories 1000 10000 --batch-size 1000

The source is filled with add_many (2 entities and 1 relation a memory, 64
dimensions, spread over 100 users). The destination is a fresh label prefix
and Weaviate collection on the servers named by the HYBRIDMEM_TEST_NEO4J_* and
HYBRIDMEM_TEST_WEAVIATE_* variables (or the options), removed afterwards. Peak
RSS is the process's so far after each step (it never goes down): a migrate
that held the store in memory would raise it.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hybridmem import HybridStore, Scope
from hybridmem.migration import migrate
from hybridmem.portability import write_export

DIMENSION = 64
USERS = 100


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _items(total: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(7)
    for i in range(total):
        user = f"user-{i % USERS}"
        topic, person = f"topic-{i % 50}", f"person-{i % 20}"
        yield {
            "text": f"memory {i} of {user}",
            "embedding": [rng.uniform(-1, 1) for _ in range(DIMENSION)],
            "user_id": user,
            "agent_id": f"agent-{i % 3}",
            "metadata": {"i": i},
            "entities": [{"name": topic, "type": "topic"}, {"name": person, "type": "person"}],
            "relations": [{"source": person, "target": topic, "type": "talks_about"}],
        }


def _destination(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {
        "data_dir": str(data_dir),
        "graph": {
            "provider": "neo4j",
            "uri": args.neo4j_uri,
            "user": args.neo4j_user,
            "password": args.neo4j_password,
            "label_prefix": f"BenchMigrate{tag}",
        },
        "vector": {
            "provider": "weaviate",
            "host": args.weaviate_host,
            "http_port": args.weaviate_http_port,
            "grpc_port": args.weaviate_grpc_port,
            "collection": f"BenchMigrate{tag}",
        },
    }


def run(total: int, args: argparse.Namespace) -> list[tuple[str, int, float, float]]:
    rows: list[tuple[str, int, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="hybridmem-migrate-") as tmp:
        destination_config = _destination(args, Path(tmp) / "destination")
        with HybridStore.embedded(Path(tmp) / "source") as source:
            started = time.perf_counter()
            source.add_many(_items(total), batch_size=args.batch_size)
            rows.append(
                (
                    "fill source (add_many, kuzu+kuzu)",
                    total,
                    time.perf_counter() - started,
                    _peak_mb(),
                )
            )
            with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
                started = time.perf_counter()
                counts = write_export(
                    source, out, Scope(), batch_size=args.batch_size, include_history=False
                )
                rows.append(
                    (
                        "export (floor)",
                        counts["memories"],
                        time.perf_counter() - started,
                        _peak_mb(),
                    )
                )
            with HybridStore(destination_config) as destination:
                try:
                    report = migrate(source, destination, Scope(), batch_size=args.batch_size)
                    if not report.verified:
                        raise SystemExit(f"migration not verified: {report}")
                    # Copy and verify run in one call: the peak after it covers both.
                    peak = _peak_mb()
                    rows.append(("migrate: copy", report.copied, report.copy_seconds, peak))
                    rows.append(("migrate: verify", report.checked, report.verify_seconds, peak))
                    again = migrate(source, destination, Scope(), batch_size=args.batch_size)
                    rows.append(
                        (
                            "migrate again (all unchanged)",
                            again.already_present,
                            again.copy_seconds,
                            _peak_mb(),
                        )
                    )
                finally:
                    destination.reset()
                    drop = getattr(destination.vector, "drop", None)
                    if drop is not None:
                        drop()
    return rows


def _print(total: int, rows: list[tuple[str, int, float, float]]) -> None:
    floor = next(count / seconds for label, count, seconds, _ in rows if label == "export (floor)")
    print(f"\n{total:,} memories, {DIMENSION} dims, kuzu+kuzu -> neo4j+weaviate")
    print(
        f"{'step':<34} {'memories':>9} {'seconds':>8} {'memories/s':>11} {'x export':>9}"
        f" {'peak RSS MB':>12}"
    )
    for label, count, seconds, peak in rows:
        rate = count / seconds if seconds else float("inf")
        print(
            f"{label:<34} {count:>9,} {seconds:>8.1f} {rate:>11,.0f} {rate / floor:>9.2f}"
            f" {peak:>12.0f}",
            flush=True,
        )


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, nargs="+", default=[10_000])
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--neo4j-uri", default=env("HYBRIDMEM_TEST_NEO4J_URI", "bolt://127.0.0.1:7687")
    )
    parser.add_argument("--neo4j-user", default=env("HYBRIDMEM_TEST_NEO4J_USER", "neo4j"))
    parser.add_argument("--neo4j-password", default=env("HYBRIDMEM_TEST_NEO4J_PASSWORD", ""))
    parser.add_argument("--weaviate-host", default=env("HYBRIDMEM_TEST_WEAVIATE_HOST", "127.0.0.1"))
    parser.add_argument(
        "--weaviate-http-port",
        type=int,
        default=int(env("HYBRIDMEM_TEST_WEAVIATE_HTTP_PORT", "8080")),
    )
    parser.add_argument(
        "--weaviate-grpc-port",
        type=int,
        default=int(env("HYBRIDMEM_TEST_WEAVIATE_GRPC_PORT", "50051")),
    )
    args = parser.parse_args()
    for total in args.memories:
        _print(total, run(total, args))


if __name__ == "__main__":
    main()
