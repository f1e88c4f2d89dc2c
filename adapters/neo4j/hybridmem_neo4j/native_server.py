"""Run a real Neo4j 5.26 community server from Maven Central jars on Java 17.

    python -m hybridmem_neo4j.native_server fetch                    # jars into the cache (once)
    python -m hybridmem_neo4j.native_server start --state DIR --print-env   # export lines
    python -m hybridmem_neo4j.native_server stop --state DIR

No Docker and no tarball: the server comes in through the ``org.neo4j:neo4j``
artifact's runtime dependencies (``mvn dependency:copy-dependencies`` on a
generated pom) and runs ``CommunityEntryPoint`` directly. Tests import
``start()`` to run throwaway servers of their own (own home and port);
``launcher`` is this adapter's ``hybridmem.testing.launchers.Launcher`` (what
``python -m hybridmem.testing.servers start`` runs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from hybridmem.testing import native_process
from hybridmem.testing.launchers import ServerUnavailable
from hybridmem.testing.native_process import free_port

VERSION = os.environ.get("HYBRIDMEM_NEO4J_VERSION", "5.26.31")
PASSWORD = "hybridmem-test"
CACHE = Path(os.environ.get("HYBRIDMEM_CACHE", Path.home() / ".cache" / "hybridmem"))

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>hybridmem</groupId><artifactId>neo4j-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.neo4j</groupId><artifactId>neo4j</artifactId>
      <version>{version}</version></dependency>
  </dependencies>
</project>
"""

# What the stock launcher adds; without them Netty and the page cache fail on 17.
_JVM_FLAGS = [
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-XX:+UseG1GC",
]


def lib_dir(version: str = VERSION) -> Path:
    return CACHE / "neo4j" / version / "lib"


def fetch(version: str = VERSION) -> Path:
    """The server's jars, downloaded once per version."""
    lib = lib_dir(version)
    marker = lib / ".complete"
    if marker.exists():
        return lib
    work = lib.parent / "pom"
    work.mkdir(parents=True, exist_ok=True)
    (work / "pom.xml").write_text(_POM.format(version=version))
    started = time.monotonic()
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(work / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={lib}",
        ],
        check=True,
    )
    size = sum(p.stat().st_size for p in lib.glob("*.jar"))
    marker.write_text(json.dumps({"seconds": round(time.monotonic() - started, 1), "bytes": size}))
    print(
        f"neo4j {version}: fetched {size / 2**20:.0f} MB of jars in "
        f"{time.monotonic() - started:.0f}s",
        file=sys.stderr,
    )
    return lib


@dataclass
class Neo4jProcess(native_process.ServerProcess):
    stop_seconds: ClassVar[float] = 60.0

    home: Path
    bolt_port: int
    password: str
    heap: str
    pagecache: str
    process: subprocess.Popen[bytes] | None = None
    start_seconds: float = 0.0

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def _write_config(self) -> None:
        conf = self.home / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        for sub in ("data", "logs", "plugins", "import", "run"):
            (self.home / sub).mkdir(exist_ok=True)
        (conf / "neo4j.conf").write_text(
            "\n".join(
                [
                    "server.default_listen_address=127.0.0.1",
                    "server.default_advertised_address=127.0.0.1",
                    f"server.bolt.listen_address=127.0.0.1:{self.bolt_port}",
                    "server.http.enabled=false",
                    "server.https.enabled=false",
                    f"server.memory.heap.initial_size={self.heap}",
                    f"server.memory.heap.max_size={self.heap}",
                    f"server.memory.pagecache.size={self.pagecache}",
                    "dbms.security.auth_enabled=true",
                    "db.tx_log.rotation.retention_policy=1 files",
                    "dbms.usage_report.enabled=false",
                ]
            )
            + "\n"
        )

    def _set_password(self, lib: Path) -> None:
        # The same as `neo4j-admin dbms set-initial-password`, run from the jars.
        if (self.home / "data" / "dbms" / "auth.ini").exists():
            return
        subprocess.run(
            [
                "java",
                *_JVM_FLAGS,
                "-cp",
                f"{lib}/*",
                f"-Dneo4j.home={self.home}",
                "org.neo4j.server.startup.Neo4jAdminCommand",
                "dbms",
                "set-initial-password",
                self.password,
            ],
            check=True,
            env={**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.home / "conf")},
            capture_output=True,
        )

    def start(self, timeout: float = 240.0) -> Neo4jProcess:
        lib = fetch()
        self._write_config()
        self._set_password(lib)
        started = time.monotonic()
        self.process = native_process.spawn(
            [
                "java",
                *_JVM_FLAGS,
                f"-Xmx{self.heap}",
                "-cp",
                f"{lib}/*",
                "org.neo4j.server.CommunityEntryPoint",
                f"--home-dir={self.home}",
                f"--config-dir={self.home / 'conf'}",
                "--console-mode",
            ],
            self.home / "logs" / "console.log",
            {**os.environ, "NEO4J_HOME": str(self.home)},
        )
        self.wait_ready(timeout)
        self.start_seconds = time.monotonic() - started
        return self

    def wait_ready(self, timeout: float) -> None:
        from neo4j import GraphDatabase

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise native_process.exited_error(
                    "neo4j", self.process, self.home / "logs" / "console.log"
                )
            try:
                with GraphDatabase.driver(
                    self.uri, auth=("neo4j", self.password), connection_timeout=2
                ) as driver:
                    driver.verify_connectivity()
                    return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.5)
        raise TimeoutError(f"neo4j at {self.uri} not ready after {timeout}s: {last}")


