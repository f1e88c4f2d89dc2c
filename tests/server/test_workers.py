"""``hybridmem serve --workers N`` (issue 23, part 3): N uvicorn workers over one store.

On neo4j+weaviate with the shared journal, a real ``serve --workers 2``: every
worker opens its own store (one lease owner each in Neo4j), concurrent adds,
searches and ``delete_all`` through the REST clients land exactly once, what one
worker wrote or erased is what the other one reads, and SIGTERM closes every
worker's store. Refused, with exit 2 and a message, where workers would be unsafe:
a pair with an embedded file, and a Neo4j graph with ``shared_journal = false``.

Which worker answers is the kernel's choice; a client with one keep-alive
connection is pinned to the worker that accepted it, found through the socket
tables (psutil) and checked again after each call.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest
from neo4j import GraphDatabase

from hybridmem import HybridStore
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.config import HybridMemConfig
from hybridmem.server.workers import CONFIG_ENV, handed_config, handed_to_workers
from hybridmem_neo4j.names import Names
from hybridmem_neo4j.shared_names import SharedNames
from tests.conftest import open_pair, pair_params, selected_pairs
from tests.server.live import HYBRIDMEM, free_port
from tests.shared.conftest import wipe_shared_state  # type: ignore[attr-defined]

T = TypeVar("T")
WORKERS = 2
PREFIX = "ServeWorkers"
DIMENSION = 8
#: Attempts at a fresh connection before giving up on reaching a given worker.
PIN_ATTEMPTS = 200


def _vector(i: int) -> list[float]:
    return [((i * 31 + d * 17) % 97) / 97.0 + 0.01 for d in range(DIMENSION)]


def _toml(config: dict[str, Any]) -> str:
    lines = [f"data_dir = {json.dumps(str(config['data_dir']))}"]
    for section in ("graph", "vector", "embedder", "server"):
        if section in config:
            lines.append(f"[{section}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in config[section].items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(params=pair_params([p for p in selected_pairs() if p == "neo4j+weaviate"]))
def server_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """neo4j+weaviate under a label prefix of this module's, the journal shared."""
    pairs = open_pair(request, request.param)
    config = next(pairs)(tmp_path / "data")
    config["graph"].update({"label_prefix": PREFIX, "shared_journal": True})
    config["embedder"] = {"provider": "hashing", "dimension": DIMENSION}
    wipe_shared_state(config["graph"], PREFIX)
    with HybridStore(config) as store:
        store.reset()
    yield config
    with HybridStore(config) as store:
        store.reset()
    wipe_shared_state(config["graph"], PREFIX)
    next(pairs, None)


def _write(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "hybridmem.toml"
    path.write_text(_toml(config))
    return path


def _owner_pids(graph: dict[str, Any]) -> list[int]:
    """The pid of every live lease owner (one per open HybridStore) of the store."""
    label = SharedNames(Names(PREFIX)).owner
    with GraphDatabase.driver(graph["uri"], auth=(graph["user"], graph["password"])) as driver:
        records, _, _ = driver.execute_query(
            f"MATCH (w:{label}) RETURN w.pid AS pid", database_=graph["database"]
        )
    return sorted(int(r["pid"]) for r in records)


class Served:
    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log
        self.port = int(url.rsplit(":", 1)[1])
        self.worker_pids: list[int] = []
        #: The configuration file the parent handed to its workers.
        self.handoff = Path()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def holder(self, client_port: int) -> int | None:
        """The worker whose socket is the server end of our connection from client_port."""
        for pid in self.worker_pids:
            for conn in _tcp(psutil.Process(pid)):
                if conn.laddr.port == self.port and conn.raddr and conn.raddr.port == client_port:
                    return pid
        return None

    def on_each_worker(self, call: Callable[[HybridMemClient], T]) -> dict[int, T]:
        """``call`` through a connection to each worker in turn: {worker pid: result}."""
        results: dict[int, T] = {}
        for _ in range(PIN_ATTEMPTS):
            transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=1))
            with HybridMemClient(self.url, transport=transport) as client:
                before = _our_ports(self.port)
                client.ready()
                (port,) = _our_ports(self.port) - before
                pid = self.holder(port)
                if pid is None or pid in results:
                    continue
                results[pid] = call(client)
                # Still the same connection: the answer came from that worker.
                assert port in _our_ports(self.port) and self.holder(port) == pid
            if len(results) == len(self.worker_pids):
                return results
        raise AssertionError(f"reached workers {sorted(results)} of {self.worker_pids}")


