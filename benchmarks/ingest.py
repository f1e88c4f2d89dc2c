"""Ingest on the server pair (Neo4j + Weaviate): where add_many's time goes, and
which Weaviate settings buy speed without losing recall. One run, one table.

    python benchmarks/ingest.py                          # add_many to 120k, sweeps on 20k
    python benchmarks/ingest.py --memories 30000 --sample 10000     # a quick look
    python benchmarks/ingest.py --skip-sweep              # add_many and search only

Rows, all measured in this run on the same servers:

* **raw insert**: ``insert_many`` of prepared Weaviate objects (the adapter's
  schema, no journal, no graph) of ``--sample`` vectors into a fresh collection,
  per request size x concurrent requests, at the adapter's HNSW defaults. The
  fastest row is the floor the adapter's upsert is compared with.
* **HNSW**: the same raw insert at each (efConstruction, maxConnections), with
  recall@10 of 200 unfiltered searches against the exact cosine ranking (numpy),
  on random (normal) and clustered (100 Gaussian clusters) vectors.
* **add_many**: the hybrid store's ``add_many`` (caller ids, 2 entities and
  1 relation each, batches of 1,000) with the adapter's defaults, over its first
  ``--compare`` memories and over all ``--memories``; the settings the adapter
  had before (HNSW 128/32, Weaviate's own, one request per batch) over
  ``--compare`` memories, each into a fresh store; and the raw ``insert_many``
  floor of as many vectors at both HNSW settings.
* **search**: p50 of ``store.search`` in a 1k scope and in a 100k scope (when the
  load has one) of the loaded store, beside the raw ``near_vector`` (same filter,
  with and without vectors and properties): what gRPC, the filter and the
  hydration of records cost.

Servers: those named by HYBRIDMEM_TEST_NEO4J_URI / HYBRIDMEM_TEST_WEAVIATE_*, or
else native ones started here (compose/*_native.py) and stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "compose"))

from hybridmem import HybridStore  # noqa: E402
from hybridmem.models import Scope  # noqa: E402
from hybridmem.records import VectorRecord  # noqa: E402
from hybridmem_weaviate import WeaviateOptions  # noqa: E402
from hybridmem_weaviate.vector import WeaviateVectorStore  # noqa: E402

DIMENSION = 64
QUERIES = 200
SEARCHES = 200
CLUSTERS = 100
#: (request size, concurrent requests) of the raw insert rows.
SHAPES = [(200, 1), (1000, 1), (2000, 1), (500, 2), (1000, 2), (250, 4)]
#: (efConstruction, maxConnections); (128, 32) are Weaviate's own defaults.
HNSW = [(128, 32), (64, 32), (64, 16), (32, 16), (64, 8)]
OLD = {
    "ef_construction": 128,
    "max_connections": 32,
    "insert_batch": 100_000,
    "insert_concurrency": 1,
}
BIG_SCOPE = 100_000
SMALL_SCOPE = 1000


def vectors(kind: str, count: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.normal(size=(count, dim)).astype(np.float32)
    centers = np.random.default_rng(7).normal(size=(CLUSTERS, dim))
    picked = centers[rng.integers(0, CLUSTERS, count)]
    return (picked + 0.5 * rng.normal(size=(count, dim))).astype(np.float32)


def exact_top10(data: np.ndarray, queries: np.ndarray) -> np.ndarray:
    d = data / np.linalg.norm(data, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    return np.argsort(-(q @ d.T), axis=1)[:, :10]


# -- servers ---------------------------------------------------------------------


def servers(stack: ExitStack, scratch: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(graph section, vector section without collection): the env's servers, or
    native ones started here."""
    if os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HOST"):
        vector = {
            "provider": "weaviate",
            "host": os.environ["HYBRIDMEM_TEST_WEAVIATE_HOST"],
            "http_port": int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HTTP_PORT", "8080")),
            "grpc_port": int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_GRPC_PORT", "50051")),
        }
    else:
        import weaviate_native

        w = weaviate_native.start(scratch / "weaviate")
        stack.callback(w.stop)
        vector = {
            "provider": "weaviate",
            "host": w.host,
            "http_port": w.http_port,
            "grpc_port": w.grpc_port,
        }
    if os.environ.get("HYBRIDMEM_TEST_NEO4J_URI"):
        graph = {
            "provider": "neo4j",
            "uri": os.environ["HYBRIDMEM_TEST_NEO4J_URI"],
            "user": os.environ.get("HYBRIDMEM_TEST_NEO4J_USER", "neo4j"),
            "password": os.environ.get("HYBRIDMEM_TEST_NEO4J_PASSWORD", "hybridmem-test"),
        }
    else:
        import neo4j_native

        n = neo4j_native.start(scratch / "neo4j", heap="1g", pagecache="512m")
        stack.callback(n.stop)
        graph = {"provider": "neo4j", "uri": n.uri, "user": "neo4j", "password": n.password}
    return graph, vector


