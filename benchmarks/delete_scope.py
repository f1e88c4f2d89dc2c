"""delete_all of a scope against a per-memory delete loop and the raw server
delete, on the same store, in the same run.

    python benchmarks/delete_scope.py                 # 100k memories, 1k scope, embedded pair
    python benchmarks/delete_scope.py --memories 20000 --scope 1000 10000
    python benchmarks/delete_scope.py --pairs kuzu+kuzu,neo4j+kuzu,kuzu+weaviate,neo4j+weaviate

Server pairs use the servers named by HYBRIDMEM_TEST_NEO4J_URI /
HYBRIDMEM_TEST_WEAVIATE_HOST (+ _HTTP_PORT, _GRPC_PORT), for example the ones
``compose/neo4j_native.py start --print-env`` and
``compose/weaviate_native.py start --print-env`` print.

The store is filled through the ports in bulk (the journal plays no part in
building fixtures). Each scope size gets identical scopes: one erased with
delete_all; one with a loop of delete(memory_id), the round-trip-per-memory
pattern delete_all replaces; and, on server stores, one with the raw server
call a hand-written erasure would use (one Cypher ``DETACH DELETE`` of the
scope's memory nodes; Weaviate ``delete_many`` by filter until nothing
matches). The raw calls touch one store only and leave relations, orphan
entities and the other store behind: they are the floor, not an alternative.
Ratios, not absolute seconds, are the result.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from raw_deletes import raw_delete_by_ids, raw_graph_delete, raw_vector_delete

from hybridmem import HybridStore, Scope
from hybridmem.records import (
    EntityRecord,
    MemoryGraph,
    MemoryNode,
    RelationRecord,
    VectorRecord,
    entity_id,
    relation_id,
    text_hash,
)

DIMENSION = 32
BULK = 2000
WARM_UP = 50


def _vector(i: int) -> list[float]:
    # Cheap, deterministic, never all zero.
    return [((i * 2654435761 + k * 40503) % 1000) / 1000.0 + 0.001 for k in range(DIMENSION)]


def fill(store: HybridStore, total: int, scopes: dict[str, int]) -> None:
    """``total`` memories: the named scopes (user ids) get exactly their size,
    the rest spread over 200 background users."""
    owners: list[str] = []
    for user, size in scopes.items():
        owners.extend([user] * size)
    rest = total - len(owners)
    owners.extend(f"bg-{i % 200}" for i in range(rest))
    stamp = datetime.now(UTC)
    for start in range(0, len(owners), BULK):
        vectors, graphs = [], []
        for i in range(start, min(start + BULK, len(owners))):
            user = owners[i]
            mid = str(uuid.UUID(int=i + 1))
            scope = Scope(user_id=user, agent_id=f"agent-{i % 3}")
            text = f"memory {i} of {user}"
            entities = (
                EntityRecord(
                    entity_id(user, f"topic-{i % 50}", "topic"), f"topic-{i % 50}", "topic", user
                ),
                EntityRecord(
                    entity_id(user, f"person-{i % 20}", "person"),
                    f"person-{i % 20}",
                    "person",
                    user,
                ),
            )
            relation = RelationRecord(
                relation_id(mid, 0),
                "talks_about",
                entities[1].id,
                entities[0].id,
                mid,
                user,
                scope.agent_id,
                None,
                stamp,
            )
            vectors.append(
                VectorRecord(
                    mid,
                    _vector(i),
                    text,
                    text_hash(text),
                    user,
                    scope.agent_id,
                    None,
                    stamp,
                    stamp,
                    {},
                )
            )
            node = MemoryNode(mid, user, scope.agent_id, None, stamp, stamp)
            graphs.append(MemoryGraph(node, entities, (relation,)))
        store.vector.upsert(vectors)
        store.graph.add_memories(graphs)


class PeakRss:
    """Samples this process's RSS while a block runs (ru_maxrss only ever grows)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    def _current(self) -> int:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __enter__(self) -> PeakRss:
        self.base = self._current()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._current())
            time.sleep(0.01)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._current())


