"""Which embedded vector store backs the default pair: measured, same data, same run.

    python benchmarks/embedded_vector_choice.py            # 20k records, 1k scope
    python benchmarks/embedded_vector_choice.py --n 100000

Candidates: the Kuzu vector store we ship (a second Kuzu file; scope lookups via
primary-key scope nodes; exact cosine ranking inside Kuzu), and LanceDB (BTREE
scalar index on user_id, pre-filtered search, typed filter expressions). Each
gets the same records; the table reports what a memory backend pays for:
single inserts (add), filtered top-10 search (latency and recall against exact
brute force), a scoped delete, and whether every acknowledged write survives a
SIGKILL.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hybridmem.models import Scope
from hybridmem.records import VectorRecord

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
warnings.filterwarnings("ignore", message="create_scalar_index is deprecated")


def records(vectors: np.ndarray, users: list[str], start: int = 0) -> list[VectorRecord]:
    return [
        VectorRecord(
            f"{start + i:08d}-0000-0000-0000-000000000000",
            vectors[i].tolist(),
            f"text {start + i}",
            "h",
            users[i],
            None,
            None,
            STAMP,
            STAMP,
            {},
        )
        for i in range(len(users))
    ]


class KuzuCandidate:
    name = "kuzu (shipped)"

    def __init__(self, path: Path) -> None:
        from hybridmem_kuzu import KuzuVectorStore

        self.store = KuzuVectorStore(path / "vectors.kuzu")

    def load(self, recs: list[VectorRecord]) -> None:
        for i in range(0, len(recs), 5000):
            self.store.upsert(recs[i : i + 5000])

    def insert_one(self, rec: VectorRecord) -> None:
        self.store.upsert([rec])

    def search(self, q: list[float], user: str) -> list[str]:
        return [r.id for r, _ in self.store.search(q, Scope(user_id=user), 10)]

    def delete_scope(self, user: str) -> int:
        return self.store.delete_scope(Scope(user_id=user), 1000)

    def count(self, user: str | None = None) -> int:
        return self.store.count() if user is None else self.store.count_scope(Scope(user_id=user))


class LanceCandidate:
    name = "lancedb"

    def __init__(self, path: Path) -> None:
        import lancedb

        self.db = lancedb.connect(str(path / "lance"))
        self.table: Any = None

    @staticmethod
    def _rows(recs: list[VectorRecord]) -> Any:
        import pyarrow as pa

        dim = len(recs[0].embedding)
        return pa.table(
            {
                "id": [r.id for r in recs],
                "user_id": [r.user_id for r in recs],
                "text": [r.text for r in recs],
                "vector": pa.array([r.embedding for r in recs], type=pa.list_(pa.float32(), dim)),
            }
        )

    def load(self, recs: list[VectorRecord]) -> None:
        self.table = self.db.create_table("vectors", data=self._rows(recs), mode="overwrite")
        self.table.create_scalar_index("user_id", index_type="BTREE")
        self.table.create_scalar_index("id", index_type="BTREE")

    def insert_one(self, rec: VectorRecord) -> None:
        self.table.add(self._rows([rec]))

    @staticmethod
    def _user(user: str) -> Any:
        from lancedb import expr

        return expr.col("user_id") == expr.lit(user)  # typed: no SQL text built from the value

    def search(self, q: list[float], user: str) -> list[str]:
        hits = (
            self.table.search(q)
            .metric("cosine")
            .where(self._user(user), prefilter=True)
            .limit(10)
            .to_list()
        )
        return [h["id"] for h in hits]

    def delete_scope(self, user: str) -> int:
        before = self.count(user)
        self.table.delete(self._user(user))
        return before - self.count(user)

    def count(self, user: str | None = None) -> int:
        if user is None:
            return int(self.table.count_rows())
        return int(self.table.count_rows(f"user_id = '{user}'"))  # benchmark-only literal


CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import numpy as np
from embedded_vector_choice import CANDIDATES, records
cand = CANDIDATES[sys.argv[1]](Path(sys.argv[2]))
rng = np.random.default_rng(7)
base = records(rng.random((10, 16), dtype=np.float32) + 0.01, ["seed"] * 10)
cand.load(base)
with open(Path(sys.argv[2]) / "acked", "a") as acked:
    i = 0
    while True:
        rec = records(rng.random((1, 16), dtype=np.float32) + 0.01, ["crash"], 1000 + i)[0]
        cand.insert_one(rec)
        acked.write(rec.id + "\\n")
        acked.flush()
        __import__("os").fsync(acked.fileno())
        i += 1
"""