def vector_store(section: dict[str, Any], collection: str, **options: Any) -> WeaviateVectorStore:
    fields = {k: v for k, v in section.items() if k != "provider"}
    opts = WeaviateOptions(**{**fields, "collection": collection, **options})
    keep = opts.model_dump(
        exclude={"api_key", "multi_tenancy", "host", "http_port", "grpc_port", "collection"}
    )
    return WeaviateVectorStore(opts.host, opts.http_port, opts.grpc_port, collection, **keep)


# -- raw inserts -------------------------------------------------------------------


def records(data: np.ndarray, user: str = "u") -> list[VectorRecord]:
    stamp = datetime.now(UTC)
    return [
        VectorRecord.new(
            str(uuid.UUID(int=i + 1)), f"memory {i}", row.tolist(), Scope(user_id=user), stamp, {}
        )
        for i, row in enumerate(data)
    ]


def raw_insert(
    store: WeaviateVectorStore, objects: Sequence[Any], size: int, workers: int
) -> float:
    """Objects per second of insert_many in ``size`` requests, ``workers`` at once."""
    coll = store._handle()
    parts = [list(objects[at : at + size]) for at in range(0, len(objects), size)]

    def send(part: list[Any]) -> None:
        if coll.data.insert_many(part).errors:
            raise SystemExit("raw insert failed")

    started = time.perf_counter()
    if workers == 1:
        for part in parts:
            send(part)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(send, parts))
    return len(objects) / (time.perf_counter() - started)


def recall(
    store: WeaviateVectorStore, data: np.ndarray, queries: np.ndarray
) -> tuple[float, float]:
    """(recall@10 against the exact ranking, search p50 ms), unfiltered."""
    truth = exact_top10(data, queries)
    coll = store._handle()
    hits, times = 0, []
    for query, true in zip(queries, truth, strict=True):
        started = time.perf_counter()
        found = coll.query.near_vector(near_vector=query.tolist(), limit=10)
        times.append(time.perf_counter() - started)
        hits += len({o.uuid.int - 1 for o in found.objects} & set(true.tolist()))
    return hits / (10 * len(queries)), statistics.median(times) * 1000


def sweep(section: dict[str, Any], sample: int, dim: int, defaults: dict[str, Any]) -> None:
    data = vectors("clustered", sample, dim, 1)
    recs = records(data)
    print(
        f"\n## raw Weaviate insert_many, {sample:,} vectors of {dim} (clustered), HNSW"
        f" {defaults['ef_construction']}/{defaults['max_connections']}",
        flush=True,
    )
    print("| request size | concurrent | objects/s, round 1 | round 2 |")
    print("| ---: | ---: | ---: | ---: |")
    rates: dict[tuple[int, int], list[float]] = {shape: [] for shape in SHAPES}
    for round_ in range(2):
        # The second round runs the shapes in reverse: a busy spell on a shared
        # machine then falls on different rows.
        for size, workers in SHAPES if round_ == 0 else SHAPES[::-1]:
            store = vector_store(section, "BenchIngestRaw", **defaults)
            try:
                store.reset()
                rates[(size, workers)].append(
                    raw_insert(store, store._objects(recs), size, workers)
                )
            finally:
                store.drop()
                store.close()
    for (size, workers), got in rates.items():
        print(f"| {size} | {workers} | {got[0]:,.0f} | {got[1]:,.0f} |", flush=True)
    print(
        f"\n## HNSW construction, {sample:,} vectors of {dim}, request {defaults['insert_batch']}"
        f" x {defaults['insert_concurrency']}; recall@10 of {QUERIES} searches vs exact"
    )
    print("| efConstruction | maxConnections | vectors | objects/s | recall@10 | search p50 ms |")
    print("| ---: | ---: | --- | ---: | ---: | ---: |")
    for kind in ("clustered", "random"):
        data = vectors(kind, sample, dim, 1)
        queries = vectors(kind, QUERIES, dim, 2)
        recs = records(data)
        for ef_c, links in HNSW:
            store = vector_store(
                section,
                "BenchIngestHnsw",
                **{**defaults, "ef_construction": ef_c, "max_connections": links},
            )
            try:
                store.reset()
                rate = raw_insert(
                    store,
                    store._objects(recs),
                    defaults["insert_batch"],
                    defaults["insert_concurrency"],
                )
                found, p50 = recall(store, data, queries)
            finally:
                store.drop()
                store.close()
            print(
                f"| {ef_c} | {links} | {kind} | {rate:,.0f} | {found:.3f} | {p50:.1f} |", flush=True
            )


