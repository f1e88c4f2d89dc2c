"""REST throughput of ``hybridmem serve --workers N`` on neo4j+weaviate, and the cost
of the shared coordination that makes workers safe, in one run.

    python benchmarks/workers.py                         # 1, 2, 4 workers; 16 clients
    python benchmarks/workers.py --workers 1 2 --seconds 5 --scope 1000

Part 1: ``hybridmem serve --workers N`` (``[graph] shared_journal = true``) for
each N; 16 clients (one keep-alive connection each, asyncio, in this process) run
``POST /search`` for ``--seconds``, then ``POST /memories`` for ``--seconds``:
requests/s and p50. The floor is the 1-worker row, measured in the same run, in
alternating rounds (1, 2, 4, 1, 2, 4, ...: load from elsewhere on the machine
falls on every row); each cell is the median of the rounds. Every acknowledged
add is counted back afterwards (each exactly once). The clients share the
machine's cores with the servers: on a small machine they take a share of the
CPU the workers could use.

Part 2: the per-process SQLite journal against the shared Neo4j journal and
leases, through ``HybridStore`` (the helpers of ``benchmarks/shared_journal.py``):
``add`` p50, ``delete(id)`` p50, ``delete_all`` of each ``--scope`` size.

Servers: as ``benchmarks/shared_journal.py`` (HYBRIDMEM_TEST_NEO4J_URI /
HYBRIDMEM_TEST_WEAVIATE_HOST, or native ones started here and stopped after).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.shared_journal import (  # noqa: E402
    DIMENSION,
    NAMES,
    WARM_UP,
    config,
    measure_adds,
    measure_delete_all,
    servers,
)
from benchmarks.shared_journal import _vector as vector  # noqa: E402
from hybridmem import HybridStore  # noqa: E402

HYBRIDMEM = str(Path(sys.executable).parent / "hybridmem")
#: Memories each client's scope holds for the searches.
SCOPE_SIZE = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml(settings: dict[str, Any]) -> str:
    lines = [f"data_dir = {json.dumps(settings['data_dir'])}"]
    for section in ("graph", "vector", "embedder"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in settings[section].items()]
    return "\n".join(lines) + "\n"


class Served:
    """``hybridmem serve --workers N`` in a subprocess."""

    def __init__(self, toml: Path, workers: int) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [HYBRIDMEM, "serve", "--config", str(toml), "--port", str(port)]
        command += ["--workers", str(workers), "--log-level", "warning", "--purge-interval", "0"]
        self.log = toml.with_name(f"serve-{workers}.log")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"serve --workers {workers} not up: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def _load(
    url: str, clients: int, seconds: float, body: Any, path: str
) -> tuple[int, list[float]]:
    """``clients`` loops of POST ``path`` for ``seconds``: (requests, latencies in ms)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.monotonic() + seconds

    async def client(i: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            k = 0
            while time.monotonic() < stop:
                content = body(i, k)
                started = time.perf_counter()
                response = await http.post(
                    path, content=content, headers={"content-type": "application/json"}
                )
                response.raise_for_status()
                latencies[i].append((time.perf_counter() - started) * 1000)
                k += 1

    began = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.monotonic() - began
    flat = [t for per in latencies for t in per]
    return round(len(flat) / elapsed), flat


def _search_body(i: int, k: int) -> bytes:
    return json.dumps(
        {"embedding": vector(i * 1000 + k), "user_id": f"client{i}", "limit": 10}
    ).encode()


def throughput_round(
    toml: Path, workers: int, clients: int, seconds: float, round_: int
) -> dict[str, float]:
    served = Served(toml, workers)
    try:
        # Each worker's first search of a scope reads it: not what a busy server sees.
        asyncio.run(_load(served.url, clients, 2.0, _search_body, "/search"))
        searches, search_times = asyncio.run(
            _load(served.url, clients, seconds, _search_body, "/search")
        )
        tag = f"w{workers}r{round_}"

        def add_body(i: int, k: int) -> bytes:
            item = {"text": f"{tag} {i} {k}", "embedding": vector(k), "user_id": f"adds-{tag}-{i}"}
            return json.dumps(item).encode()

        adds, add_times = asyncio.run(_load(served.url, clients, seconds, add_body, "/memories"))
        with httpx.Client(base_url=served.url, timeout=120) as http:
            stored = sum(
                len(
                    http.get(
                        "/memories", params={"user_id": f"adds-{tag}-{i}", "limit": 100_000}
                    ).json()
                )
                for i in range(clients)
            )
        # Every acknowledged add stored exactly once (the counts would differ otherwise).
        assert stored == len(add_times), (stored, len(add_times))
    finally:
        served.stop()
    return {
        "searches/s": searches,
        "search p50": statistics.median(search_times),
        "adds/s": adds,
        "add p50": statistics.median(add_times),
    }


def measure_deletes(store: HybridStore, user: str, count: int) -> list[float]:
    """``delete(id)`` of memories added just before, one at a time, in ms."""
    ids = [store.add(f"to delete {i}", embedding=vector(i), user_id=user).id for i in range(count)]
    times = []
    for memory_id in ids:
        started = time.perf_counter()
        store.delete(memory_id)
        times.append((time.perf_counter() - started) * 1000)
    return times


def coordination_cost(
    graph: dict[str, Any], vector_: dict[str, Any], scratch: Path, args: argparse.Namespace
) -> None:
    with ExitStack() as stack:
        stores = {
            shared: stack.enter_context(
                HybridStore(config(graph, vector_, scratch / f"coord-{shared}", shared))
            )
            for shared in (False, True)
        }
        adds: dict[bool, list[float]] = {shared: [] for shared in stores}
        deletes: dict[bool, list[float]] = {shared: [] for shared in stores}
        erasures: dict[tuple[bool, int], list[float]] = {}
        for store in stores.values():
            store.reset()
            measure_adds(store, "warm-up", 0, WARM_UP)
        per_round = max(1, args.adds // args.rounds)
        # Alternating rounds: load from elsewhere on the machine falls on both.
        for r in range(args.rounds):
            for shared, store in stores.items():
                adds[shared] += measure_adds(store, "adds", r * per_round, per_round)
                deletes[shared] += measure_deletes(store, "deletes", per_round)
            for size in args.scope:
                for shared, store in stores.items():
                    erasures.setdefault((shared, size), []).append(measure_delete_all(store, size))
        for store in stores.values():
            store.reset()
            drop = getattr(store.vector, "drop", None)
            if drop is not None:
                drop()
    columns = ["add p50 ms", "delete(id) p50 ms"] + [f"delete_all {n:,} s" for n in args.scope]
    print("\n| journal | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    cells: dict[bool, list[float]] = {
        shared: [statistics.median(adds[shared]), statistics.median(deletes[shared])]
        + [statistics.median(erasures[(shared, n)]) for n in args.scope]
        for shared in stores
    }
    for shared, name in NAMES.items():
        print(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells[shared]) + " |")
    diff = [
        f"{cells[True][0] - cells[False][0]:+.2f} ms",
        f"{cells[True][1] - cells[False][1]:+.2f} ms",
    ] + [f"{cells[True][i] / cells[False][i]:.2f}x" for i in range(2, len(columns))]
    print("| shared against SQLite | " + " | ".join(diff) + " |")


def throughput(
    graph: dict[str, Any], vector_: dict[str, Any], scratch: Path, args: argparse.Namespace
) -> None:
    settings = config(graph, vector_, scratch / "serve", True)
    settings["graph"]["label_prefix"] = settings["vector"]["collection"] = "BenchWorkers"
    settings["embedder"] = {"provider": "hashing", "dimension": DIMENSION}
    toml = scratch / "workers.toml"
    toml.write_text(_toml(settings))
    with HybridStore(settings) as store:
        store.reset()
        store.add_many(
            [
                {"text": f"c{c} m{i}", "embedding": vector(c * 1000 + i), "user_id": f"client{c}"}
                for c in range(args.clients)
                for i in range(SCOPE_SIZE)
            ]
        )
    rows: dict[int, list[dict[str, float]]] = {n: [] for n in args.workers}
    try:
        for r in range(args.throughput_rounds):
            for n in args.workers:
                rows[n].append(throughput_round(toml, n, args.clients, args.seconds, r))
                print(f"  round {r + 1}, {n} worker(s): {rows[n][-1]}", flush=True)
    finally:
        with HybridStore(settings) as store:
            store.reset()
            drop = getattr(store.vector, "drop", None)
            if drop is not None:
                drop()
    keys = ("searches/s", "search p50", "adds/s", "add p50")
    cell = {n: {k: statistics.median(row[k] for row in rows[n]) for k in keys} for n in rows}
    floor = cell[args.workers[0]]
    print(f"\n{args.clients} clients, {args.seconds:g} s per measure, median of rounds")
    print("| workers | searches/s | ratio | search p50 ms | adds/s | ratio | add p50 ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, c in cell.items():
        print(
            f"| {n} | {c['searches/s']:.0f} | {c['searches/s'] / floor['searches/s']:.2f}x"
            f" | {c['search p50']:.1f} | {c['adds/s']:.0f} | {c['adds/s'] / floor['adds/s']:.2f}x"
            f" | {c['add p50']:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--throughput-rounds", type=int, default=2)
    parser.add_argument("--adds", type=int, default=200, help="adds and deletes per journal")
    parser.add_argument("--scope", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rounds", type=int, default=2, help="alternations of part 2")
    args = parser.parse_args()
    # The driver warns of relationship types an empty store has not created yet.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    print(f"{os.cpu_count()} cores; load average at start {os.getloadavg()}", flush=True)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        graph, vector_ = servers(stack, scratch)
        throughput(graph, vector_, scratch, args)
        coordination_cost(graph, vector_, scratch, args)
    print(f"\nload average at end {os.getloadavg()}")


if __name__ == "__main__":
    main()
