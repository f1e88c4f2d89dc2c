"""hybridmem at scale: ingest, erasure, search, memory and disk, in one run per size.

    python benchmarks/scale.py                                   # 100k, embedded default
    python benchmarks/scale.py --memories 200000 1000000 --compact  # and time compact()
    python benchmarks/scale.py --memories 100000 1000000 --pairs kuzu+kuzu,neo4j+weaviate
    python benchmarks/scale.py --memories 20000 --sample 5000    # a quick look

For each pair and each size, in a fresh store:

* **ingest**: ``add_many`` of every memory (2 entities and 1 relation each),
  memories/s over the whole load and over its first ``--sample`` memories;
  the floor is the stores' raw bulk write (``vector.upsert`` +
  ``graph.add_memories``, no journal, no checks) of the same ``--sample``
  records into another empty store; then 300 single ``add()`` calls into the
  loaded store (p50 and rate).
* **search**: p50 of 200 searches in a 1k scope and, when the store is large
  enough, in a 100k scope.
* **delete_all** of a 1k and a 10k scope, with the growth of RSS while it ran;
  the floor is the raw one-store delete of an identical scope (Cypher
  ``DETACH DELETE`` of its memory nodes on Neo4j, Weaviate ``delete_many`` by
  filter, Kuzu ``DETACH DELETE`` in each file, SQLite's own scope delete). The raw deletes leave
  relations, orphan entities and the other store behind: a floor, not an
  alternative.
* **purge_expired** of ``min(10k, N/10)`` memories loaded already expired
  (spread over 50 users, inside the N others); the floor is the raw one-store
  deletes by id of as many twin memories (``DETACH DELETE`` of the ids in each
  Kuzu file / on Neo4j, Weaviate ``delete_many`` by id). Its cost should follow
  the expired count, not N: the purge reads a time index, never the stores.
* **disk**: bytes per memory of the embedded files (and of the server data
  directories given by ``--neo4j-data`` / ``--weaviate-data``), after the load
  and after the erasures.
* **reopen**: seconds to open the store again after the erasures (the embedded
  files' open and WAL replay, the journal's recovery scan).
* **compact** (``--compact``, embedded pairs): ``store.compact()`` after the
  reopen, live memories/s, and bytes per memory after it.

The cross-size table compares delete_all of the same scope inside each size:
cost should follow the scope, not the store. Ratios, not absolute seconds,
are the result. Server pairs use the servers named by HYBRIDMEM_TEST_NEO4J_URI
and HYBRIDMEM_TEST_WEAVIATE_* (see benchmarks/delete_scope.py).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from delete_scope import PeakRss, pair_config
from raw_deletes import raw_graph_delete, raw_vector_delete

from hybridmem import HybridStore
from hybridmem.bulk import prepare_batch
from hybridmem.errors import StoreError
from hybridmem.models import AddProgress, Scope

DIMENSION = 64
BATCH = 2000
SCOPES = {"s1k": 1000, "s10k": 10_000, "raw-1k": 1000, "raw-10k": 10_000}
#: Erased untimed before the measured scopes: the first run of each statement pays
#: for query planning and cold caches (a server's especially), which neither
#: delete_all nor its raw floor should carry.
WARM_SCOPES = {"warm": 50, "raw-warm": 50}
BIG_SCOPE = 100_000
SINGLE_ADDS = 300
SEARCHES = 200


def _vector(i: int) -> list[float]:
    return [((i * 2654435761 + k * 40503) % 1000) / 1000.0 + 0.001 for k in range(DIMENSION)]


def owners(total: int) -> list[str]:
    """The user of each memory: the measured scopes get exactly their size (the
    100k one only in stores of at least 5x that), the rest 500 background users."""
    scopes = {**SCOPES, **WARM_SCOPES}
    if total >= 5 * BIG_SCOPE:
        scopes["s100k"] = BIG_SCOPE
    out: list[str] = []
    for user, size in scopes.items():
        out.extend([user] * size)
    if len(out) > total:
        raise SystemExit(f"--memories {total} is smaller than the measured scopes ({len(out)})")
    out.extend(f"bg-{i % 500}" for i in range(total - len(out)))
    # Interleave so that every scope is spread over the whole load, as in real use.
    order = sorted(range(len(out)), key=lambda i: (i * 7919) % len(out))
    return [out[i] for i in order]


def items(users: list[str], start: int = 0) -> Iterator[dict[str, Any]]:
    for i, user in enumerate(users, start):
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


def raw_write(store: HybridStore, users: list[str]) -> float:
    """The floor: the same records straight into the stores in batches; seconds."""
    batches = []
    stream = list(items(users))
    for start in range(0, len(stream), BATCH):
        chunk = list(enumerate(stream[start : start + BATCH], start))
        batches.append(prepare_batch(chunk, lambda texts: []))
    started = time.perf_counter()
    for batch in batches:
        store.vector.upsert([m.record for m in batch])
        store.graph.add_memories([m.graph for m in batch])
    return time.perf_counter() - started


def expired_items(count: int, start: int, prefix: str, expired: bool) -> Iterator[dict[str, Any]]:
    """``count`` memories of 50 users named ``prefix-*``: already expired, or twins
    that never expire (the raw floor deletes those by id)."""
    for item in items([f"{prefix}-{i % 50}" for i in range(count)], start):
        yield {**item, "expires_at": "2020-01-01T00:00:00+00:00"} if expired else item


def raw_delete_ids(store: HybridStore, config: dict[str, Any], ids: list[str]) -> float:
    """The floor of a purge: each store's own delete of these ids; seconds."""
    started = time.perf_counter()
    graph, vector = config["graph"], config["vector"]
    if graph["provider"] == "neo4j":
        from neo4j import GraphDatabase

        with GraphDatabase.driver(graph["uri"], auth=(graph["user"], graph["password"])) as db:
            label = f"`{graph['label_prefix']}_Memory`"
            db.execute_query(f"MATCH (m:{label}) WHERE m.id IN $ids DETACH DELETE m", ids=ids)
    else:
        cast(Any, store.graph)._db.rows(
            "UNWIND $ids AS i MATCH (m:Memory {id: i}) DETACH DELETE m", {"ids": ids}
        )
    if vector["provider"] == "sqlite":
        store.vector.delete(ids)
    elif vector["provider"] == "weaviate":
        import weaviate
        from weaviate.classes.query import Filter

        client = weaviate.connect_to_local(
            host=vector["host"], port=vector["http_port"], grpc_port=vector["grpc_port"]
        )
        try:
            collection = client.collections.use(vector["collection"])
            for at in range(0, len(ids), 1000):
                collection.data.delete_many(where=Filter.by_id().contains_any(ids[at : at + 1000]))
        finally:
            client.close()
    else:
        cast(Any, store.vector)._db.rows(
            "UNWIND $ids AS i MATCH (v:Vec {id: i}) DETACH DELETE v", {"ids": ids}
        )
    return time.perf_counter() - started


