"""Search latency against scope size, next to the numpy floor, with recall@10.

    python benchmarks/search_scope.py                      # 200k memories; scopes 100..100k
    python benchmarks/search_scope.py --total 30000 --scopes 100 1000 10000 --dimension 64
    python benchmarks/search_scope.py --pairs kuzu+kuzu,kuzu+weaviate   # server pairs need
        HYBRIDMEM_TEST_WEAVIATE_HOST (+ _HTTP_PORT, _GRPC_PORT) / HYBRIDMEM_TEST_NEO4J_URI

One store holds ``--total`` memories: one scope (user) per requested size, the
rest spread over small filler users. Vectors are random unit vectors written
through the vector port in bulk. For each scope size, ``--queries`` searches
(limit 10) are timed through ``HybridStore.search`` and compared with the
numpy floor: an exact cosine top-10 over a matrix holding only that scope's
vectors. recall@10 is the overlap of the two top-10s. "first" is the scope's
first search, which on Kuzu reads the scope into the search cache. Then, on
the embedded pair, ``hybridmem serve`` runs over the same files and 16 client
threads search the smallest and the largest scope through REST for
``--rest-seconds`` each: searches/s and p50/p99. Numbers depend on the
machine: compare ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hybridmem import HybridStore
from hybridmem.records import VectorRecord, text_hash

BULK = 2000


def _config(pair: str, data_dir: Path) -> dict[str, Any]:
    graph_name, vector_name = pair.split("+")
    config: dict[str, Any] = {"data_dir": str(data_dir), "graph": {"provider": "kuzu"}}
    # Kuzu's default 256 MB page cache cannot commit a batch into a 200k-record file.
    config["vector"] = {"provider": "kuzu", "buffer_pool_mb": 1024}
    if vector_name == "weaviate":
        host = os.environ["HYBRIDMEM_TEST_WEAVIATE_HOST"]
        config["vector"] = {
            "provider": "weaviate",
            "host": host,
            "http_port": int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HTTP_PORT", "8080")),
            "grpc_port": int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_GRPC_PORT", "50051")),
            "collection": f"Bench{uuid.uuid4().hex[:8]}",
        }
    if graph_name == "neo4j":
        config["graph"] = {
            "provider": "neo4j",
            "uri": os.environ["HYBRIDMEM_TEST_NEO4J_URI"],
            "user": os.environ.get("HYBRIDMEM_TEST_NEO4J_USER", "neo4j"),
            "password": os.environ.get("HYBRIDMEM_TEST_NEO4J_PASSWORD", "password"),
        }
    return config


def _fill(store: HybridStore, users: dict[str, int], dimension: int, rng: Any) -> dict[str, Any]:
    """Writes every user's vectors; returns each measured user's (ids, matrix)."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    kept: dict[str, Any] = {}
    for user, size in users.items():
        matrix = rng.standard_normal((size, dimension)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        ids = [str(uuid.uuid4()) for _ in range(size)]
        for start in range(0, size, BULK):
            stamp = base + timedelta(seconds=start)
            store.vector.upsert(
                [
                    VectorRecord(
                        id=ids[i],
                        embedding=matrix[i].tolist(),
                        text=f"memory {i} of {user}",
                        hash=text_hash(f"memory {i} of {user}"),
                        user_id=user,
                        agent_id=None,
                        run_id=None,
                        created_at=stamp,
                        updated_at=stamp,
                        metadata={"i": i},
                    )
                    for i in range(start, min(size, start + BULK))
                ]
            )
        if not user.startswith("filler"):
            kept[user] = (ids, matrix)
    return kept


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _measure(store: HybridStore, kept: dict[str, Any], queries: int, rng: Any) -> None:
    print(
        f"{'scope':>8} {'first ms':>9} {'p50 ms':>9} {'p95 ms':>9} {'numpy ms':>9}"
        f" {'ratio':>7} {'recall@10':>9}"
    )
    for user, (ids, matrix) in kept.items():
        timings, floors, recalls = [], [], []
        # The first search of a scope reads it into the Kuzu store's search cache.
        q = rng.standard_normal(matrix.shape[1]).astype(np.float32)
        start = time.perf_counter()
        store.search(q.tolist(), user_id=user, limit=10)
        first = time.perf_counter() - start
        for _ in range(queries):
            q = rng.standard_normal(matrix.shape[1]).astype(np.float32)
            q /= np.linalg.norm(q)
            start = time.perf_counter()
            hits = store.search(q.tolist(), user_id=user, limit=10)
            timings.append(time.perf_counter() - start)
            start = time.perf_counter()
            scores = matrix @ q
            top = np.argpartition(-scores, min(10, len(ids) - 1))[:10]
            floors.append(time.perf_counter() - start)
            exact = {ids[i] for i in top}
            recalls.append(len(exact & {h.memory.id for h in hits}) / len(exact))
        p50, floor = statistics.median(timings) * 1000, statistics.median(floors) * 1000
        print(
            f"{len(ids):>8} {first * 1000:>9.1f} {p50:>9.2f}"
            f" {_percentile(timings, 0.95) * 1000:>9.2f}"
            f" {floor:>9.3f} {p50 / floor:>6.0f}x {statistics.mean(recalls):>9.3f}"
        )


def _rest(data_dir: Path, user: str, dimension: int, seconds: float, clients: int) -> None:
    import httpx

    config = data_dir.parent / "bench.toml"
    config.write_text(f'data_dir = "{data_dir}"\n[embedder]\nprovider = "hashing"\n')
    port_probe = __import__("socket").socket()
    port_probe.bind(("127.0.0.1", 0))
    port = port_probe.getsockname()[1]
    port_probe.close()
    exe = Path(sys.executable).with_name("hybridmem")
    process = subprocess.Popen(
        [str(exe), "serve", "--config", str(config), "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        # The server's first search of a scope reads it into its own search cache:
        # timed apart, so the window measures searches an agent's turns would see.
        q = np.random.default_rng(0).standard_normal(dimension)
        started = time.perf_counter()
        body = {"embedding": (q / np.linalg.norm(q)).tolist(), "user_id": user}
        httpx.post(f"{url}/search", json=body, timeout=600).raise_for_status()
        warm = time.perf_counter() - started
        latencies: list[float] = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def worker(seed: int) -> None:
            rng = np.random.default_rng(seed)
            mine = []
            with httpx.Client(base_url=url, timeout=30) as client:
                while time.monotonic() < stop:
                    q = rng.standard_normal(dimension)
                    body = {"embedding": (q / np.linalg.norm(q)).tolist(), "user_id": user}
                    start = time.perf_counter()
                    client.post("/search", json=body).raise_for_status()
                    mine.append(time.perf_counter() - start)
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
        print(
            f"REST /search, scope {user} (first search {warm * 1000:.0f} ms),"
            f" {clients} clients, {elapsed:.1f} s:"
            f" {len(latencies) / elapsed:.1f} searches/s,"
            f" p50 {statistics.median(latencies) * 1000:.1f} ms,"
            f" p99 {_percentile(latencies, 0.99) * 1000:.1f} ms"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total", type=int, default=200_000)
    parser.add_argument("--scopes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000])
    parser.add_argument("--dimension", type=int, default=256)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--pairs", default="kuzu+kuzu")
    parser.add_argument("--rest-seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    measured = sum(args.scopes)
    if measured > args.total:
        parser.error("--total must be at least the sum of --scopes")
    users = {f"scope{size}": size for size in args.scopes}
    filler, left = 0, args.total - measured
    while left > 0:
        users[f"filler{filler}"] = min(1000, left)
        left -= users[f"filler{filler}"]
        filler += 1
    for pair in args.pairs.split(","):
        with tempfile.TemporaryDirectory(prefix="search-scope-") as tmp:
            data_dir = Path(tmp) / "data"
            print(f"== {pair}: {args.total} memories, {args.dimension} dimensions")
            with HybridStore(_config(pair, data_dir), embedder=None) as store:
                start = time.perf_counter()
                kept = _fill(store, users, args.dimension, rng)
                print(f"filled in {time.perf_counter() - start:.1f} s")
                _measure(store, kept, args.queries, rng)
                if pair != "kuzu+kuzu":
                    reset = getattr(store.vector, "drop", None)
                    if reset is not None:
                        reset()
            if pair == "kuzu+kuzu" and args.rest_seconds > 0:
                for size in sorted({min(args.scopes), max(args.scopes)}):
                    _rest(data_dir, f"scope{size}", args.dimension, args.rest_seconds, args.clients)


if __name__ == "__main__":
    main()
