"""Run a real Weaviate server built from the Go module proxy: no Docker, no image.

    python -m hybridmem_weaviate.native_server build          # go install, cached per version
    python -m hybridmem_weaviate.native_server time-cached-build   # what a warm-cache rebuild costs
    python -m hybridmem_weaviate.native_server start --state DIR --print-env
    python -m hybridmem_weaviate.native_server stop --state DIR

Tests import ``start()`` for throwaway servers (own ports and data directory,
e.g. a small QUERY_MAXIMUM_RESULTS, or one to kill mid-erasure); ``launcher`` is
this adapter's ``hybridmem.testing.launchers.Launcher`` (what
``python -m hybridmem.testing.servers start`` runs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hybridmem.testing import native_process
from hybridmem.testing.launchers import ServerUnavailable
from hybridmem.testing.native_process import free_port

VERSION = os.environ.get("HYBRIDMEM_WEAVIATE_VERSION", "1.36.10")
CACHE = Path(os.environ.get("HYBRIDMEM_CACHE", Path.home() / ".cache" / "hybridmem"))


def binary(version: str = VERSION) -> Path:
    return CACHE / "weaviate" / f"v{version}" / "bin" / "weaviate-server"


def build(version: str = VERSION) -> Path:
    """``go install`` from the module proxy (no cgo); the binary is cached per version."""
    target = binary(version)
    if target.exists():
        print(f"weaviate v{version}: cached build at {target}", file=sys.stderr)
        return target
    started = time.monotonic()
    _go_install(version, target.parent)
    print(f"weaviate v{version}: built in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return target


def _go_install(version: str, bin_dir: Path) -> None:
    # Module and build caches live under CACHE too, so one directory is all a CI
    # cache has to keep.
    subprocess.run(
        ["go", "install", f"github.com/weaviate/weaviate/cmd/weaviate-server@v{version}"],
        check=True,
        env={
            **os.environ,
            "CGO_ENABLED": "0",
            "GOBIN": str(bin_dir),
            "GOMODCACHE": str(CACHE / "go" / "mod"),
            "GOCACHE": str(CACHE / "go" / "build"),
            "GOFLAGS": "-modcacherw",
        },
    )


def time_cached_build(version: str = VERSION) -> float:
    """Rebuild into a scratch directory with warm module and build caches: what a
    CI run with a restored cache but no binary pays."""
    build(version)
    with tempfile.TemporaryDirectory() as scratch:
        started = time.monotonic()
        _go_install(version, Path(scratch))
        seconds = time.monotonic() - started
    print(f"weaviate v{version}: cached rebuild in {seconds:.0f}s", file=sys.stderr)
    return seconds


@dataclass
class WeaviateProcess(native_process.ServerProcess):
    data_dir: Path
    http_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    env_overrides: dict[str, str] = field(default_factory=dict)
    # Fixed for the life of this object, so a restart finds its cluster state.
    gossip_port: int = field(default_factory=free_port)
    data_port: int = field(default_factory=free_port)
    raft_port: int = field(default_factory=free_port)
    raft_rpc_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    start_seconds: float = 0.0
    host: str = "127.0.0.1"

    def start(self, timeout: float = 120.0) -> WeaviateProcess:
        exe = build()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true",
            "PERSISTENCE_DATA_PATH": str(self.data_dir),
            "DEFAULT_VECTORIZER_MODULE": "none",
            "ENABLE_MODULES": "",
            "DISABLE_TELEMETRY": "true",
            "GO_PROFILING_DISABLE": "true",
            "CLUSTER_HOSTNAME": "node1",
            "CLUSTER_GOSSIP_BIND_PORT": str(self.gossip_port),
            "CLUSTER_DATA_BIND_PORT": str(self.data_port),
            # No private address on these machines: memberlist must bind loopback.
            "CLUSTER_BIND_ADDR": "127.0.0.1",
            "CLUSTER_ADVERTISE_ADDR": "127.0.0.1",
            "RAFT_PORT": str(self.raft_port),
            "RAFT_INTERNAL_RPC_PORT": str(self.raft_rpc_port),
            "RAFT_BOOTSTRAP_EXPECT": "1",
            "GRPC_PORT": str(self.grpc_port),
            "LOG_LEVEL": "warning",
            **self.env_overrides,
        }
        started = time.monotonic()
        self.process = native_process.spawn(
            [str(exe), "--host", self.host, "--port", str(self.http_port), "--scheme", "http"],
            self.data_dir / "weaviate.log",
            env,
        )
        deadline = time.monotonic() + timeout
        url = f"http://{self.host}:{self.http_port}/v1/.well-known/ready"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise native_process.exited_error(
                    "weaviate", self.process, self.data_dir / "weaviate.log"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        self.start_seconds = time.monotonic() - started
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"weaviate at {url} not ready after {timeout}s")


def start(data_dir: Path, **env_overrides: str) -> WeaviateProcess:
    return WeaviateProcess(data_dir, env_overrides=dict(env_overrides)).start()


def _start_recorded(state_dir: Path) -> WeaviateProcess:
    """A server under ``state_dir/weaviate``, its pid in ``state_dir/weaviate.pid``;
    one that fails to become ready is killed rather than left running."""
    server = WeaviateProcess(state_dir / "weaviate")
    try:
        server.start()
    except BaseException:
        server.kill()
        raise
    native_process.write_pid_file(state_dir, "weaviate", server.process)
    print(
        f"weaviate v{VERSION} ready at http://{server.host}:{server.http_port}"
        f" (grpc {server.grpc_port}) in {server.start_seconds:.1f}s",
        file=sys.stderr,
    )
    return server


def _env(server: WeaviateProcess) -> dict[str, str]:
    return {
        "HYBRIDMEM_TEST_WEAVIATE_HOST": server.host,
        "HYBRIDMEM_TEST_WEAVIATE_HTTP_PORT": str(server.http_port),
        "HYBRIDMEM_TEST_WEAVIATE_GRPC_PORT": str(server.grpc_port),
    }


class WeaviateLauncher:
    """The ``Launcher`` of ``hybridmem.testing.launchers`` for Weaviate (one server
    for the ``weaviate`` and ``weaviate_mt`` backends)."""

    name = "weaviate"
    given_by = "HYBRIDMEM_TEST_WEAVIATE_HOST"
    compose_file: Path | None = Path(__file__).with_name("docker-compose.yml")

    def prepare(self, *, timed: bool = False) -> None:
        if not binary().exists() and shutil.which("go") is None:
            raise ServerUnavailable("no go on PATH to build weaviate-server")
        # First build ~4 min on 2 cores; binary, module and build caches are kept
        # under HYBRIDMEM_CACHE. Both times go to stderr.
        build()
        if timed:
            time_cached_build()

    def start(self, state_dir: Path) -> dict[str, str]:
        return _env(_start_recorded(state_dir))

    def stop(self, state_dir: Path) -> None:
        native_process.stop_pid_file(state_dir, "weaviate", WeaviateProcess.stop_seconds)


launcher = WeaviateLauncher()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hybridmem_weaviate.native_server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["build", "time-cached-build", "start", "stop"])
    parser.add_argument("--state", type=Path)
    parser.add_argument("--print-env", action="store_true")
    args = parser.parse_args()
    if args.command == "build":
        print(build())
        return
    if args.command == "time-cached-build":
        time_cached_build()
        return
    if args.state is None:
        parser.error("--state is required")
    if args.command == "start":
        server = _start_recorded(args.state)
        if args.print_env:
            for name, value in _env(server).items():
                print(f"export {name}={value}")
        return
    launcher.stop(args.state)


if __name__ == "__main__":
    main()
