"""The cost of shared coordination: the SQLite journal and in-process claims
against the Neo4j journal and lease claims (``[graph] shared_journal = true``),
on neo4j+weaviate, in one run.

    python benchmarks/shared_journal.py                     # 300 adds, delete_all of 1,000
    python benchmarks/shared_journal.py --adds 500 --scope 1000 10000

Uses the servers named by HYBRIDMEM_TEST_NEO4J_URI / HYBRIDMEM_TEST_WEAVIATE_HOST
(+ _HTTP_PORT, _GRPC_PORT); without them it starts native servers of its own
(compose/neo4j_native.py, compose/weaviate_native.py) and stops them after.
Measured through HybridStore: ``add`` one at a time (p50, p95 in ms), and
``delete_all`` of a scope filled with ``add_many`` (median of the rounds). Both
journals run against the same servers in alternating rounds, so load from
elsewhere on the machine falls on both.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hybridmem import HybridStore  # noqa: E402

DIMENSION = 32
WARM_UP = 20


def _vector(i: int) -> list[float]:
    return [((i * 7919 + d * 104729) % 1000) / 1000.0 + 0.001 for d in range(DIMENSION)]


def _compose(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "compose" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def servers(stack: ExitStack, scratch: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    uri = os.environ.get("HYBRIDMEM_TEST_NEO4J_URI")
    if uri:
        graph = {
            "uri": uri,
            "user": os.environ.get("HYBRIDMEM_TEST_NEO4J_USER", "neo4j"),
            "password": os.environ.get("HYBRIDMEM_TEST_NEO4J_PASSWORD", "hybridmem-test"),
        }
    else:
        neo4j = _compose("neo4j_native").start(scratch / "neo4j")
        stack.callback(neo4j.stop)
        graph = {"uri": neo4j.uri, "user": "neo4j", "password": neo4j.password}
    host = os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HOST")
    if host:
        vector = {
            "host": host,
            "http_port": int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HTTP_PORT", "8080")),
            "grpc_port": int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_GRPC_PORT", "50051")),
        }
    else:
        weaviate = _compose("weaviate_native").start(scratch / "weaviate")
        stack.callback(weaviate.stop)
        vector = {
            "host": weaviate.host,
            "http_port": weaviate.http_port,
            "grpc_port": weaviate.grpc_port,
        }
    return graph, vector


def config(
    graph: dict[str, Any], vector: dict[str, Any], data_dir: Path, shared: bool
) -> dict[str, Any]:
    prefix = "BenchShared" if shared else "BenchSqlite"
    return {
        "data_dir": str(data_dir),
        "graph": {"provider": "neo4j", **graph, "label_prefix": prefix, "shared_journal": shared},
        "vector": {"provider": "weaviate", **vector, "collection": prefix},
    }


def measure_adds(store: HybridStore, user: str, start: int, count: int) -> list[float]:
    times = []
    for i in range(start, start + count):
        started = time.perf_counter()
        store.add(f"memory {i}", embedding=_vector(i), user_id=user)
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_delete_all(store: HybridStore, size: int) -> float:
    user = f"erase-{uuid.uuid4().hex[:8]}"
    store.add_many(
        [{"text": f"erased {i}", "embedding": _vector(i), "user_id": user} for i in range(size)]
    )
    started = time.perf_counter()
    result = store.delete_all(user_id=user)
    elapsed = time.perf_counter() - started
    assert result.memories == size, result
    return elapsed


NAMES = {False: "SQLite journal (today)", True: "Neo4j journal + leases"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=400)
    parser.add_argument("--scope", type=int, nargs="+", default=[1000])
    parser.add_argument("--rounds", type=int, default=4, help="alternations per measure")
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        graph, vector = servers(stack, scratch)
        stores = {
            shared: stack.enter_context(
                HybridStore(config(graph, vector, scratch / str(shared), shared))
            )
            for shared in (False, True)
        }
        adds: dict[bool, list[float]] = {shared: [] for shared in stores}
        erasures: dict[tuple[bool, int], list[float]] = {}
        for store in stores.values():
            store.reset()
            measure_adds(store, "warm-up", 0, WARM_UP)
        # Alternating rounds: load from elsewhere on the machine falls on both.
        per_round = max(1, args.adds // args.rounds)
        for r in range(args.rounds):
            for shared, store in stores.items():
                adds[shared] += measure_adds(store, "adds", r * per_round, per_round)
            for size in args.scope:
                for shared, store in stores.items():
                    erasures.setdefault((shared, size), []).append(measure_delete_all(store, size))
        for store in stores.values():
            store.reset()
            drop = getattr(store.vector, "drop", None)
            if drop is not None:
                drop()
        columns = ["add p50 ms", "add p95 ms"] + [f"delete_all {n:,} s" for n in args.scope]
        width = max(len(n) for n in NAMES.values())
        print(f"{'journal':<{width}}  " + "  ".join(f"{c:>16}" for c in columns))
        for shared, name in NAMES.items():
            cells = [
                f"{statistics.median(adds[shared]):.2f}",
                f"{statistics.quantiles(adds[shared], n=20)[18]:.2f}",
            ] + [f"{statistics.median(erasures[(shared, n)]):.2f}" for n in args.scope]
            print(f"{name:<{width}}  " + "  ".join(f"{c:>16}" for c in cells))


if __name__ == "__main__":
    main()
