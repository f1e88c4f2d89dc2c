"""One add(), one delete(id), one search: hybridmem against mem0 on the same Weaviate.

    python benchmarks/single_ops.py                      # 2000 preloaded, 200 samples
    python benchmarks/single_ops.py --preload 500 --samples 100 --round 25   # a quick look
    python benchmarks/single_ops.py --pairs neo4j+weaviate,kuzu+weaviate,kuzu+kuzu

Needs the Weaviate server named by HYBRIDMEM_TEST_WEAVIATE_HOST (+ _HTTP_PORT,
_GRPC_PORT), for a neo4j pair the Neo4j server named by HYBRIDMEM_TEST_NEO4J_URI
(+ _USER, _PASSWORD), and mem0 (``pip install mem0ai``). Only the collections
``BenchSingleHm`` and ``BenchSingleMem0`` are created there, and both are
dropped at the end.

Three stores, each preloaded with ``--preload`` memories (scale.py's items,
2 entities and 1 relation each on the hybridmem side):

* **hybridmem** on each pair of ``--pairs`` (neo4j+weaviate by default, with the
  shared journal in Neo4j): ``add_many`` of the preload, then single
  ``store.add()`` calls with 2 entities and 1 relation,
  single ``store.add()`` calls without any (the like-for-like of mem0's), and
  ``store.delete(id)`` of each memory added, timed one by one.
* **mem0 (weaviate)**: ``Memory`` with the ``weaviate`` vector store on the same
  server, ``add(text, infer=False)`` (no LLM, no graph) and ``delete(id)``.
  Its embedder is a LangChain ``Embeddings`` handing back the vector computed
  beforehand for the text (a dict lookup), so both sides store the same vectors
  and no side pays for embedding. mem0 cannot be told the gRPC port (its
  Weaviate store connects to 50051): the port is put in while it connects.
  Its telemetry is off (MEM0_TELEMETRY=False), so no notice or count is fetched.
  The preload runs through ``Memory.add`` with mem0's vector inserts held back
  and sent as one batch at the end (mem0 inserts every memory through a
  weaviate-client batch whose flush waits about a second: 2000 single adds would
  take over half an hour); payloads and history rows are mem0's own.

Each store also holds one scope of ``--search-scope`` memories (1,000), searched
for its 10 nearest: hybridmem's ``search(embedding=..., user_id=..., limit=10)``
and mem0's ``search(query, top_k=10, filters={"user_id": ...}, threshold=0)``
(its embedder hands back the query's vector, as for its adds).

Every operation is measured ``--samples`` times, in rounds of ``--round``:
each round runs each store in turn (the order rotating between rounds), so
that load on the machine falls on every side alike; adds first, then the
deletes of the same ids. ``--warm-up`` untimed adds and deletes per store come
first. The table gives p50 and p90 over all rounds, in milliseconds; the
ratios below it are of p50s measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from delete_scope import pair_config
from scale import _vector, items
from single_ops_report import (
    ADD,
    ADD_PLAIN,
    DELETE,
    DELETE_PLAIN,
    MEM0,
    OPERATIONS,
    SEARCH,
    report,
)

from hybridmem import HybridStore

PREFIX = "BenchSingle"
HM_COLLECTION = f"{PREFIX}Hm"
MEM0_COLLECTION = f"{PREFIX}Mem0"
DIMENSION = len(_vector(0))
BATCH = 2000
PAIRS = ("neo4j+weaviate",)
SCOPE_USER = "singles"
SEARCH_USER = "search-scope"
SEARCH_LIMIT = 10


def hm_collection(pair: str) -> str:
    """Each pair's own collection: two pairs on one collection would be one store."""
    return HM_COLLECTION + pair.split("+")[0].capitalize()


def weaviate_address() -> tuple[str, int, int]:
    return (
        os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HOST", "127.0.0.1"),
        int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_HTTP_PORT", "8080")),
        int(os.environ.get("HYBRIDMEM_TEST_WEAVIATE_GRPC_PORT", "50051")),
    )