# -- add_many ----------------------------------------------------------------------


def owners(total: int) -> list[str]:
    """A 1k scope, a 100k one when the load holds 1.2x that, the rest 500 users."""
    out = ["s1k"] * SMALL_SCOPE
    if total >= 1.2 * BIG_SCOPE:
        out += ["s100k"] * BIG_SCOPE
    out += [f"bg-{i % 500}" for i in range(total - len(out))]
    order = sorted(range(total), key=lambda i: (i * 7919) % total)
    return [out[i] for i in order]


def items(users: list[str], data: np.ndarray, start: int) -> Iterator[dict[str, Any]]:
    for i, user in enumerate(users, start):
        yield {
            "text": f"memory {i} of {user}",
            "embedding": data[i].tolist(),
            "user_id": user,
            "memory_id": str(uuid.UUID(int=i + 1)),
            "entities": [
                {"name": f"topic-{i % 50}", "type": "topic"},
                {"name": f"person-{i % 20}", "type": "person"},
            ],
            "relations": [
                {"source": f"person-{i % 20}", "target": f"topic-{i % 50}", "type": "talks_about"}
            ],
        }


def load(
    config: dict[str, Any], users: list[str], data: np.ndarray, label: str, first: int
) -> tuple[HybridStore, float, float]:
    """(the loaded store, memories/s over the whole load, over its first ``first``,
    rounded up to the 10k chunk)."""
    store = HybridStore(config)
    store.reset()
    started = time.perf_counter()
    mark, last, first_rate = started, 0, 0.0
    for at in range(0, len(users), 10_000):
        store.add_many(items(users[at : at + 10_000], data, at), batch_size=1000)
        done = min(at + 10_000, len(users))
        now = time.perf_counter()
        if not first_rate and done >= first:
            first_rate = done / (now - started)
        if done - last >= 50_000 or done == len(users):
            print(
                f"[{label}] {done:,} loaded, {(done - last) / (now - mark):,.0f}/s over the"
                f" last {done - last:,}",
                flush=True,
            )
            mark, last = now, done
    return store, len(users) / (time.perf_counter() - started), first_rate


def raw_floor(section: dict[str, Any], data: np.ndarray, options: dict[str, Any]) -> float:
    store = vector_store(section, "BenchIngestFloor", **options)
    try:
        store.reset()
        return raw_insert(store, store._objects(records(data)), 1000, 1)
    finally:
        store.drop()
        store.close()


