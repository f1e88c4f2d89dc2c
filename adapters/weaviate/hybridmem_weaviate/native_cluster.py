"""A three-node Weaviate cluster on 127.0.0.1: one binary, distinct ports, no Docker.

    python -m hybridmem_weaviate.native_cluster start --state DIR --print-env
    python -m hybridmem_weaviate.native_cluster stop --state DIR

Tests import ``WeaviateCluster`` to stop and restart single nodes (replicated
deletes). Each node is a ``WeaviateProcess`` from ``native_server.py`` (same
binary, same base environment) with its own data directory and ports.

Facts found running Weaviate v1.36.10 this way (from its source,
usecases/config/environment.go, cluster/resolver/*.go, usecases/cluster/state.go,
adapters/handlers/rest/configure_api.go and tools/dev/run_dev_server.sh, then
checked here):

- ``CLUSTER_IN_LOCALHOST=true`` is required as soon as nodes share a host with
  distinct ports; SERVERS.md does not mention it. Without it the raft resolver
  dials every peer on the *local* ``RAFT_PORT`` and the internal RPC client on
  the local ``RAFT_INTERNAL_RPC_PORT``. With it, a peer's raft port comes from
  ``RAFT_JOIN`` and its RPC port is taken to be raft port + 1, so each node's
  ``RAFT_INTERNAL_RPC_PORT`` must be exactly its ``RAFT_PORT + 1`` (the
  launcher allocates the two as a consecutive pair). Checked: with
  ``CLUSTER_IN_LOCALHOST=false`` the nodes log "could not join a cluster" and
  none is ready after 60s.
- ``RAFT_JOIN`` is ``name:raft_port`` per node, comma separated, identical on
  every node (``node1:P1,node2:P2,node3:P3``); the first
  ``RAFT_BOOTSTRAP_EXPECT`` (=3) names are the voters.
- Peers' data ports (replication traffic) are not configured anywhere else:
  each node advertises its ``CLUSTER_DATA_BIND_PORT`` in memberlist metadata.
- ``CLUSTER_JOIN`` is a comma-separated list of ``host:gossip_port``; a node
  whose join list answers nowhere *exits* ("join cluster" error). So the first
  node starts with no join list, the others join it once its gossip port
  listens, and a restarted node joins the nodes still running.
- ``CLUSTER_BIND_ADDR``/``CLUSTER_ADVERTISE_ADDR=127.0.0.1`` (from
  native_server.py) are kept: loopback only.
- ``/v1/.well-known/ready`` answers 200 on a node only once raft has a leader
  (``ClusterService.Ready()``, i.e. raft bootstrapped with its
  ``RAFT_BOOTSTRAP_EXPECT`` voters), so the three processes are started together
  and each is awaited in its own thread rather than one after the other.
- ``GOMEMLIMIT`` keeps each node's heap modest (384MiB here); three idle nodes
  use about 120 MB of RSS each.
- Measured on 2 busy cores: three fresh nodes to "all ready, each lists three
  HEALTHY nodes" in 6.3-9.5s (``form_seconds``). A node stopped with SIGTERM
  leaves memberlist at once: the others drop it from ``GET /v1/nodes`` within a
  second and stay ready. After SIGKILL, ``GET /v1/nodes`` on the survivors
  answers 500 for ~4-6s, then lists two nodes (the dead one is gone). Restarting a
  node on its ports and data directory until the cluster is whole again:
  2.4-3.6s after SIGTERM, 8-11s after SIGKILL (``restart_seconds``).
- Replication behaviour this cluster exposed (details and numbers in
  tests/reliability/test_weaviate_replication.py): consistency level ALL counts
  only the replicas that are live memberlist members (cluster/router/router.go,
  ``buildReplicas``), so a delete at ALL succeeds on two of three nodes once the
  third has left or been declared dead; a replica that missed a delete serves
  the deleted objects at ONE after it returns (async replication is off by
  default in 1.36); after SIGKILL a replica's HNSW index misses about the last
  vector written to each shard.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridmem.testing.native_process import free_port, stop_pid
from hybridmem_weaviate import native_server as native

WeaviateProcess = native.WeaviateProcess
HOST = "127.0.0.1"


def free_port_pair() -> int:
    """A port P such that P and P + 1 are both free (raft and raft RPC)."""
    return free_port(2)


def _get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class WeaviateCluster:
    """``size`` Weaviate nodes forming one cluster on 127.0.0.1, under ``root``."""

    root: Path
    size: int = 3
    env_overrides: dict[str, str] = field(default_factory=dict)
    memory_limit: str = "384MiB"
    nodes: list[Any] = field(default_factory=list)
    form_seconds: float = 0.0
    restart_seconds: float = 0.0

    def __post_init__(self) -> None:
        if not self.nodes:
            for i in range(self.size):
                raft = free_port_pair()
                self.nodes.append(
                    WeaviateProcess(
                        self.root / f"node{i + 1}",
                        raft_port=raft,
                        raft_rpc_port=raft + 1,
                    )
                )

    # -- addresses ------------------------------------------------------------------

    def name(self, index: int) -> str:
        return f"node{index + 1}"

    def node(self, index: int) -> Any:
        return self.nodes[index]

    def running(self, index: int) -> bool:
        return bool(self.nodes[index].running())

    def _env(self, index: int, join: list[int]) -> dict[str, str]:
        node = self.nodes[index]
        raft_join = ",".join(f"{self.name(i)}:{n.raft_port}" for i, n in enumerate(self.nodes))
        env = {
            "CLUSTER_HOSTNAME": self.name(index),
            "CLUSTER_IN_LOCALHOST": "true",
            "CLUSTER_GOSSIP_BIND_PORT": str(node.gossip_port),
            "CLUSTER_DATA_BIND_PORT": str(node.data_port),
            "RAFT_PORT": str(node.raft_port),
            "RAFT_INTERNAL_RPC_PORT": str(node.raft_rpc_port),
            "RAFT_JOIN": raft_join,
            "RAFT_BOOTSTRAP_EXPECT": str(self.size),
            "GOMEMLIMIT": self.memory_limit,
            **self.env_overrides,
        }
        if join:
            env["CLUSTER_JOIN"] = ",".join(f"{HOST}:{self.nodes[i].gossip_port}" for i in join)
        return env

    # -- lifecycle ------------------------------------------------------------------

    def start(self, timeout: float = 180.0) -> WeaviateCluster:
        """Start every node and wait until each is ready and sees all the others."""
        started = time.monotonic()
        deadline = started + timeout
        try:
            first = self.nodes[0]
            first.env_overrides = self._env(0, join=[])
            with ThreadPoolExecutor(self.size) as pool:
                futures = [pool.submit(first.start, timeout)]
                # Joining a seed whose gossip port is not yet open makes a node exit.
                while not _listening(first.gossip_port):
                    if first.process is not None and first.process.poll() is not None:
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{self.name(0)}: gossip port never opened")
                    time.sleep(0.1)
                for i in range(1, self.size):
                    self.nodes[i].env_overrides = self._env(i, join=[0])
                    futures.append(pool.submit(self.nodes[i].start, timeout))
                for future in futures:
                    future.result()
            self.wait_formed(deadline - time.monotonic())
        except BaseException:
            self.stop()
            raise
        self.form_seconds = time.monotonic() - started
        return self

    def stop_node(self, index: int) -> None:
        """Stop one node gracefully (SIGTERM); its data directory and ports stay."""
        self.nodes[index].stop()

    def kill_node(self, index: int) -> None:
        self.nodes[index].kill()

    def start_node(self, index: int, timeout: float = 120.0) -> None:
        """Restart one node on the same ports and data directory, and wait until the
        whole cluster is formed again."""
        started = time.monotonic()
        others = [i for i in range(self.size) if i != index and self.running(i)]
        node = self.nodes[index]
        node.env_overrides = self._env(index, join=others)
        node.start(timeout)
        self.wait_formed(timeout - (time.monotonic() - started))
        self.restart_seconds = time.monotonic() - started

    def stop(self) -> None:
        # Every node is stopped even if one of them fails to.
        errors: list[BaseException] = []
        for node in reversed(self.nodes):
            try:
                node.stop()
            except BaseException as exc:
                errors.append(exc)
                node.kill()
        if errors:
            raise errors[0]

    def __enter__(self) -> WeaviateCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- health -----------------------------------------------------------------------

    def nodes_seen_by(self, index: int) -> dict[str, str]:
        """``GET /v1/nodes`` on one node: node name -> status."""
        node = self.nodes[index]
        body = _get_json(f"http://{HOST}:{node.http_port}/v1/nodes")
        return {n["name"]: n.get("status", "") for n in body.get("nodes", [])}

    def ready(self, index: int) -> bool:
        node = self.nodes[index]
        try:
            url = f"http://{HOST}:{node.http_port}/v1/.well-known/ready"
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def wait_formed(self, timeout: float = 120.0) -> None:
        """Every running node is ready and lists all ``size`` nodes as HEALTHY."""
        deadline = time.monotonic() + max(timeout, 1.0)
        expected = {self.name(i): "HEALTHY" for i in range(self.size)}
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = {}
            for i in range(self.size):
                if not self.running(i):
                    last[self.name(i)] = "not running"
                    continue
                try:
                    last[self.name(i)] = self.ready(i) and self.nodes_seen_by(i)
                except OSError as exc:
                    last[self.name(i)] = str(exc)
            if all(seen == expected for seen in last.values()) and len(last) == self.size:
                return
            time.sleep(0.5)
        raise TimeoutError(f"weaviate cluster not formed after {timeout:.0f}s: {last}")

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": self.name(i),
                "http_port": n.http_port,
                "grpc_port": n.grpc_port,
                "gossip_port": n.gossip_port,
                "data_port": n.data_port,
                "raft_port": n.raft_port,
                "raft_rpc_port": n.raft_rpc_port,
                "data_dir": str(n.data_dir),
                "pid": n.process.pid if n.process is not None else None,
            }
            for i, n in enumerate(self.nodes)
        ]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hybridmem_weaviate.native_cluster",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--print-env", action="store_true")
    args = parser.parse_args()
    state_file = args.state / "weaviate-cluster.json"
    if args.command == "start":
        cluster = WeaviateCluster(args.state / "weaviate-cluster").start()
        state_file.write_text(json.dumps(cluster.describe(), indent=2))
        print(
            f"weaviate v{native.VERSION}: {cluster.size}-node cluster formed in"
            f" {cluster.form_seconds:.1f}s; http ports"
            f" {[n.http_port for n in cluster.nodes]}",
            file=sys.stderr,
        )
        if args.print_env:
            first = cluster.nodes[0]
            every = ",".join(f"{n.http_port}:{n.grpc_port}" for n in cluster.nodes)
            print(f"export HYBRIDMEM_TEST_WEAVIATE_CLUSTER_HOST={HOST}")
            print(f"export HYBRIDMEM_TEST_WEAVIATE_CLUSTER_HTTP_PORT={first.http_port}")
            print(f"export HYBRIDMEM_TEST_WEAVIATE_CLUSTER_GRPC_PORT={first.grpc_port}")
            # Every node as http_port:grpc_port, node1 first.
            print(f"export HYBRIDMEM_TEST_WEAVIATE_CLUSTER_NODES={every}")
        return
    if not state_file.exists():
        return
    for node in json.loads(state_file.read_text()):
        if node.get("pid"):
            stop_pid(node["pid"], WeaviateProcess.stop_seconds)
    state_file.unlink()
    shutil.rmtree(args.state / "weaviate-cluster", ignore_errors=True)


if __name__ == "__main__":
    main()