def users(count: int, search_scope: int = 0) -> list[str]:
    """The owner of each preloaded memory: 50 background users, then the searched scope."""
    return [f"bg-{i % 50}" for i in range(count)] + [SEARCH_USER] * search_scope


class Side:
    """One store under test: adds memories and deletes them by id."""

    name: str
    graph: bool

    def add(self, text: str, vector: list[float], i: int, graph: bool) -> str:
        raise NotImplementedError

    def delete(self, memory_id: str) -> None:
        raise NotImplementedError

    def search(self, vector: list[float]) -> int:
        """The ``SEARCH_LIMIT`` nearest of the searched scope; how many came back."""
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class HybridSide(Side):
    graph = True

    def __init__(self, pair: str, data_dir: Path, preload: int, search_scope: int) -> None:
        self.name = f"hybridmem {pair}"
        config = pair_config(pair, data_dir)
        config["vector"] = {**config["vector"]}
        if "collection" in config["vector"]:
            config["vector"]["collection"] = hm_collection(pair)
        self.store = HybridStore(config)
        self.store.reset()
        started = time.perf_counter()
        self.store.add_many(items(users(preload, search_scope)), batch_size=BATCH)
        print(
            f"[{self.name}] preloaded {preload:,} in {time.perf_counter() - started:.1f}s",
            flush=True,
        )

    def add(self, text: str, vector: list[float], i: int, graph: bool) -> str:
        if not graph:
            return self.store.add(text, embedding=vector, user_id=SCOPE_USER).id
        topic = f"topic-{i % 50}"
        return self.store.add(
            text,
            embedding=vector,
            user_id=SCOPE_USER,
            entities=[{"name": "me", "type": "person"}, {"name": topic, "type": "topic"}],
            relations=[{"source": "me", "target": topic, "type": "likes"}],
        ).id

    def delete(self, memory_id: str) -> None:
        self.store.delete(memory_id)

    def search(self, vector: list[float]) -> int:
        return len(self.store.search(embedding=vector, user_id=SEARCH_USER, limit=SEARCH_LIMIT))

    def count(self) -> int:
        stats = self.store.stats()
        assert stats["vectors"] == stats["memory_nodes"], stats
        return stats["vectors"]

    def close(self) -> None:
        self.store.close()


def _precomputed_embedder() -> Any:
    """A LangChain embedder that hands back the vector put in ``vectors`` for a text."""
    from langchain_core.embeddings import Embeddings

    class Precomputed(Embeddings):
        def __init__(self) -> None:
            self.vectors: dict[str, list[float]] = {}

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self.vectors[t] for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return self.vectors[text]

    return Precomputed()


@contextlib.contextmanager
def grpc_port_for_mem0(grpc_port: int) -> Iterator[None]:
    """mem0's Weaviate store calls ``weaviate.connect_to_custom`` with gRPC port
    50051 whatever the server's; while it connects, the real port goes in."""
    import weaviate

    original = weaviate.connect_to_custom

    def connect(
        http_host: str,
        http_port: int,
        http_secure: bool,
        grpc_host: str,
        _grpc_port: int,
        grpc_secure: bool,
        **kwargs: Any,
    ) -> weaviate.WeaviateClient:
        return original(
            http_host, http_port, http_secure, grpc_host, grpc_port, grpc_secure, **kwargs
        )

    with mock.patch.object(weaviate, "connect_to_custom", connect):
        yield