def raw_kuzu_delete(store: HybridStore, user_id: str) -> float | None:
    """The embedded pair's floor: DETACH DELETE of the scope in each Kuzu file, and
    on SQLite the vector store's own scope delete (one indexed DELETE)."""
    graph_db = getattr(store.graph, "_db", None)
    if store.config.graph.provider != "kuzu" or graph_db is None:
        return None
    started = time.perf_counter()
    graph_db.rows("MATCH (m:Memory) WHERE m.user_id = $u DETACH DELETE m", {"u": user_id})
    if store.config.vector.provider == "sqlite":
        store.vector.delete_scope(Scope(user_id=user_id), 10_000)
    else:
        cast(Any, store.vector)._db.rows(
            "MATCH (v:Vec) WHERE v.user_id = $u DETACH DELETE v", {"u": user_id}
        )
    return time.perf_counter() - started


def embedded_config(pair: str, data_dir: Path) -> dict[str, Any]:
    """``pair_config``, with the vector role on SQLite for ``…+sqlite`` pairs."""
    config = pair_config(pair, data_dir)
    if pair.endswith("+sqlite"):
        config["vector"] = {"provider": "sqlite"}
    return config


class LoadLog:
    """Prints the load's rate every ``every`` memories: a long load shows how the
    rate changes as the store grows, and a run cut short keeps what it measured."""

    def __init__(self, pair: str, every: int = 50_000, offset: int = 0) -> None:
        self.pair, self.every, self.offset = pair, every, offset
        self.started = self.mark = time.perf_counter()
        self.last = offset

    def __call__(self, event: AddProgress) -> None:
        done = self.offset + event.done
        if done - self.last < (1 if event.phase == "done" else self.every):
            return
        now = time.perf_counter()
        rate = (done - self.last) / max(now - self.mark, 1e-9)
        print(
            f"[{self.pair}] {done:,} loaded, {rate:,.0f}/s over the last {done - self.last:,},"
            f" {now - self.started:,.0f}s in, RSS {_rss_mb():,.0f} MB",
            flush=True,
        )
        self.mark, self.last = now, done


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _keep(row: dict[str, Any], key: str, value: Any) -> None:
    """Stores one measure and prints it at once, so that a run cut short keeps it."""
    row[key] = value
    shown = f"{value:,.3f}" if isinstance(value, float) else value
    print(f"[{row['pair']} {row['memories']:,}] {key} = {shown}", flush=True)