def start(
    home: Path,
    bolt_port: int | None = None,
    *,
    password: str = PASSWORD,
    heap: str = "512m",
    pagecache: str = "128m",
) -> Neo4jProcess:
    return Neo4jProcess(home, bolt_port or free_port(), password, heap, pagecache).start()


def _start_recorded(
    state_dir: Path, heap: str, pagecache: str, bolt_port: int | None = None
) -> Neo4jProcess:
    """A server under ``state_dir/neo4j``, its pid in ``state_dir/neo4j.pid``; one that
    fails to become ready is killed rather than left running."""
    server = Neo4jProcess(state_dir / "neo4j", bolt_port or free_port(), PASSWORD, heap, pagecache)
    try:
        server.start()
    except BaseException:
        server.kill()
        raise
    native_process.write_pid_file(state_dir, "neo4j", server.process)
    print(f"neo4j {VERSION} ready at {server.uri} in {server.start_seconds:.1f}s", file=sys.stderr)
    return server


def _env(server: Neo4jProcess) -> dict[str, str]:
    return {
        "HYBRIDMEM_TEST_NEO4J_URI": server.uri,
        "HYBRIDMEM_TEST_NEO4J_USER": "neo4j",
        "HYBRIDMEM_TEST_NEO4J_PASSWORD": server.password,
    }


class Neo4jLauncher:
    """The ``Launcher`` of ``hybridmem.testing.launchers`` for Neo4j."""

    name = "neo4j"
    given_by = "HYBRIDMEM_TEST_NEO4J_URI"
    compose_file: Path | None = Path(__file__).with_name("docker-compose.yml")

    def prepare(self, *, timed: bool = False) -> None:
        needed = ["java"] if (lib_dir() / ".complete").exists() else ["java", "mvn"]
        missing = [tool for tool in needed if shutil.which(tool) is None]
        if missing:
            raise ServerUnavailable(f"no {' or '.join(missing)} on PATH")
        fetch()

    def start(self, state_dir: Path) -> dict[str, str]:
        return _env(_start_recorded(state_dir, heap="512m", pagecache="128m"))

    def stop(self, state_dir: Path) -> None:
        native_process.stop_pid_file(state_dir, "neo4j", Neo4jProcess.stop_seconds)


launcher = Neo4jLauncher()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hybridmem_neo4j.native_server",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["fetch", "start", "stop"])
    parser.add_argument("--state", type=Path, help="directory for the server's home and pid")
    parser.add_argument("--bolt-port", type=int, default=None)
    parser.add_argument(
        "--print-env", action="store_true", help="print export lines for HYBRIDMEM_TEST_NEO4J_*"
    )
    # The tests' defaults; a benchmark at a million memories wants more of both.
    parser.add_argument("--heap", default="512m", help="JVM heap, e.g. 2g")
    parser.add_argument("--pagecache", default="128m", help="page cache, e.g. 2g")
    args = parser.parse_args()
    if args.command == "fetch":
        print(fetch())
        return
    if args.state is None:
        parser.error("--state is required")
    if args.command == "start":
        server = _start_recorded(args.state, args.heap, args.pagecache, args.bolt_port)
        if args.print_env:
            for name, value in _env(server).items():
                print(f"export {name}={value}")
        return
    launcher.stop(args.state)


if __name__ == "__main__":
    main()
