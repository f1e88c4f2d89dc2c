"""Writes on the embedded pair (Kuzu graph file + Kuzu vector file), against floors.

    PYTHONPATH=.:adapters/kuzu python benchmarks/kuzu_writes.py [--sizes 10000 100000]
        [--batch 2000] [--dim 256] [--singles 200]

Single writes: ``HybridStore.add`` (2 entities, 1 relation) and ``delete(id)``
p50/p95 after a warm-up, against the floor of one raw autocommitted Kuzu
``CREATE`` of a node (a prepared statement, in a file of its own): an add has to
commit to both files, so 2x the floor is the least it could cost.

Bulk writes: the store filled through ``vector.upsert`` / ``graph.add_memories``
in batches (as ``add_many`` writes them), memories/s measured over a window of
batches once the store holds each size, against a plain COPY of the same rows
(the Vec and Memory nodes and their edges) into raw Kuzu files of the same size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import kuzu
import numpy as np

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

WINDOW = 3  # batches timed at each size


def _vector(i: int, dim: int) -> list[float]:
    return [((i * 2654435761 + k * 40503) % 1000) / 1000.0 + 0.001 for k in range(dim)]


def array_literals(embeddings: list[list[float]]) -> list[str]:
    # As the adapter binds them (a list parameter is far slower): see vector.py.
    matrix = np.asarray(embeddings, dtype=np.float32)
    pattern = "[" + ",".join(["%.9g"] * matrix.shape[1]) + "]"
    return [pattern % tuple(row) for row in matrix.tolist()]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[int(p * (len(ordered) - 1))] * 1000


def _config(data_dir: Path) -> dict[str, Any]:
    return {
        "data_dir": str(data_dir),
        "graph": {"provider": "kuzu"},
        "vector": {"provider": "kuzu"},
    }


def raw_single_floor(root: Path, n: int) -> float:
    db = kuzu.Database(str(root / "floor.kuzu"), buffer_pool_size=64 * 2**20)
    conn = kuzu.Connection(db)
    conn.execute("CREATE NODE TABLE T(id STRING PRIMARY KEY, v STRING)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        stmt = conn.prepare("CREATE (t:T {id: $id, v: $v})")
    times = []
    for i in range(n + 20):
        started = time.perf_counter()
        conn.execute(stmt, {"id": f"n{i}", "v": "x"})
        times.append(time.perf_counter() - started)
    conn.close()
    db.close()
    return _pct(times[20:], 0.5)


def singles(root: Path, n: int, dim: int) -> dict[str, float]:
    with HybridStore(_config(root / "single")) as store:

        def add(i: int) -> str:
            return store.add(
                f"memory {i}",
                embedding=_vector(i, dim),
                user_id="alice",
                entities=[
                    {"name": f"person-{i % 7}", "type": "person"},
                    {"name": f"topic-{i % 11}", "type": "topic"},
                ],
                relations=[
                    {"source": f"person-{i % 7}", "target": f"topic-{i % 11}", "type": "likes"}
                ],
            ).id

        for i in range(30):
            add(i)
        adds, ids = [], []
        for i in range(30, 30 + n):
            started = time.perf_counter()
            ids.append(add(i))
            adds.append(time.perf_counter() - started)
        deletes = []
        for memory_id in ids:
            started = time.perf_counter()
            store.delete(memory_id)
            deletes.append(time.perf_counter() - started)
    return {
        "add_p50": _pct(adds, 0.5),
        "add_p95": _pct(adds, 0.95),
        "delete_p50": _pct(deletes, 0.5),
        "delete_p95": _pct(deletes, 0.95),
    }


def batch_of(start: int, size: int, dim: int) -> tuple[list[VectorRecord], list[MemoryGraph]]:
    stamp = datetime.now(UTC)
    vectors, graphs = [], []
    for i in range(start, start + size):
        user = f"user-{i % 200}"
        mid = str(uuid.UUID(int=i + 1))
        scope = Scope(user_id=user, agent_id=f"agent-{i % 3}")
        entities = (
            EntityRecord(
                entity_id(user, f"topic-{i % 50}", "topic"), f"topic-{i % 50}", "topic", user
            ),
            EntityRecord(
                entity_id(user, f"person-{i % 20}", "person"), f"person-{i % 20}", "person", user
            ),
        )
        relation = RelationRecord(
            relation_id(mid, 0), "talks_about", entities[1].id, entities[0].id, mid, user,
            scope.agent_id, None, stamp,
        )  # fmt: skip
        text = f"memory {i} of {user}"
        vectors.append(
            VectorRecord(
                mid, _vector(i, dim), text, text_hash(text), user, scope.agent_id, None,
                stamp, stamp, {},
            )
        )  # fmt: skip
        node = MemoryNode(mid, user, scope.agent_id, None, stamp, stamp)
        graphs.append(MemoryGraph(node, entities, (relation,)))
    return vectors, graphs


class RawCopy:
    """The floor: the same rows COPYed into bare tables of two Kuzu files."""

    def __init__(self, root: Path, dim: int) -> None:
        self.dim = dim
        self.vdb = kuzu.Database(str(root / "raw-vectors.kuzu"), buffer_pool_size=256 * 2**20)
        self.v = kuzu.Connection(self.vdb)
        self.gdb = kuzu.Database(str(root / "raw-graph.kuzu"), buffer_pool_size=256 * 2**20)
        self.g = kuzu.Connection(self.gdb)
        self.v.execute(
            "CREATE NODE TABLE Vec(id STRING PRIMARY KEY, user_id STRING, agent_id STRING,"
            f" text STRING, metadata STRING, embedding FLOAT[{dim}])"
        )
        self.g.execute(
            "CREATE NODE TABLE Memory(id STRING PRIMARY KEY, user_id STRING, agent_id STRING,"
            " created_at STRING)"
        )
        self.g.execute("CREATE NODE TABLE Entity(id STRING PRIMARY KEY, name STRING)")
        self.g.execute("CREATE REL TABLE MENTIONS(FROM Memory TO Entity)")
        self.g.execute("CREATE REL TABLE RELATES(FROM Entity TO Entity, id STRING)")
        self.entities: set[str] = set()

    def write(self, vectors: list[VectorRecord], graphs: list[MemoryGraph]) -> None:
        literals = array_literals([r.embedding for r in vectors])
        rows = [
            {"id": r.id, "u": r.user_id, "a": r.agent_id, "t": r.text, "m": "{}", "e": e}
            for r, e in zip(vectors, literals, strict=True)
        ]
        self.v.execute(
            "COPY Vec FROM (UNWIND $rows AS x RETURN x.id, x.u, x.a, x.t, x.m,"
            f" CAST(x.e AS FLOAT[{self.dim}]))",
            {"rows": rows},
        )
        new = {e.id: e.name for g in graphs for e in g.entities if e.id not in self.entities}
        self.entities.update(new)
        stamp = graphs[0].node.created_at.isoformat()
        self.g.execute("BEGIN TRANSACTION")
        if new:
            self.g.execute(
                "COPY Entity FROM (UNWIND $rows AS x RETURN x.id, x.n)",
                {"rows": [{"id": k, "n": v} for k, v in new.items()]},
            )
        self.g.execute(
            "COPY Memory FROM (UNWIND $rows AS x RETURN x.id, x.u, x.a, x.c)",
            {"rows": [{"id": g.node.id, "u": g.node.user_id, "a": g.node.agent_id, "c": stamp}
                      for g in graphs]},
        )  # fmt: skip
        self.g.execute(
            "COPY MENTIONS FROM (UNWIND $rows AS x RETURN x.m, x.e)",
            {"rows": [{"m": g.node.id, "e": e.id} for g in graphs for e in g.entities]},
        )
        self.g.execute(
            "COPY RELATES FROM (UNWIND $rows AS x RETURN x.s, x.t, x.id)",
            {"rows": [{"s": r.source_id, "t": r.target_id, "id": r.id}
                      for g in graphs for r in g.relations]},
        )  # fmt: skip
        self.g.execute("COMMIT")


def bulk(root: Path, sizes: list[int], batch: int, dim: int) -> list[dict[str, float]]:
    results = []
    raw = RawCopy(root, dim)
    with HybridStore(_config(root / "bulk")) as store:
        done = 0
        fill_started = time.perf_counter()
        for size in sizes:
            while done < size:
                vectors, graphs = batch_of(done, min(batch, size - done), dim)
                store.vector.upsert(vectors)
                store.graph.add_memories(graphs)
                raw.write(vectors, graphs)
                done += len(vectors)
            print(f"  filled {done:,} in {time.perf_counter() - fill_started:.0f} s", flush=True)
            store_s = raw_s = 0.0
            for _ in range(WINDOW):
                vectors, graphs = batch_of(done, batch, dim)
                started = time.perf_counter()
                store.vector.upsert(vectors)
                store.graph.add_memories(graphs)
                store_s += time.perf_counter() - started
                started = time.perf_counter()
                raw.write(vectors, graphs)
                raw_s += time.perf_counter() - started
                done += batch
            measured = WINDOW * batch
            results.append({"size": size, "store": measured / store_s, "raw": measured / raw_s})
            print(
                f"  at {size:,}: {measured / store_s:,.0f} memories/s,"
                f" raw COPY {measured / raw_s:,.0f}/s",
                flush=True,
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--singles", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        floor = raw_single_floor(root, args.singles)
        single = singles(root, args.singles, args.dim)
        print(f"\nsingle writes ({args.singles}, {args.dim} dims; floor = raw autocommit CREATE)")
        print(f"{'':12}{'p50 ms':>9}{'p95 ms':>9}{'p50/floor':>11}")
        print(f"{'floor':12}{floor:9.2f}{'':9}{1.0:11.1f}")
        for op in ("add", "delete"):
            p50, p95 = single[f"{op}_p50"], single[f"{op}_p95"]
            print(f"{op:12}{p50:9.2f}{p95:9.2f}{p50 / floor:11.1f}")
        if args.sizes:
            print(f"\nbulk writes (batches of {args.batch}, {args.dim} dims)", flush=True)
            rows = bulk(root, sorted(args.sizes), args.batch, args.dim)
            print(f"{'store size':>12}{'memories/s':>12}{'raw COPY/s':>12}{'ratio':>8}")
            for row in rows:
                print(
                    f"{row['size']:12,}{row['store']:12,.0f}{row['raw']:12,.0f}"
                    f"{row['store'] / row['raw']:8.2f}"
                )


if __name__ == "__main__":
    main()