def ingest(
    graph: dict[str, Any], vector: dict[str, Any], total: int, compare: int, dim: int
) -> HybridStore:
    data = vectors("clustered", total, dim, 3)
    users = owners(total)
    old_hnsw = {k: OLD[k] for k in ("ef_construction", "max_connections")}
    with tempfile.TemporaryDirectory() as tmp:
        old_config = {
            "data_dir": tmp,
            "graph": {**graph, "label_prefix": "BenchOld"},
            "vector": {**vector, "collection": "BenchIngestOld", **OLD},
        }
        old, old_rate, _ = load(old_config, users[:compare], data, "before", compare)
        old.reset()
        old.close()
    floor_old = raw_floor(vector, data[:compare], old_hnsw)
    floor_new = raw_floor(vector, data[:compare], {})
    config = {
        "data_dir": tempfile.mkdtemp(prefix="ingest-"),
        "graph": {**graph, "label_prefix": "BenchIngest"},
        "vector": {**vector, "collection": "BenchIngest"},
    }
    store, rate, first_rate = load(config, users, data, "defaults", compare)
    print("\n## add_many on neo4j+weaviate (2 entities, 1 relation each, batches of 1,000)")
    print("| what | memories | per second | against before |\n| --- | ---: | ---: | ---: |")
    rows = [
        ("add_many, before (HNSW 128/32, one request per batch)", compare, old_rate),
        ("add_many, adapter defaults", compare, first_rate),
        ("add_many, adapter defaults, whole load", total, rate),
        ("raw Weaviate insert_many floor, HNSW 128/32", compare, floor_old),
        ("raw Weaviate insert_many floor, adapter defaults", compare, floor_new),
    ]
    for name, count, value in rows:
        base = old_rate if name.startswith("add_many") else floor_old
        print(f"| {name} | {count:,} | {value:,.0f} | {value / base:.2f}x |")
    return store


# -- search ------------------------------------------------------------------------


def p50(action: Callable[[], Any], count: int = SEARCHES) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def search_rows(store: HybridStore, dim: int) -> None:
    queries = vectors("clustered", SEARCHES, dim, 4)
    vec = store.vector
    assert isinstance(vec, WeaviateVectorStore)
    coll = vec._handle()
    print("\n## search p50 (ms), limit 10")
    print(
        "| scope | store.search | vector.search | near_vector + filter, all | + filter, ids only"
        " | no filter, ids only |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    scopes = [("s1k", SMALL_SCOPE)] + (
        [("s100k", BIG_SCOPE)] if vec.count() >= 1.2 * BIG_SCOPE else []
    )
    for user, size in scopes:
        print(scope_row(store, vec, coll, queries.tolist(), user, size), flush=True)


def scope_row(
    store: HybridStore,
    vec: WeaviateVectorStore,
    coll: Any,
    queries: list[list[float]],
    user: str,
    size: int,
) -> str:
    from weaviate.classes.query import MetadataQuery

    from hybridmem_weaviate import schema

    it = iter(queries * 10)
    where = schema.scope_filter(Scope(user_id=user))
    full = p50(lambda: store.search(embedding=next(it), user_id=user, limit=10))
    port = p50(lambda: vec.search(next(it), Scope(user_id=user), 10))
    raw_all = p50(
        lambda: coll.query.near_vector(
            near_vector=next(it),
            limit=10,
            filters=where,
            return_metadata=MetadataQuery(distance=True),
            include_vector=True,
        )
    )
    raw_ids = p50(
        lambda: coll.query.near_vector(
            near_vector=next(it), limit=10, filters=where, return_properties=[]
        )
    )
    bare = p50(lambda: coll.query.near_vector(near_vector=next(it), limit=10, return_properties=[]))
    return f"| {size:,} | {full:.1f} | {port:.1f} | {raw_all:.1f} | {raw_ids:.1f} | {bare:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--memories", type=int, default=120_000, help="add_many load size (a 100k scope from 120k)"
    )
    parser.add_argument(
        "--compare", type=int, default=10_000, help="memories loaded with the old settings"
    )
    parser.add_argument("--sample", type=int, default=20_000, help="vectors per sweep row")
    parser.add_argument("--dimension", type=int, default=DIMENSION)
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    defaults = {
        k: v
        for k, v in WeaviateOptions().model_dump().items()
        if k in ("ef_construction", "max_connections", "insert_batch", "insert_concurrency")
    }
    print(
        f"# benchmarks/ingest.py, {time.strftime('%Y-%m-%d %H:%M')}, load average"
        f" {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores; adapter defaults {defaults}",
        flush=True,
    )
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        graph, vector = servers(stack, Path(scratch))
        if not args.skip_sweep:
            sweep(vector, args.sample, args.dimension, defaults)
        store = ingest(
            graph, vector, args.memories, min(args.compare, args.memories), args.dimension
        )
        try:
            search_rows(store, args.dimension)
        finally:
            store.reset()
            store.close()
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
