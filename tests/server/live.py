"""A real ``hybridmem serve`` (uvicorn) in a subprocess on 127.0.0.1, over its own config."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

# The launchers' picker: a port outside the kernel's ephemeral range.
from hybridmem.testing.native_process import free_port

#: The console script of the venv running the tests: what a user runs.
HYBRIDMEM = str(Path(sys.executable).parent / "hybridmem")


def _toml_value(value: Any) -> str:
    # JSON strings, numbers and booleans are valid TOML values.
    return json.dumps(value)


def write_config(
    path: Path,
    data_dir: Path,
    *,
    api_keys: list[dict[str, str]] | None = None,
    graph: dict[str, Any] | None = None,
) -> Path:
    lines = [f"data_dir = {_toml_value(str(data_dir))}"]
    # These tests were written against the 64-dimension placeholder: pin it, so
    # the default (wordllama, when installed) does not change their vectors.
    lines += ["[embedder]", 'provider = "hashing"']
    if graph is not None:
        lines.append("[graph]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in graph.items()]
    for key in api_keys or []:
        lines.append("[[server.api_keys]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in key.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class LiveServer:
    url: str
    config: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def start_server(config: Path, *, timeout: float = 60.0) -> LiveServer:
    port = free_port()
    log = config.with_suffix(".log")
    process = subprocess.Popen(
        [
            HYBRIDMEM,
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", config, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"hybridmem serve exited with {process.returncode}:\n{server.log_tail()}"
            )
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise TimeoutError(f"hybridmem serve not up after {timeout}s:\n{server.log_tail()}")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread of this process, on 127.0.0.1: real
    HTTP for the clients, while the test holds the store's claims itself."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)
