"""The cost of shared coordination: the SQLite journal and in-process claims
against the Neo4j journal and lease claims (``[graph] shared_journal = true``),
on neo4j+weaviate, in one run.

    python benchmarks/shared_journal.py                     # 300 adds, delete_all of 1,000
    python benchmarks/shared_journal.py --adds 500 --scope 1000 10000

Uses the servers named by HYBRIDMEM_TEST_NEO4J_URI / HYBRIDMEM_TEST_WEAVIATE_HOST
(+ _HTTP_PORT, _GRPC_PORT); without them it starts native servers of its own
(compose/neo4j_native.py, compose/weaviate_native.py) and stops them after.
Measured through HybridStore: ``add`` one at a time (p50, p95 in ms), and
``delete_all`` of a scope filled with ``add_many``. Both journals run against
the same servers, alternating, so load on the machine falls on both.
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


def measure_adds(store: HybridStore, adds: int) -> list[float]:
    user = f"adds-{uuid.uuid4().hex[:8]}"
    times = []
    for i in range(WARM_UP + adds):
        started = time.perf_counter()
        store.add(f"memory {i}", embedding=_vector(i), user_id=user)
        if i >= WARM_UP:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=300)
    parser.add_argument("--scope", type=int, nargs="+", default=[1000])
    args = parser.parse_args()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        graph, vector = servers(stack, scratch)
        rows: dict[str, dict[str, str]] = {}
        for shared in (False, True):
            name = "Neo4j journal + leases" if shared else "SQLite journal (today)"
            with HybridStore(config(graph, vector, scratch / name[:6], shared)) as store:
                store.reset()
                adds = measure_adds(store, args.adds)
                row = {
                    "add p50 ms": f"{statistics.median(adds):.2f}",
                    "add p95 ms": f"{statistics.quantiles(adds, n=20)[18]:.2f}",
                }
                for size in args.scope:
                    row[f"delete_all {size:,} s"] = f"{measure_delete_all(store, size):.2f}"
                store.reset()
                drop = getattr(store.vector, "drop", None)
                if drop is not None:
                    drop()
            rows[name] = row
        columns = list(next(iter(rows.values())))
        width = max(len(n) for n in rows)
        print(f"{'journal':<{width}}  " + "  ".join(f"{c:>16}" for c in columns))
        for name, row in rows.items():
            print(f"{name:<{width}}  " + "  ".join(f"{row[c]:>16}" for c in columns))


if __name__ == "__main__":
    main()