def crash_survives(key: str, rounds: int) -> str:
    survived = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, key, tmp, str(Path(__file__).parent)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            acked_file = Path(tmp) / "acked"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if acked_file.exists() and len(acked_file.read_text().split()) >= 20:
                    break
                time.sleep(0.05)
            time.sleep(0.3)
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            acked = set(acked_file.read_text().split()) if acked_file.exists() else set()
            try:
                cand = CANDIDATES[key](Path(tmp))
                if key == "lancedb":
                    cand.table = cand.db.open_table("vectors")
                present = cand.count("crash")
                survived += int(len(acked) > 0 and present >= len(acked))
            except Exception:  # a store that will not reopen fails the round
                pass
    return f"{survived}/{rounds}"


CANDIDATES: dict[str, Any] = {"kuzu": KuzuCandidate, "lancedb": LanceCandidate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--scope", type=int, default=1_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--crash-rounds", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    vectors = rng.random((args.n, args.dim), dtype=np.float32) - 0.5
    users = ["target"] * args.scope + [f"u{i % 100}" for i in range(args.n - args.scope)]
    recs = records(vectors, users)
    target = vectors[: args.scope]
    target_norm = target / np.linalg.norm(target, axis=1, keepdims=True)
    queries = rng.random((args.queries, args.dim), dtype=np.float32) - 0.5
    table = []
    for key, factory in CANDIDATES.items():
        with tempfile.TemporaryDirectory() as tmp:
            cand = factory(Path(tmp))
            started = time.perf_counter()
            cand.load(recs)
            load_s = time.perf_counter() - started
            extra = records(
                rng.random((100, args.dim), dtype=np.float32) + 0.01, ["other"] * 100, args.n
            )
            started = time.perf_counter()
            for rec in extra:
                cand.insert_one(rec)
            insert_ms = (time.perf_counter() - started) / len(extra) * 1000
            latencies, recalls = [], []
            for q in queries:
                started = time.perf_counter()
                got = cand.search(q.tolist(), "target")
                latencies.append((time.perf_counter() - started) * 1000)
                exact = np.argsort(-(target_norm @ (q / np.linalg.norm(q))))[:10]
                want = {recs[i].id for i in exact}
                recalls.append(len(want & set(got)) / 10)
            total_before = cand.count()
            started = time.perf_counter()
            deleted = cand.delete_scope("target")
            delete_s = time.perf_counter() - started
            exact_delete = (
                deleted == args.scope
                and cand.count("target") == 0
                and (cand.count() == total_before - args.scope)
            )
            table.append(
                (
                    factory.name,
                    load_s,
                    insert_ms,
                    statistics.median(latencies),
                    statistics.mean(recalls),
                    delete_s,
                    exact_delete,
                    crash_survives(key, args.crash_rounds),
                )
            )
    print(f"\n{args.n:,} records, dim {args.dim}, scope {args.scope:,} (same data, same run)")
    header = (
        f"{'store':<16}{'bulk load s':>12}{'add ms':>9}{'search ms':>11}{'recall@10':>11}"
        f"{'delete scope s':>16}{'exact':>7}{'acked writes survive SIGKILL':>31}"
    )
    print(header)
    print("-" * len(header))
    for name, load_s, insert_ms, lat, recall, delete_s, exact, crash in table:
        print(
            f"{name:<16}{load_s:>12.2f}{insert_ms:>9.2f}{lat:>11.2f}{recall:>11.2f}"
            f"{delete_s:>16.3f}{exact!s:>7}{crash:>31}"
        )


if __name__ == "__main__":
    main()
