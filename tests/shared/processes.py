"""Starting and killing worker processes (tests/shared/worker_child.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def start_worker(
    config: dict[str, Any], operation: dict[str, Any], **env: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.shared.worker_child",
            json.dumps(config),
            json.dumps(operation),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for(worker: subprocess.Popen[str], word: str) -> None:
    """Read the worker's lines until ``word``; fail if it exits first."""
    assert worker.stdout is not None
    for line in worker.stdout:
        if line.strip() == word:
            return
    raise AssertionError(f"worker exited ({worker.wait()}) before printing {word!r}")


def next_line(worker: subprocess.Popen[str]) -> str:
    assert worker.stdout is not None
    return worker.stdout.readline().strip()


def kill(worker: subprocess.Popen[str]) -> None:
    if worker.poll() is None:
        os.kill(worker.pid, signal.SIGKILL)
    worker.wait(30)
    for stream in (worker.stdin, worker.stdout):
        if stream is not None:
            stream.close()
