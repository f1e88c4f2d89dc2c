"""SIGKILL while the embedded default checkpoints its graph file: the store
reopens, and every memory ``add_many`` acknowledged is there whole.

The child checkpoints after every commit (``checkpoint_threshold=1``), which
makes a batch of 40 take 0.23 s instead of 0.05 s (measured): about 80% of the
child's time is checkpointing, so the kills, drawn at random moments, land
mostly inside LadybugDB's checkpoint, the step where Kuzu 0.11.3 left a file
whose WAL replay segfaulted.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from hybridmem import HybridStore

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 4


def _kill_mid_load(data: Path, rng: random.Random) -> list[str]:
    """Run the child until it has acknowledged a few batches, then SIGKILL it at
    a random moment; the ids it acknowledged before the kill."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.checkpoint_child", str(data)],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked: list[str] = []
    try:
        assert child.stdout is not None
        wanted = rng.randint(1, 3)
        for line in child.stdout:
            if line.startswith("acked "):
                acked.extend(json.loads(line.removeprefix("acked ")))
                wanted -= 1
                if wanted == 0:
                    break
        assert wanted == 0, child.stderr.read() if child.stderr else ""
        time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        # A batch acknowledged between the sleep and the kill counts too.
        rest, _ = child.communicate(timeout=60)
        for line in rest.splitlines():
            if line.startswith("acked "):
                acked.extend(json.loads(line.removeprefix("acked ")))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    return acked


def test_sigkill_during_checkpoints_loses_no_acknowledged_memory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rng = random.Random(20261205)
    acknowledged: list[str] = []
    for _ in range(ROUNDS):
        acknowledged += _kill_mid_load(data, rng)
        with HybridStore({"data_dir": str(data)}) as store:  # recovers on open
            assert store.recover() == []  # nothing left pending once open
            missing = [i for i in acknowledged if store.get(i) is None]
            assert missing == []
            stats = store.stats()
            # Both stores agree: an unacknowledged batch was rolled back whole.
            assert stats["vectors"] == stats["memory_nodes"] >= len(acknowledged)
            assert stats["vectors"] % 20 == 0  # whole journaled batches of 20
            assert stats["pending_operations"] == stats["set_aside_operations"] == 0
    assert len(acknowledged) >= ROUNDS * 40