class Mem0Side(Side):
    name = MEM0
    graph = False

    def __init__(self, data_dir: Path, preload: int, search_scope: int) -> None:
        # Before mem0 is imported: telemetry off (no PostHog, no notice fetched from
        # GitHub, no extra "mem0migrations" collection), its files in data_dir.
        os.environ["MEM0_TELEMETRY"] = "False"
        os.environ.setdefault("MEM0_DIR", str(data_dir / "mem0-home"))
        logging.getLogger("mem0").setLevel(logging.ERROR)  # "spaCy is not installed"
        from langchain_core.language_models import FakeListChatModel
        from mem0 import Memory

        host, http_port, grpc_port = weaviate_address()
        self.embedder = _precomputed_embedder()
        config = {
            "vector_store": {
                "provider": "weaviate",
                "config": {
                    "collection_name": MEM0_COLLECTION,
                    "embedding_model_dims": DIMENSION,
                    # Not "localhost": mem0 would connect_to_local on the default ports.
                    "cluster_url": f"http://{host}:{http_port}",
                },
            },
            "embedder": {"provider": "langchain", "config": {"model": self.embedder}},
            # infer=False never calls the LLM; a fake one keeps the network out anyway.
            "llm": {
                "provider": "langchain",
                "config": {"model": FakeListChatModel(responses=["{}"])},
            },
            "history_db_path": str(data_dir / "mem0-history.db"),
        }
        with grpc_port_for_mem0(grpc_port), warnings.catch_warnings():
            # mem0 creates its collection with weaviate-client's deprecated arguments.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.memory: Any = Memory.from_config(config)
        started = time.perf_counter()
        self._preload(users(preload, search_scope))
        print(
            f"[{self.name}] preloaded {preload:,} in {time.perf_counter() - started:.1f}s",
            flush=True,
        )

    def _preload(self, owners: list[str]) -> None:
        """``Memory.add`` of each memory with mem0's vector inserts held back, then
        sent in one batch (one insert each would wait on a batch flush)."""
        held: list[tuple[list[float], dict[str, Any], str]] = []
        store = self.memory.vector_store

        def hold(
            vectors: list[list[float]],
            payloads: list[dict[str, Any]] | None = None,
            ids: list[str] | None = None,
        ) -> None:
            assert payloads is not None and ids is not None
            held.extend(zip(vectors, payloads, ids, strict=True))

        store.insert = hold
        try:
            for item in items(owners):
                self.embedder.vectors[item["text"]] = item["embedding"]
                self.memory.add(
                    item["text"], user_id=item["user_id"], agent_id=item["agent_id"], infer=False
                )
        finally:
            del store.insert
        vectors, payloads, ids = (list(column) for column in zip(*held, strict=True))
        store.insert(vectors=vectors, payloads=payloads, ids=ids)
        self.embedder.vectors.clear()

    def add(self, text: str, vector: list[float], i: int, graph: bool) -> str:
        assert not graph, "mem0's add(infer=False) writes no graph"
        self.embedder.vectors[text] = vector
        result = self.memory.add(text, user_id=SCOPE_USER, infer=False)
        del self.embedder.vectors[text]
        memory_id: str = result["results"][0]["id"]
        return memory_id

    def delete(self, memory_id: str) -> None:
        self.memory.delete(memory_id)

    def search(self, vector: list[float]) -> int:
        text = f"query {vector[0]} {vector[1]} {vector[2]}"
        self.embedder.vectors[text] = vector
        found = self.memory.search(
            text, top_k=SEARCH_LIMIT, filters={"user_id": SEARCH_USER}, threshold=0.0
        )
        del self.embedder.vectors[text]
        return len(found["results"])

    def count(self) -> int:
        client = self.memory.vector_store.client
        total: int = client.collections.use(MEM0_COLLECTION).aggregate.over_all().total_count
        return total

    def close(self) -> None:
        assert self.memory._entity_store is None, "mem0 made an entity collection"
        self.memory.vector_store.client.close()
        self.memory.close()


def drop_collections() -> None:
    """Drop this benchmark's collections, by name: never any other."""
    import weaviate

    host, http_port, grpc_port = weaviate_address()
    client = weaviate.connect_to_local(host=host, port=http_port, grpc_port=grpc_port)
    try:
        hm = [hm_collection(pair) for pair in ("kuzu+weaviate", "neo4j+weaviate")]
        for name in (*hm, MEM0_COLLECTION, f"{MEM0_COLLECTION}_entities"):
            assert name.startswith(PREFIX), name
            if client.collections.exists(name):
                client.collections.delete(name)
    finally:
        client.close()


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def chunks(count: int, size: int) -> list[range]:
    return [range(at, min(at + size, count)) for at in range(0, count, size)]


def rotated(sides: Sequence[Side], by: int) -> list[Side]:
    by %= len(sides)
    return [*sides[by:], *sides[:by]]