def _tcp(process: psutil.Process) -> list[Any]:
    # net_connections is psutil 6's name; the test extra allows 5.9 (connections).
    listing = getattr(process, "net_connections", None) or process.connections
    return list(listing(kind="tcp"))


def _our_ports(server_port: int) -> set[int]:
    return {
        c.laddr.port
        for c in _tcp(psutil.Process())
        if c.raddr and c.raddr.port == server_port and c.status == psutil.CONN_ESTABLISHED
    }


def _start(config: Path, workers: int, timeout: float = 120.0) -> Served:
    port = free_port()
    log = config.with_suffix(".log")
    command = [HYBRIDMEM, "serve", "--config", str(config), "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning", "--purge-interval", "0"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    served = Served(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}:\n{served.log_tail()}")
        try:
            if httpx.get(f"{served.url}/readyz", timeout=2).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise TimeoutError(f"serve --workers {workers} not up after {timeout}s:\n{served.log_tail()}")


def _wait_for_owners(graph: dict[str, Any], count: int, timeout: float = 60.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        pids = _owner_pids(graph)
        if len(pids) == count or time.monotonic() > deadline:
            return pids
        time.sleep(0.2)


@contextmanager
def _serving(config: dict[str, Any], tmp_path: Path) -> Iterator[Served]:
    server = _start(_write(tmp_path, config), WORKERS)
    try:
        # The parent's store and one per worker, each with a lease of its own.
        pids = _wait_for_owners(config["graph"], WORKERS + 1)
        children = {p.pid for p in psutil.Process(server.process.pid).children()}
        assert server.process.pid in pids, pids
        server.worker_pids = [p for p in pids if p != server.process.pid]
        assert len(server.worker_pids) == WORKERS and set(server.worker_pids) <= children
        server.handoff = Path(psutil.Process(server.worker_pids[0]).environ()[CONFIG_ENV])
        # Readable by this user only: it holds the stores' passwords and the API keys.
        assert server.handoff.stat().st_mode & 0o777 == 0o600
        assert server.handoff.parent.stat().st_mode & 0o777 == 0o700
        yield server
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            try:
                server.process.wait(60)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


@pytest.fixture
def served(server_pair: dict[str, Any], tmp_path: Path) -> Iterator[Served]:
    with _serving(server_pair, tmp_path) as server:
        yield server


USERS = ("w-alice", "w-bob", "w-carol", "w-dave")


async def _adds_and_searches(url: str, start: int, count: int, users: tuple[str, ...]) -> None:
    """``count`` adds per user and as many searches, all at once, over many connections."""
    async with AsyncHybridMemClient(url) as client:
        adds = [
            client.add(f"{user} fact {i}", embedding=_vector(i), user_id=user)
            for user in users
            for i in range(start, start + count)
        ]
        searches = [
            client.search(embedding=_vector(i), user_id=users[i % len(users)], limit=3)
            for i in range(count)
        ]
        await asyncio.gather(*adds, *searches)


def _texts(client: HybridMemClient, user: str) -> list[str]:
    return sorted(m.text for m in client.get_all(user_id=user, limit=10_000))


def _expected(user: str, *ranges: range) -> list[str]:
    return sorted(f"{user} fact {i}" for r in ranges for i in r)


def test_every_write_lands_once_and_every_worker_reads_it(served: Served) -> None:
    # Writes through each worker by name, and many at once through the pool.
    written = served.on_each_worker(
        lambda c: c.add("written here", embedding=_vector(999), user_id="w-pinned").id
    )
    asyncio.run(_adds_and_searches(served.url, 0, 25, USERS))
    for pid, texts in served.on_each_worker(
        lambda c: {u: _texts(c, u) for u in (*USERS, "w-pinned")}
    ).items():
        for user in USERS:
            # Exactly once: no write lost, none applied twice.
            assert texts[user] == _expected(user, range(25)), (pid, user)
        assert texts["w-pinned"] == ["written here"] * WORKERS, pid
    for pid, ids in served.on_each_worker(
        lambda c: [h.memory.id for h in c.search(embedding=_vector(999), user_id="w-pinned")]
    ).items():
        assert sorted(ids) == sorted(written.values()), pid


def test_delete_all_in_one_worker_erases_for_every_worker(served: Served) -> None:
    asyncio.run(_adds_and_searches(served.url, 0, 20, USERS))
    erased_id = served.on_each_worker(lambda c: c.get_all(user_id=USERS[0])[0].id)
    victim = next(iter(erased_id.values()))

    async def erase_while_writing() -> list[int]:
        async with AsyncHybridMemClient(served.url) as client:
            erasures = asyncio.gather(*(client.delete_all(user_id=user) for user in USERS[:2]))
            results, _ = await asyncio.gather(
                erasures, _adds_and_searches(served.url, 20, 20, USERS[2:])
            )
        return [r.memories for r in results]

    assert asyncio.run(erase_while_writing()) == [20, 20]
    for pid, seen in served.on_each_worker(
        lambda c: (
            {u: _texts(c, u) for u in USERS},
            c.history(victim),
            c.search(embedding=_vector(3), user_id=USERS[0]),
        )
    ).items():
        texts, history, hits = seen
        assert texts[USERS[0]] == [] and texts[USERS[1]] == [], pid
        # The erasure reached the shared history: no worker can read an erased text.
        assert [(e.old_text, e.new_text) for e in history] == [(None, None)] * len(history), pid
        assert hits == [], pid
        for user in USERS[2:]:
            assert texts[user] == _expected(user, range(40)), (pid, user)


def test_sigterm_closes_every_workers_store(served: Served, server_pair: dict[str, Any]) -> None:
    served.on_each_worker(lambda c: c.add("before stop", embedding=_vector(1), user_id="w-stop"))
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(60) == 0, served.log_tail()
    for pid in served.worker_pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    # Each store closed releases its lease: no owner is left to wait out.
    assert _owner_pids(server_pair["graph"]) == []
    # The configuration handed to the workers (passwords, keys) is gone with them.
    assert not served.handoff.exists()
    with HybridStore(_config_of(server_pair)) as store:
        assert [m.text for m in store.get_all(user_id="w-stop")] == ["before stop"] * WORKERS


def _config_of(pair: dict[str, Any]) -> dict[str, Any]:
    return {**pair, "data_dir": str(Path(pair["data_dir"]).parent / "after")}


def _refused(tmp_path: Path, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    command = [HYBRIDMEM, "serve", "--config", str(_write(tmp_path, config)), "--workers", "2"]
    command += ["--port", str(free_port())]
    env = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_refused_on_a_pair_with_an_embedded_file(tmp_path: Path) -> None:
    config = {
        "data_dir": str(tmp_path / "data"),
        "graph": {"provider": "kuzu"},
        "vector": {"provider": "kuzu"},
        "embedder": {"provider": "hashing"},
    }
    done = _refused(tmp_path, config)
    assert done.returncode == 2, done.stderr
    assert "refusing --workers 2" in done.stderr and "embedded Kuzu file" in done.stderr


def test_refused_without_the_shared_journal(server_pair: dict[str, Any], tmp_path: Path) -> None:
    config = {**server_pair, "graph": {**server_pair["graph"], "shared_journal": False}}
    done = _refused(tmp_path, config)
    assert done.returncode == 2, done.stderr
    assert "refusing --workers 2" in done.stderr and "shared_journal = true" in done.stderr


def test_workers_get_the_parents_configuration_keys_and_passwords_included(
    tmp_path: Path,
) -> None:
    settings = HybridMemConfig.load(
        {
            "data_dir": str(tmp_path / "data"),
            "graph": {"provider": "neo4j", "password": "graph-secret", "shared_journal": True},
            "vector": {"provider": "weaviate", "collection": "Handed"},
            "server": {"api_keys": [{"key": "k" * 20, "name": "admin"}]},
        }
    )
    with handed_to_workers(settings) as path:
        assert os.environ[CONFIG_ENV] == str(path)
        handed = handed_config()
        # What the workers authenticate against and open: the same, secrets included.
        assert handed == settings
        assert handed.server.api_keys[0].key.get_secret_value() == "k" * 20
        assert handed.graph.options()["password"] == "graph-secret"
    assert not path.exists() and CONFIG_ENV not in os.environ


def test_an_operation_answered_by_one_worker_resolves_through_the_other(
    server_pair: dict[str, Any], tmp_path: Path
) -> None:
    """A delete_all and a compaction queued behind a claim this test holds (a lease
    every worker sees) are answered 202 by one worker; their URLs are the shared
    journal's records, which the other worker answers: the erasure's pending record
    while it waits (it is journaled before it waits), the compaction's 404, then
    both done with the counts, and the compaction's report."""
    config = {**server_pair, "server": {"erasure_wait_seconds": 0.2}}
    answered: dict[str, httpx.Response] = {}

    def answer_or_read(method: str, path: str, kind: str) -> Callable[[HybridMemClient], Any]:
        def call(client: HybridMemClient) -> Any:
            if kind not in answered:
                answered[kind] = client._http.request(method, path, params=params[kind])
                return "answered"
            return client.operation(answered[kind].json()["operation_id"])

        return call

    params = {"delete_all": {"user_id": "w-queued"}, "compact": None}
    with _serving(config, tmp_path) as served, HybridStore(_config_of(server_pair)) as holder:
        with HybridMemClient(served.url) as client:
            items = [
                {"text": f"q {i}", "embedding": _vector(i), "user_id": "w-queued"}
                for i in range(12)
            ]
            assert client.add_many(items).added == 12
        with holder._coordinator.context.locks.everything():
            for kind, method, path in (
                ("delete_all", "DELETE", "/memories"),
                ("compact", "POST", "/compact"),
            ):
                seen = served.on_each_worker(answer_or_read(method, path, kind))
                other = next(v for v in seen.values() if v != "answered")
                if kind == "delete_all":
                    assert other is not None and (other.state, other.counts) == ("pending", {})
                else:
                    assert other is None, seen
                assert answered[kind].status_code == 202, answered[kind].text
                assert answered[kind].json()["status"] == "queued"
        ids = {kind: answer.json()["operation_id"] for kind, answer in answered.items()}
        deadline = time.monotonic() + 120
        while True:
            records = served.on_each_worker(lambda c: [c.operation(i) for i in ids.values()])
            if all(r is not None and r.state == "done" for rs in records.values() for r in rs):
                break
            assert time.monotonic() < deadline, records
            time.sleep(0.5)
        for pid, (erased, compacted) in records.items():
            assert erased is not None and erased.counts["memories"] == 12, pid
            assert compacted is not None and compacted.kind == "compact", pid
        reports = served.on_each_worker(
            lambda c: c._http.get(f"/compactions/{ids['compact']}").json()
        )
        for pid, report in reports.items():
            # No file rewritten on a server pair: the journal's record is the whole report.
            assert report["operation_id"] == ids["compact"] and report["files"] == [], pid
        with HybridMemClient(served.url) as client:
            assert client.get_all(user_id="w-queued") == []
