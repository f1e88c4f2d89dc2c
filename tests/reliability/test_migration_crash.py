"""A SIGKILL in the middle of a migration: the destination's recover() rolls the
half-written batch back, and running the migration again reaches the same end
state as an uninterrupted one: every memory copied exactly, verified, no
half-memory or orphan, nothing pending.

The source is an embedded kuzu+kuzu store (the earlier default, which users move
off); the destination is each production pair (kuzu+sqlite, neo4j+weaviate), so
the kill lands in every production adapter's batch writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore, Scope
from hybridmem.migration import migrate
from tests.conftest import PairConfig, narrowed_to_production_pairs
from tests.integration.checks import assert_no_half_memory_or_orphan
from tests.integration.migration_checks import assert_same_memories, records_in, seed_varied
from tests.reliability import tally

# Each adapter's batch writes are in one of the production pairs.
pair_config = narrowed_to_production_pairs()

ROOT = Path(__file__).resolve().parents[2]
BATCH = 4


def _killed_migration(source: dict[str, Any], destination: dict[str, Any], kill_at: str) -> None:
    env = {**os.environ, "HYBRIDMEM_FAULT_KILL_AT": kill_at}
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.migration_child",
            json.dumps(source),
            json.dumps(destination),
            str(BATCH),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, (
        f"{kill_at} was never reached: exit {child.returncode}\n{child.stderr[-2000:]}"
    )


@pytest.mark.parametrize(
    ("kill_at", "batches_done"),
    [
        ("add_many.vector_written:2", 1),
        ("add_many.graph_written:2", 1),
        ("add_many.journaled:3", 2),
    ],
)
def test_a_killed_migration_resumes_to_the_same_end_state(
    pair_config: PairConfig, tmp_path: Path, kill_at: str, batches_done: int
) -> None:
    source_config = {
        "data_dir": str(tmp_path / "source"),
        "graph": {"provider": "kuzu"},
        "vector": {"provider": "kuzu"},
    }
    destination_config = pair_config(tmp_path / "destination")
    with HybridStore(source_config) as source:
        ids = seed_varied(source)
    _killed_migration(source_config, destination_config, kill_at)
    tally.count("migrations killed")
    with HybridStore(source_config) as source, HybridStore(destination_config) as destination:
        # Opening recovered the pending batch: only whole batches are left.
        assert_no_half_memory_or_orphan(destination)
        assert len(records_in(destination, Scope())) == BATCH * batches_done
        report = migrate(source, destination, Scope(), batch_size=BATCH)
        assert report.verified, report
        assert (report.already_present, report.copied) == (
            BATCH * batches_done,
            len(ids) - BATCH * batches_done,
        )
        assert_same_memories(source, destination, Scope())
        assert_no_half_memory_or_orphan(destination)