def warm_up(sides: Sequence[Side], count: int, base: int) -> None:
    """The first statements pay for planning and cold caches: on no side's clock."""
    for side in sides:
        for i in range(count):
            for graph in (True, False) if side.graph else (False,):
                text = f"warm {'graph' if graph else 'plain'} {i}"
                side.delete(side.add(text, _vector(base + i), i, graph))


def run(
    sides: Sequence[Side], samples: int, size: int, base: int
) -> dict[str, dict[str, list[float]]]:
    """Seconds of each operation of each side, measured in alternating rounds."""
    times: dict[str, dict[str, list[float]]] = {
        side.name: {op: [] for op in OPERATIONS} for side in sides
    }
    ids: dict[str, dict[str, list[str]]] = {s.name: {ADD: [], ADD_PLAIN: []} for s in sides}
    rounds = chunks(samples, size)
    for r, chunk in enumerate(rounds):
        for side in rotated(sides, r):
            for op, graph in ((ADD, True), (ADD_PLAIN, False)):
                if graph and not side.graph:
                    continue
                for i in chunk:
                    # Distinct texts and vectors for the two kinds of add.
                    at = base + (i if graph else samples + i)
                    text = f"single {'graph' if graph else 'plain'} {i}"
                    seconds, memory_id = timed(partial(side.add, text, _vector(at), i, graph))
                    times[side.name][op].append(seconds)
                    ids[side.name][op].append(memory_id)
        print(f"adds: round {r + 1}/{len(rounds)} done", flush=True)
    for r, chunk in enumerate(rounds):
        for side in rotated(sides, r):
            for added, op in ((ADD, DELETE), (ADD_PLAIN, DELETE_PLAIN)):
                for i in chunk if ids[side.name][added] else ():
                    memory_id = ids[side.name][added][i]
                    seconds, _ = timed(partial(side.delete, memory_id))
                    times[side.name][op].append(seconds)
        print(f"deletes: round {r + 1}/{len(rounds)} done", flush=True)
    for r, chunk in enumerate(rounds):
        for side in rotated(sides, r):
            for i in chunk:
                seconds, found = timed(partial(side.search, _vector(base + 3 * samples + i)))
                assert found == SEARCH_LIMIT, f"{side.name}: {found} found"
                times[side.name][SEARCH].append(seconds)
        print(f"searches: round {r + 1}/{len(rounds)} done", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preload", type=int, default=2000, help="memories in each store")
    parser.add_argument("--samples", type=int, default=200, help="timed calls per operation")
    parser.add_argument("--round", type=int, default=50, help="operations per store per round")
    parser.add_argument("--warm-up", type=int, default=10, help="untimed adds/deletes per store")
    parser.add_argument(
        "--search-scope", type=int, default=1000, help="memories in the searched scope"
    )
    parser.add_argument("--pairs", default=",".join(PAIRS), help="hybridmem pairs, comma-separated")
    args = parser.parse_args()
    # Vectors of the timed memories follow the preload's, those of the warm-up follow theirs.
    base = args.preload + args.search_scope
    warm_base = base + 2 * args.samples
    drop_collections()  # what an interrupted run left
    sides: list[Side] = []
    try:
        with tempfile.TemporaryDirectory(prefix="hybridmem-single-") as tmp:
            for pair in args.pairs.split(","):
                sides.append(HybridSide(pair, Path(tmp) / pair, args.preload, args.search_scope))
            sides.append(Mem0Side(Path(tmp), args.preload, args.search_scope))
            warm_up(sides, args.warm_up, warm_base)
            times = run(sides, args.samples, args.round, base)
            for side in sides:
                left = side.count()
                expected = args.preload + args.search_scope
                assert left == expected, f"{side.name}: {left} memories left"
            for side in sides:
                side.close()
            sides.clear()
    finally:
        for side in sides:
            with contextlib.suppress(Exception):
                side.close()
        drop_collections()
    report(times, args.preload, args.search_scope, args.samples, args.round)


if __name__ == "__main__":
    main()
