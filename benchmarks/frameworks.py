"""The framework integrations against the frameworks' own in-memory stores.

    python benchmarks/frameworks.py                    # 1,000 and 10,000 items: a few minutes
    python benchmarks/frameworks.py --items 1000,100000

Per operation, the median (p50) time in ms and the ratio to the in-memory store,
for each store size in ``--items``. Both hybridmem sides run on
``HybridStore.embedded()``, the embedded default pair: since 2026-12-05 the graph
on LadybugDB (provider ``kuzu``) and the vectors in SQLite, "kuzu+sqlite" (the
runs before that were kuzu+kuzu). The table's header names the pair it ran on,
read from the store's own config:

* LangGraph: ``HybridMemStore`` on an embedded HybridStore against
  ``InMemoryStore``: ``put``, ``get``, ``search`` of one user's namespace, a
  short-prefix ``search(("memories",))``, ``list_namespaces()``, ``delete``; and
  ``HybridStore.add`` alone, the core write a ``put`` is built on.
  Items sit in ``("memories", "user<i>")``, 100 per user.
* LangChain: ``HybridMemVectorStore`` against ``InMemoryVectorStore``:
  ``add_texts`` of 1,000 texts in one call, ``similarity_search(k=4)``,
  ``delete([id])``.

Both sides embed with the same ``DeterministicFakeEmbedding(size=16)``, so no
side pays for a model. The LangGraph store is preloaded through its own
``batch`` of puts (which writes new items with ``add_many``), the VectorStore's
store with ``add_many`` (as ``add_texts`` writes them), the in-memory ones with
their own calls. Each operation runs ``WARMUP`` times untimed, then
``--samples`` times, or fewer when a call takes longer than ``--budget``
seconds in all.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import InMemoryVectorStore
from langgraph.store.base import BaseStore, PutOp
from langgraph.store.memory import InMemoryStore

from hybridmem import HybridStore
from langchain_hybridmem import HybridMemVectorStore
from langgraph_hybridmem import HybridMemStore

DIMS = 16
EMBEDDINGS = DeterministicFakeEmbedding(size=DIMS)
PER_USER = 100


#: Untimed calls before each operation's timed ones: the first writes after a bulk
#: load pay for the engine's checkpoint of it (up to ~90 ms a put at 100,000 items).
WARMUP = 10


def timed(
    call: Callable[[int], Any],
    samples: int,
    budget: float,
    exclude: list[float] | None = None,
) -> float:
    """The p50 of ``call(i)`` in ms over at most ``samples`` calls within ``budget`` s,
    after ``WARMUP`` untimed calls (``call(samples + j)``); minus the time each call
    appends to ``exclude`` (the part it times for another row)."""
    for j in range(WARMUP):
        call(samples + j)
    times: list[float] = []
    deadline = time.monotonic() + budget
    for i in range(samples):
        excluded = len(exclude) if exclude is not None else 0
        started = time.perf_counter()
        call(i)
        spent = (time.perf_counter() - started) * 1000
        if exclude is not None:
            spent -= sum(exclude[excluded:])
        times.append(spent)
        if time.monotonic() > deadline:
            break
    return statistics.median(times)


def _namespace(i: int) -> tuple[str, ...]:
    return ("memories", f"user{i // PER_USER}")


def _value(i: int) -> dict[str, Any]:
    return {"text": f"note {i} about topic {i % 97}", "n": i}


def preload_langgraph(lg: HybridMemStore, items: int) -> None:
    """``items`` items, put through the store's batch (new items: one ``add_many``
    per 1,000, markers of the namespace index included)."""
    for start in range(0, items, 1000):
        chunk = range(start, min(items, start + 1000))
        lg.batch([PutOp(_namespace(i), f"k{i}", _value(i)) for i in chunk])


def langgraph_ops(
    lg: BaseStore,
    items: int,
    samples: int,
    budget: float,
    put: tuple[Callable[[int], None], list[float]] | None = None,
) -> dict[str, float]:
    """``put``: a put that also times another call, and the list it times it into."""
    users = max(1, items // PER_USER)
    results = {
        "put": timed(
            put[0] if put else (lambda i: lg.put(_namespace(i), f"new{i}", _value(items + i))),
            samples,
            budget,
            exclude=put[1] if put else None,
        ),
        "get": timed(
            lambda i: lg.get(_namespace(i * 37 % items), f"k{i * 37 % items}"), samples, budget
        ),
        "search one namespace": timed(
            lambda i: lg.search(("memories", f"user{i % users}"), limit=10), samples, budget
        ),
        'search ("memories",)': timed(
            lambda i: lg.search(("memories",), limit=10), samples, budget
        ),
        "list_namespaces()": timed(lambda i: lg.list_namespaces(limit=100), samples, budget),
        "delete": timed(lambda i: lg.delete(_namespace(i), f"new{i}"), samples, budget),
    }
    return results


def vectorstore_ops(vs: Any, items: int, samples: int, budget: float) -> dict[str, float]:
    texts = [f"document {items + i} about topic {i % 89}" for i in range(1000)]
    started = time.perf_counter()
    ids = vs.add_texts(texts)
    added = (time.perf_counter() - started) * 1000
    return {
        "add_texts (1,000 in one call)": added,
        "similarity_search(k=4)": timed(
            lambda i: vs.similarity_search(f"topic {i % 89}", k=4), samples, budget
        ),
        "delete([id])": timed(lambda i: vs.delete([ids[i]]), samples, budget),
    }


def embedded_pair(root: Path) -> str:
    """``graph+vector`` providers of ``HybridStore.embedded()``, as opened."""
    with HybridStore.embedded(root / "pair") as store:
        return f"{store.config.graph.provider}+{store.config.vector.provider}"


def run_size(
    items: int, samples: int, budget: float, root: Path
) -> list[tuple[str, str, float, float]]:
    rows: list[tuple[str, str, float, float]] = []
    with HybridStore.embedded(root / f"lg{items}") as store:
        lg = HybridMemStore(store, index={"dims": DIMS, "embed": EMBEDDINGS, "fields": ["text"]})
        started = time.monotonic()
        preload_langgraph(lg, items)
        print(
            f"  preloaded {items} LangGraph items in {time.monotonic() - started:.1f} s", flush=True
        )
        vector = EMBEDDINGS.embed_query("reference")
        add_times: list[float] = []

        def put_then_add(i: int) -> None:
            # The core's own write, timed right after each put (same load, same
            # scope): what a put costs beyond the integration.
            lg.put(_namespace(i), f"new{i}", _value(items + i))
            started = time.perf_counter()
            # With an id of the caller's, as put's: the core checks it under the claim.
            store.add(
                f"reference {i}", embedding=vector, user_id="user0", memory_id=str(uuid.uuid4())
            )
            add_times.append((time.perf_counter() - started) * 1000)

        ours = langgraph_ops(lg, items, samples, budget, put=(put_then_add, add_times))
        ours["HybridStore.add (reference)"] = statistics.median(add_times[WARMUP:])
    memory = InMemoryStore(index={"dims": DIMS, "embed": EMBEDDINGS, "fields": ["text"]})
    for i in range(items):
        memory.put(_namespace(i), f"k{i}", _value(i))
    theirs = langgraph_ops(memory, items, samples, budget)
    rows += [("LangGraph store", op, ours[op], theirs.get(op, float("nan"))) for op in ours]
    with HybridStore.embedded(root / f"vs{items}") as store:
        vs = HybridMemVectorStore(store, EMBEDDINGS, user_id="bench")
        texts = [f"document {i} about topic {i % 89}" for i in range(items)]
        store.add_many(
            (
                {"text": t, "embedding": EMBEDDINGS.embed_query(t), "user_id": "bench"}
                for t in texts
            ),
            batch_size=1000,
        )
        ours = vectorstore_ops(vs, items, samples, budget)
    reference = InMemoryVectorStore(EMBEDDINGS)
    reference.add_texts([f"document {i} about topic {i % 89}" for i in range(items)])
    theirs = vectorstore_ops(reference, items, samples, budget)
    rows += [("LangChain VectorStore", op, ours[op], theirs[op]) for op in ours]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", default="1000,10000", help="store sizes, comma-separated")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per operation at most")
    args = parser.parse_args()
    sizes = [int(s) for s in args.items.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        pair = embedded_pair(Path(tmp))
        print(f"frameworks.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {pair}, p50 in ms")
        table: list[str] = [
            f"| store | operation | items | hybridmem {pair} (ms) | in-memory (ms) | ratio |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
        ]
        for items in sizes:
            print(f"{items} items:", flush=True)
            for store, op, ours, theirs in run_size(items, args.samples, args.budget, Path(tmp)):
                if math.isnan(theirs):  # no in-memory counterpart
                    table.append(f"| {store} | {op} | {items:,} | {ours:.3f} | n/a | n/a |")
                    print(table[-1], flush=True)
                    continue
                ratio = ours / theirs if theirs > 0 else float("inf")
                table.append(
                    f"| {store} | {op} | {items:,} | {ours:.3f} | {theirs:.3f} | {ratio:,.0f}x |"
                )
                print(table[-1], flush=True)
    print("\n" + "\n".join(table))


if __name__ == "__main__":
    main()