def timed(action: Callable[[], Any]) -> tuple[float, Any, PeakRss]:
    with PeakRss() as rss:
        started = time.perf_counter()
        value = action()
        elapsed = time.perf_counter() - started
    return elapsed, value, rss


def delete_one_by_one(store: HybridStore, user_id: str) -> int:
    """The round-trip-per-memory pattern delete_all replaces."""
    ids = [m.id for m in store.get_all(user_id=user_id)]
    for memory_id in ids:
        store.delete(memory_id)
    return len(ids)


def add_expired(store: HybridStore, count: int) -> None:
    """``count`` memories of 50 users, written already expired through add_many
    (so the journal's time index holds them), shaped like fill()'s."""
    items = [
        {
            "text": f"expired memory {i}",
            "embedding": _vector(10_000_000 + i),
            "user_id": f"expired-{i % 50}",
            "expires_at": "2020-01-01T00:00:00+00:00",
            "entities": [
                {"name": f"topic-{i % 50}", "type": "topic"},
                {"name": f"person-{i % 20}", "type": "person"},
            ],
            "relations": [
                {"source": f"person-{i % 20}", "target": f"topic-{i % 50}", "type": "talks_about"}
            ],
        }
        for i in range(count)
    ]
    for at in range(0, count, BULK):
        store.add_many(items[at : at + BULK])


def pair_config(pair: str, data_dir: Path) -> dict[str, Any]:
    graph_name, vector_name = pair.split("+")
    graph: dict[str, Any] = {"provider": "kuzu"}
    vector: dict[str, Any] = {"provider": "kuzu"}
    if graph_name == "neo4j":
        graph = {
            "provider": "neo4j",
            "uri": os.environ.get("HYBRIDMEM_TEST_NEO4J_URI", "bolt://127.0.0.1:7687"),
            "user": os.environ.get("HYBRIDMEM_TEST_NEO4J_USER", "neo4j"),
            "password": os.environ.get("HYBRIDMEM_TEST_NEO4J_PASSWORD", "hybridmem-test"),
        }
    if vector_name == "weaviate":
        vector = {
            "provider": "weaviate",
            "host": os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HOST", "127.0.0.1"),
            "http_port": int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HTTP_PORT", "8080")),
            "grpc_port": int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_GRPC_PORT", "50051")),
            "collection": "BenchDeleteScope",
        }
    return {"data_dir": str(data_dir), "graph": graph, "vector": vector}


def build(
    pair: str, total: int, scopes: dict[str, int], data_dir: Path, cache: Path | None
) -> None:
    """Fill the stores; the embedded pair's files are cached, since a 100k build
    takes minutes and the measured part only needs a copy."""
    key = f"{pair}-{total}-" + "-".join(f"{k}{v}" for k, v in sorted(scopes.items()))
    cached = cache / key if cache is not None and pair == "kuzu+kuzu" else None
    if cached is not None and cached.exists():
        shutil.copytree(cached, data_dir)
        print(f"[{pair}] copied {total:,} memories from {cached}", flush=True)
        return
    with HybridStore(pair_config(pair, data_dir)) as store:
        store.reset()
        started = time.perf_counter()
        fill(store, total, scopes)
        print(
            f"[{pair}] built {total:,} memories in {time.perf_counter() - started:.1f}s", flush=True
        )
    if cached is not None:
        shutil.copytree(data_dir, cached)


