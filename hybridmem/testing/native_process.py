"""Process handling shared by the adapters' native test servers (Neo4j's and
Weaviate's ``native_server``, Weaviate's ``native_cluster``, and any adapter's
launcher): ports, spawning, stopping, pid files.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Self

#: How often a pid is polled while it is given time to exit.
_POLL_SECONDS = 0.5


#: Ports below the kernel's ephemeral range: a port taken from bind(0) is one the
#: kernel may hand to any outgoing connection before the server binds it (CI
#: lost a Weaviate start to exactly that: "bind: address already in use").
_LOWEST_PORT = 15000


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    # All interfaces: a server binding ":port" conflicts with any listener on it.
    with socket.socket() as s:
        try:
            s.bind(("", port))
        except OSError:
            return False
        return True


def free_port(count: int = 1) -> int:
    """A port P such that P .. P + count - 1 are free now and outside the range
    the kernel picks outgoing connections' ports from."""
    high = _ephemeral_low() - count
    if high <= _LOWEST_PORT:
        high = 65535 - count
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randint(_LOWEST_PORT, high)
        if all(_bindable(port + i) for i in range(count)):
            return port
    raise RuntimeError(f"no {count} consecutive free ports in {_LOWEST_PORT}..{high}")


def spawn(cmd: Sequence[str], log_path: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start a server in its own session (a Ctrl-C on the caller does not reach
    it), stdout and stderr appended to ``log_path``."""
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            list(cmd),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
        )


def exited_error(name: str, process: subprocess.Popen[bytes], log_path: Path) -> RuntimeError:
    """A server that died while starting, with the end of its log."""
    tail = log_path.read_text(errors="replace")[-3000:]
    return RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")


class ServerProcess:
    """stop/kill/restart for a launcher's server object (a dataclass with a
    ``process`` field and a ``start()`` that returns it once ready)."""

    #: Seconds a graceful stop may take before SIGKILL.
    stop_seconds: ClassVar[float] = 30.0
    process: subprocess.Popen[bytes] | None

    def start(self) -> Self:
        raise NotImplementedError

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float | None = None) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(self.stop_seconds if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def restart(self) -> Self:
        self.stop()
        return self.start()


def stop_pid(pid: int, grace_seconds: float) -> None:
    """SIGTERM, then SIGKILL if the process outlives ``grace_seconds``; a pid that
    is already gone is not an error (a server started by an earlier ``start``
    command is not our child, so there is no Popen to wait on)."""
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(round(grace_seconds / _POLL_SECONDS)):
            if _exited(pid):
                return
            time.sleep(_POLL_SECONDS)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _exited(pid: int) -> bool:
    """Gone, or a zombie: an orphaned server is reaped by pid 1, which in a
    container may never do it, so a zombie's pid answers signal 0 for ever."""
    os.kill(pid, 0)  # ProcessLookupError once gone
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no procfs: only signal 0 tells
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def write_pid_file(state_dir: Path, name: str, process: subprocess.Popen[bytes] | None) -> None:
    assert process is not None
    (state_dir / f"{name}.pid").write_text(str(process.pid))


def stop_pid_file(state_dir: Path, name: str, grace_seconds: float) -> None:
    """The ``stop --state DIR`` command: stop the server ``start --state DIR``
    recorded in ``DIR/<name>.pid`` and remove its directory ``DIR/<name>``."""
    pid_file = state_dir / f"{name}.pid"
    if pid_file.exists():
        stop_pid(int(pid_file.read_text()), grace_seconds)
        pid_file.unlink()
    shutil.rmtree(state_dir / name, ignore_errors=True)
