"""A launcher for the generic servers command's tests: a real ``python -m http.server``
per start, named by two backends (as Weaviate's one server serves two), and one
whose machine lacks its tool. Not a test module (no ``test_`` prefix)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from hybridmem.testing import native_process
from hybridmem.testing.launchers import ServerUnavailable
from hybridmem.testing.pair_registry import (
    Registration,
    SectionRequest,
    TestBackend,
    TestPair,
    build_registry,
)

URL_VARIABLE = "HYBRIDMEM_TEST_FAKE_WEB_URL"
PAIRS = "HYBRIDMEM_TEST_PAIRS"


class WebLauncher:
    name = "fakeweb"
    given_by = URL_VARIABLE
    compose_file: Path | None = None

    def prepare(self, *, timed: bool = False) -> None:
        # A tool's chatter on its stdout (as mvn's or go's) must not reach the exports.
        subprocess.run(["echo", "fetching fakeweb"], check=True)

    def start(self, state_dir: Path) -> dict[str, str]:
        root = state_dir / self.name
        root.mkdir(parents=True, exist_ok=True)
        (root / "index.html").write_text("fake server\n")
        port = native_process.free_port()
        process = native_process.spawn(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(root),
            ],
            state_dir / f"{self.name}.log",
            {"PATH": "/usr/bin:/bin"},
        )
        native_process.write_pid_file(state_dir, self.name, process)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return {URL_VARIABLE: url}

    def stop(self, state_dir: Path) -> None:
        native_process.stop_pid_file(state_dir, self.name, grace_seconds=10)


class NoToolLauncher:
    name = "notool"
    given_by = "HYBRIDMEM_TEST_FAKE_NOTOOL_URL"
    compose_file: Path | None = Path("/nonexistent/notool-compose.yml")

    def prepare(self, *, timed: bool = False) -> None:
        raise ServerUnavailable("no notool on PATH")

    def start(self, state_dir: Path) -> dict[str, str]:
        raise AssertionError("an unavailable launcher is never started")

    def stop(self, state_dir: Path) -> None:
        raise AssertionError("an unavailable launcher is never stopped")


web = WebLauncher()
notool = NoToolLauncher()


def _section(role: str, request: SectionRequest) -> dict[str, Any]:
    return {"provider": "fake"}


def _backend(name: str, launcher: str | None) -> TestBackend:
    return TestBackend(name=name, provider=name, section=_section, launcher=launcher)


REGISTRY = build_registry(
    {
        "fake": Registration(
            backends=(
                _backend("emb", None),
                _backend("web", "tests.unit.fake_launcher:web"),
                _backend("web_mt", "tests.unit.fake_launcher:web"),
                _backend("notool", "tests.unit.fake_launcher:notool"),
            ),
            pairs=(
                TestPair("web+notool"),
                TestPair("emb+web"),
                TestPair("emb+emb"),
                TestPair("emb+notool"),
                TestPair("emb+web_mt", kind="tenancy"),
                TestPair("emb+sql", production=True),  # no "sql" backend: left out
            ),
        )
    }
)