def bench_pair(
    pair: str,
    total: int,
    sizes: list[int],
    root: Path,
    cache: Path | None,
    purge: int = 0,
    loop: bool = True,
    rounds: int = 1,
) -> list[dict[str, Any]]:
    config = pair_config(pair, root / pair)
    raw = pair != "kuzu+kuzu"
    # Warm-up scopes: the first run of each statement pays for query planning,
    # JIT and cold caches (a server's especially); neither side should carry that.
    scopes = {"warm-bulk": WARM_UP, "warm-loop": WARM_UP}
    if raw:
        scopes["warm-raw"] = WARM_UP
    if purge and raw:
        # The purge's floor deletes as many twins (one scope per user, 50 users) by id.
        scopes.update({f"twin-{k}": purge // 50 for k in range(50)})
    # Each size gets ``rounds`` identical scopes per side; rounds alternate the
    # sides, so a load that changes during the run weighs on both.
    runs = [(size, f"{size}" if r == 0 else f"{size}-{r}") for r in range(rounds) for size in sizes]
    for size, name in runs:
        scopes[f"bulk-{name}"] = size
        if loop:
            scopes[f"loop-{name}"] = size
        if raw:
            scopes[f"raw-{name}"] = size
    rows = []
    build(pair, total, scopes, root / pair, cache)
    with HybridStore(config) as store:
        store.delete_all(user_id="warm-bulk")
        delete_one_by_one(store, "warm-loop")
        if raw:
            raw_graph_delete(config, "warm-raw")
            raw_vector_delete(config, "warm-raw")
        for size, name in runs:
            bulk_user, loop_user = f"bulk-{name}", f"loop-{name}"
            bulk_s, result, bulk_rss = timed(partial(store.delete_all, user_id=bulk_user))
            assert result.memories == size, result

            loop_s = None
            if loop:
                loop_s, deleted, _ = timed(partial(delete_one_by_one, store, loop_user))
                assert deleted == size
            raw_graph_s = raw_graph_delete(config, f"raw-{name}") if raw else None
            raw_vector_s = raw_vector_delete(config, f"raw-{name}") if raw else None
            rows.append(
                {
                    "pair": pair,
                    "scope": size,
                    "delete_all_s": bulk_s,
                    "loop_s": loop_s,
                    "speedup": loop_s / bulk_s if loop_s is not None else None,
                    "raw_graph_s": raw_graph_s,
                    "raw_vector_s": raw_vector_s,
                    "rss_delete_all_mb": (bulk_rss.peak - bulk_rss.base) / 2**20,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            )
            print(
                f"[{pair}] scope {size}: delete_all {bulk_s:.3f}s, loop {_seconds(loop_s)},"
                f" raw graph {_seconds(raw_graph_s)}, raw vector {_seconds(raw_vector_s)}",
                flush=True,
            )
        purged = bench_purge(store, config, pair, purge, rows) if purge and raw else 0
        # The raw deletes touch one store each; delete_all and the loop both.
        erased = ((2 if loop else 1) * sum(sizes)) * rounds + 2 * WARM_UP + purged
        raw_graph = sum(sizes) * rounds + WARM_UP if rows[0]["raw_graph_s"] is not None else 0
        raw_vector = sum(sizes) * rounds + WARM_UP if rows[0]["raw_vector_s"] is not None else 0
        left = store.stats()
        assert left["memory_nodes"] == total - erased - raw_graph, left
        assert left["vectors"] == total - erased - raw_vector, left
        store.reset()
    return rows


def bench_purge(
    store: HybridStore, config: dict[str, Any], pair: str, count: int, rows: list[dict[str, Any]]
) -> int:
    """purge_expired of ``count`` expired memories against the raw deletes by id of
    as many twins; returns the twins (erased from both stores)."""
    started = time.perf_counter()
    add_expired(store, count)
    print(f"[{pair}] added {count:,} expired in {time.perf_counter() - started:.1f}s", flush=True)
    purge_s, result, _ = timed(store.purge_expired)
    assert result.memories == count, result
    twins = [
        m
        for k in range(50)
        for m in store.graph.scope_memory_ids(Scope(user_id=f"twin-{k}"), count)
    ]
    raw_s = raw_delete_by_ids(config, twins)
    print(
        f"[{pair}] purge {count}: {purge_s:.3f}s, raw by ids {_seconds(raw_s)},"
        f" {_ratio(purge_s, raw_s)}"
    )
    rows.append({"pair": pair, "purge": count, "purge_s": purge_s, "raw_ids_s": raw_s})
    return len(twins)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}s"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return "-"
    return f"{numerator / denominator:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--scope", type=int, nargs="+", default=[1000])
    parser.add_argument("--pairs", default="kuzu+kuzu")
    parser.add_argument(
        "--rounds", type=int, default=1, help="scopes per size (medians are printed)"
    )
    parser.add_argument(
        "--no-loop", action="store_true", help="skip the per-memory delete loop (slow at 10k)"
    )
    parser.add_argument(
        "--purge", type=int, default=0, help="also purge_expired this many (server pair)"
    )
    parser.add_argument(
        "--cache",
        default=str(
            Path(os.environ.get("HYBRIDMEM_CACHE", Path.home() / ".cache/hybridmem")) / "bench"
        ),
        help="where built embedded stores are kept between runs ('' to disable)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hybridmem-bench-") as tmp:
        rows = []
        for pair in args.pairs.split(","):
            rows.extend(
                bench_pair(
                    pair.strip(),
                    args.memories,
                    sorted(args.scope),
                    Path(tmp),
                    Path(args.cache) if args.cache else None,
                    args.purge,
                    not args.no_loop,
                    args.rounds,
                )
            )
    header = (
        f"{'pair':<16}{'scope':>8}{'delete_all s':>14}{'loop s':>10}{'loop/all':>10}"
        f"{'raw graph s':>13}{'raw vector s':>14}{'all/raw g+v':>13}"
        f"{'Δrss all MB':>13}{'peak rss MB':>13}"
    )
    print(f"\ndelete a scope out of {args.memories:,} memories (same store, same run)")
    print(header)
    print("-" * len(header))
    for r in rows:
        if "purge" in r:
            continue
        raw = _sum(r["raw_graph_s"], r["raw_vector_s"])
        print(
            f"{r['pair']:<16}{r['scope']:>8}{r['delete_all_s']:>14.3f}{_seconds(r['loop_s']):>10}"
            f"{_ratio(r['loop_s'], r['delete_all_s']):>10}{_seconds(r['raw_graph_s']):>13}"
            f"{_seconds(r['raw_vector_s']):>14}{_ratio(r['delete_all_s'], raw):>13}"
            f"{r['rss_delete_all_mb']:>13.1f}{r['peak_rss_mb']:>13.0f}"
        )
    for pair in args.pairs.split(","):
        for size in sorted(args.scope):
            ratios = [
                r["delete_all_s"] / raw
                for r in rows
                if r.get("scope") == size
                and r["pair"] == pair.strip()
                and (raw := _sum(r["raw_graph_s"], r["raw_vector_s"]))
            ]
            if len(ratios) > 1:
                print(
                    f"{pair.strip():<16}{size:>8}  median all/raw g+v over {len(ratios)}"
                    f" rounds: {statistics.median(ratios):.2f}x"
                    f" (each: {', '.join(f'{x:.2f}' for x in ratios)})"
                )
    for r in rows:
        if "purge" in r:
            print(
                f"{r['pair']:<16}purge_expired of {r['purge']:,}: {r['purge_s']:.3f}s,"
                f" raw deletes by id {_seconds(r['raw_ids_s'])}:"
                f" {_ratio(r['purge_s'], r['raw_ids_s'])}"
            )
    print(
        "loop/all: how many times faster delete_all is than the per-memory loop;"
        " all/raw g+v: delete_all's cost over the raw one-store server deletes"
        " (graph + vector; aim <= 2)"
    )


def _sum(graph: float | None, vector: float | None) -> float | None:
    if graph is None and vector is None:
        return None
    return (graph or 0.0) + (vector or 0.0)


if __name__ == "__main__":
    main()