def disk_bytes(paths: list[Path]) -> int:
    return sum(f.stat().st_size for p in paths if p.exists() for f in p.rglob("*") if f.is_file())


def _with_buffer(config: dict[str, Any], buffer_mb: int | None) -> dict[str, Any]:
    """The Kuzu files' buffer pool, when given (each file has its own)."""
    for side in ("graph", "vector"):
        if buffer_mb is not None and config[side]["provider"] == "kuzu":
            config[side] = {**config[side], "buffer_pool_mb": buffer_mb}
    return config


def measure(
    pair: str,
    total: int,
    sample: int,
    root: Path,
    extra_dirs: list[Path],
    buffer_mb: int | None = None,
    compact: bool = False,
) -> dict[str, Any]:
    row: dict[str, Any] = {"pair": pair, "memories": total}
    users = owners(total)
    data_dir = root / f"{pair}-{total}"
    floor_dir = root / f"{pair}-{total}-raw"
    floor_config = _with_buffer(embedded_config(pair, floor_dir), buffer_mb)
    floor_config["vector"] = {**floor_config["vector"]}
    if "collection" in floor_config["vector"]:
        floor_config["vector"]["collection"] = "BenchScaleRaw"
    if floor_config["graph"]["provider"] == "neo4j":
        floor_config["graph"]["label_prefix"] = "BenchScaleRaw"
    with HybridStore(floor_config) as floor:
        floor.reset()
        _keep(row, "raw_per_s", sample / raw_write(floor, users[:sample]))
        _clean_up(floor, pair)
    config = _with_buffer(embedded_config(pair, data_dir), buffer_mb)
    if "collection" in config["vector"]:
        config["vector"]["collection"] = "BenchScale"
    if config["graph"]["provider"] == "neo4j":
        config["graph"]["label_prefix"] = "BenchScale"
    with HybridStore(config) as store:
        store.reset()
        started = time.perf_counter()
        store.add_many(items(users[:sample]), batch_size=BATCH, progress=LoadLog(pair))
        _keep(row, "add_many_sample_per_s", sample / (time.perf_counter() - started))
        store.add_many(
            items(users[sample:], sample), batch_size=BATCH, progress=LoadLog(pair, offset=sample)
        )
        _keep(row, "add_many_per_s", total / (time.perf_counter() - started))
        print(f"[{pair}] loaded {total:,} in {time.perf_counter() - started:.0f}s", flush=True)
        expired = min(10_000, total // 10)
        _keep(row, "expired", expired)
        store.add_many(expired_items(expired, 2 * total, "exp", True), batch_size=BATCH)
        twins = store.add_many(
            expired_items(expired, 3 * total, "twin", False), batch_size=BATCH
        ).ids
        files = [data_dir, *extra_dirs]
        _keep(row, "disk_loaded", disk_bytes(files) / total)
        singles = []
        for i in range(SINGLE_ADDS):
            t = time.perf_counter()
            store.add(
                f"single {i}",
                embedding=_vector(total + i),
                user_id="singles",
                entities=[{"name": f"topic-{i % 50}", "type": "topic"}],
                relations=[{"source": "me", "target": f"topic-{i % 50}", "type": "likes"}],
            )
            singles.append(time.perf_counter() - t)
        _keep(row, "add_p50_ms", statistics.median(singles) * 1000)
        _keep(row, "add_per_s", SINGLE_ADDS / sum(singles))
        for user, key in (("s1k", "search_1k_ms"), ("s100k", "search_100k_ms")):
            if user not in users:
                _keep(row, key, None)
                continue
            store.search(_vector(1), user_id=user, limit=10)
            times = []
            for i in range(SEARCHES):
                t = time.perf_counter()
                store.search(_vector(i * 31), user_id=user, limit=10)
                times.append(time.perf_counter() - t)
            _keep(row, key, statistics.median(times) * 1000)
        store.delete_all(user_id="warm")
        warm = [raw_graph_delete(config, "raw-warm"), raw_vector_delete(config, "raw-warm")]
        if all(t is None for t in warm):
            raw_kuzu_delete(store, "raw-warm")
        for size, label in ((1000, "1k"), (10_000, "10k")):
            with PeakRss() as rss:
                t = time.perf_counter()
                result = store.delete_all(user_id=f"s{label}")
                _keep(row, f"delete_{label}_s", time.perf_counter() - t)
            assert result.memories == size, result
            _keep(row, f"delete_{label}_rss_mb", (rss.peak - rss.base) / 2**20)
            raw_user = f"raw-{label}"
            raw_times = [
                raw_graph_delete(config, raw_user),
                raw_vector_delete(config, raw_user),
            ]
            if all(t is None for t in raw_times):
                raw_times = [raw_kuzu_delete(store, raw_user)]
            _keep(row, f"raw_delete_{label}_s", sum(t for t in raw_times if t is not None))
        t = time.perf_counter()
        purged = store.purge_expired()
        _keep(row, "purge_s", time.perf_counter() - t)
        assert purged.memories == expired, purged
        _keep(row, "raw_purge_s", raw_delete_ids(store, config, twins))
        live = store.stats()["vectors"]
        _keep(row, "disk_erased", disk_bytes(files) / max(1, live))
    started = time.perf_counter()
    with HybridStore(config) as store:
        _keep(row, "reopen_s", time.perf_counter() - started)
        if compact and store.config.graph.provider == "kuzu":
            report_ = store.compact()
            _keep(row, "compact_s", report_.elapsed_seconds)
            _keep(row, "compact_per_s", live / max(report_.elapsed_seconds, 1e-9))
            _keep(row, "disk_compacted", disk_bytes(files) / max(1, live))
        _clean_up(store, pair)
    _keep(row, "peak_rss_mb", _rss_mb())
    return row


def _clean_up(store: HybridStore, pair: str) -> None:
    """Empty the stores for the next size; a failure is reported, not fatal: the
    measured rows are kept (Neo4j with a 512 MB heap cannot reset 100k memories).
    An embedded pair's files are in a directory of their own, removed at the end:
    nothing to empty (resetting 200k memories took minutes)."""
    if store.config.graph.provider == "kuzu" and store.config.vector.provider != "weaviate":
        return
    try:
        store.reset()
    except StoreError as exc:
        print(f"[{pair}] reset after the run failed: {exc}", flush=True)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'pair':<16}{'memories':>10}{'add_many/s':>12}{'raw/s':>9}{'vs raw':>8}"
        f"{'add p50 ms':>11}{'add/s':>7}{'search 1k':>10}{'100k ms':>9}"
        f"{'del 1k s':>9}{'vs raw':>8}{'del 10k s':>10}{'vs raw':>8}{'Δrss MB':>8}"
        f"{'expired':>8}{'purge s':>8}{'vs raw':>8}"
        f"{'B/mem':>8}{'B/mem left':>11}{'peak MB':>8}{'reopen s':>9}"
    )
    print(f"\n{head}\n{'-' * len(head)}")
    for r in rows:
        print(
            f"{r['pair']:<16}{r['memories']:>10,}{r['add_many_per_s']:>12,.0f}"
            f"{r['raw_per_s']:>9,.0f}{r['add_many_sample_per_s'] / r['raw_per_s']:>7.2f}x"
            f"{r['add_p50_ms']:>11.1f}{r['add_per_s']:>7.0f}"
            f"{_fmt(r['search_1k_ms'], '.2f'):>10}{_fmt(r['search_100k_ms'], '.1f'):>9}"
            f"{r['delete_1k_s']:>9.2f}{r['delete_1k_s'] / r['raw_delete_1k_s']:>7.1f}x"
            f"{r['delete_10k_s']:>10.2f}{r['delete_10k_s'] / r['raw_delete_10k_s']:>7.1f}x"
            f"{max(r['delete_1k_rss_mb'], r['delete_10k_rss_mb']):>8.0f}"
            f"{r['expired']:>8,}{r['purge_s']:>8.2f}{r['purge_s'] / r['raw_purge_s']:>7.1f}x"
            f"{r['disk_loaded']:>8,.0f}{r['disk_erased']:>11,.0f}{r['peak_rss_mb']:>8,.0f}"
            f"{r['reopen_s']:>9.2f}"
        )
        if "compact_s" in r:
            print(
                f"{'':<26}compact(): {r['compact_s']:,.1f}s, {r['compact_per_s']:,.0f} live"
                f" memories/s, {r['disk_compacted']:,.0f} B/mem after"
            )
    print(
        "vs raw (ingest): add_many's rate over its first --sample memories / the raw bulk"
        " write's (aim >= 0.5); vs raw (delete): delete_all / the raw one-store deletes"
        " (aim <= 2); purge: purge_expired of the expired memories / the raw deletes of"
        " as many twins by id; Δrss: growth while delete_all ran; B/mem left: bytes per memory"
        " still stored after the erasures (does space come back?)"
    )
    by_pair: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_pair.setdefault(r["pair"], []).append(r)
    for pair, sized in by_pair.items():
        if len(sized) < 2:
            continue
        small, large = sized[0], sized[-1]
        print(
            f"[{pair}] delete_all inside {large['memories']:,} vs inside {small['memories']:,}:"
            f" 1k scope {large['delete_1k_s'] / small['delete_1k_s']:.2f}x,"
            f" 10k scope {large['delete_10k_s'] / small['delete_10k_s']:.2f}x (aim < 1.5x);"
            f" purge per expired memory {_per(large)} vs {_per(small)} ms"
        )


