"""mem0 by id: what finding a memory by its mem0 id alone costs as the store grows.

    python benchmarks/mem0_lookup.py                         # 10,000 and 100,000 records
    python benchmarks/mem0_lookup.py --records 10000 --pairs kuzu+sqlite

For each size, a fresh store on each pair is filled with mem0 memories (100 per
user, written with ``add_many`` through the integration's ``add_embeddings``, as
mem0 writes them), then a NEW store object and integration are opened on it (so
nothing is remembered from the writes) and the median (p50) time of
``get_by_ids([mem0_id])`` (the store's indexed lookup, then ``store.get`` in the
scope found: what ``mem0.Memory.get`` costs beyond mem0) and of the vector
adapter's ``mem0_records`` alone is printed, over ``--samples`` random ids.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.embeddings import DeterministicFakeEmbedding

from hybridmem import HybridStore
from hybridmem.mem0_lookup import Mem0Lookup
from langchain_hybridmem import HybridMemMem0VectorStore

EMBEDDINGS = DeterministicFakeEmbedding(size=16)
PER_USER = 100
BATCH = 2_000


def _config(pair: str, data_dir: Path) -> dict[str, Any]:
    graph, vector = pair.split("+")
    return {"data_dir": str(data_dir), "graph": {"provider": graph}, "vector": {"provider": vector}}


def _fill(store: HybridStore, records: int) -> list[str]:
    vectorstore = HybridMemMem0VectorStore(store, EMBEDDINGS)
    rng = random.Random(7)
    ids: list[str] = []
    for start in range(0, records, BATCH):
        count = min(BATCH, records - start)
        batch_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]
        payloads = [
            {"data": f"memory {start + i}", "user_id": f"user{(start + i) // PER_USER}"}
            for i in range(count)
        ]
        vectors = [[rng.random() for _ in range(16)] for _ in range(count)]
        vectorstore.add_embeddings(vectors, payloads, batch_ids)
        ids.extend(batch_ids)
    return ids


def _p50_ms(action: Callable[[str], object], ids: list[str]) -> float:
    times = []
    for mem0_id in ids:
        started = time.perf_counter()
        found = action(mem0_id)
        times.append((time.perf_counter() - started) * 1000)
        assert found, mem0_id
    return statistics.median(times)


def run(pair: str, records: int, samples: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(pair, Path(tmp) / "data")
        started = time.perf_counter()
        with HybridStore(config) as store:
            ids = _fill(store, records)
        fill_s = time.perf_counter() - started
        picked = random.Random(11).sample(ids, samples)
        with HybridStore(config) as store:
            vectorstore = HybridMemMem0VectorStore(store, EMBEDDINGS)
            lookup = store.vector
            assert isinstance(lookup, Mem0Lookup)
            for mem0_id in picked[:5]:  # warm-up
                vectorstore.get_by_ids([mem0_id])
            whole = _p50_ms(lambda i: vectorstore.get_by_ids([i]), picked)
            alone = _p50_ms(lambda i: lookup.mem0_records([i]), picked)
    return fill_s, whole, alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="10000,100000")
    parser.add_argument("--pairs", default="kuzu+sqlite,kuzu+kuzu")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("| pair | records | fill (s) | get_by_ids p50 (ms) | mem0_records p50 (ms) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for pair in args.pairs.split(","):
        for records in (int(r) for r in args.records.split(",")):
            fill_s, whole, alone = run(pair, records, args.samples)
            row = f"| {pair} | {records:,} | {fill_s:.1f} | {whole:.2f} | {alone:.2f} |"
            print(row, flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