def _per(row: dict[str, Any]) -> str:
    return f"{1000 * row['purge_s'] / max(1, row['expired']):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--memories", type=int, nargs="+", default=[100_000])
    parser.add_argument("--sample", type=int, default=50_000, help="memories in the raw floor")
    parser.add_argument("--pairs", default="kuzu+sqlite", help="default: the embedded default")
    parser.add_argument(
        "--compact", action="store_true", help="time store.compact() after the erasures"
    )
    parser.add_argument(
        "--neo4j-data",
        type=Path,
        default=None,
        help="the Neo4j server's data directory (STATE/neo4j/data for compose/neo4j_native.py)",
    )
    parser.add_argument(
        "--weaviate-data",
        type=Path,
        default=None,
        help="the Weaviate server's data directory (STATE/weaviate for compose/weaviate_native.py)",
    )
    parser.add_argument(
        "--kuzu-buffer-mb",
        type=int,
        default=None,
        help="buffer_pool_mb of each Kuzu file (default: the adapter's)",
    )
    args = parser.parse_args()
    for given in (args.neo4j_data, args.weaviate_data):
        # A wrong directory would report a few bytes per memory instead of failing.
        if given is not None and disk_bytes([given]) == 0:
            raise SystemExit(f"{given} holds no files: is it the server's data directory?")
    rows = []
    with tempfile.TemporaryDirectory(prefix="hybridmem-scale-") as tmp:
        for pair in [p.strip() for p in args.pairs.split(",")]:
            extra = [
                d
                for d, on in ((args.neo4j_data, "neo4j"), (args.weaviate_data, "weaviate"))
                if d is not None and on in pair
            ]
            for total in sorted(args.memories):
                rows.append(
                    measure(
                        pair,
                        total,
                        min(args.sample, total),
                        Path(tmp),
                        extra,
                        args.kuzu_buffer_mb,
                        args.compact,
                    )
                )
                report(rows[-1:])
    if len(rows) > 1:
        report(rows)


if __name__ == "__main__":
    main()
