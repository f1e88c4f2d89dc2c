"""Compaction of the embedded pair, on every engine option (a child process runs
this file on the other one; see tests/contract/kuzu_engines.py): erased values
leave every file, live data survives whole, and a SIGKILL at any point of a
compaction leaves a store that reopens with every acknowledged memory, with the
compaction finished or rolled back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from hybridmem.compaction import FAULT_POINTS, MARKER, TWIN_SUFFIX
from hybridmem_kuzu._engine import DEFAULT_ENGINE
from tests.contract.kuzu_engines import ENGINE, suite_on_other_engines
from tests.integration.erasure_bytes import (
    Erased,
    assert_live_intact,
    erase_each_way,
    files_holding,
    keepers,
)

ROOT = Path(__file__).resolve().parents[2]
FILES = ["graph.kuzu", "journal.sqlite3", "vectors.kuzu"]

test_the_suite_passes_on_every_engine = suite_on_other_engines(__file__)


def _config(data_dir: Path) -> dict[str, Any]:
    engine = {} if ENGINE == DEFAULT_ENGINE else {"engine": ENGINE}
    return {
        "data_dir": str(data_dir),
        "graph": {"provider": "kuzu", **engine},
        "vector": {"provider": "kuzu", **engine},
    }


def _seeded(data: Path) -> tuple[dict[str, Any], Erased]:
    erased = Erased()
    with HybridStore(_config(data)) as store:
        kept = keepers(store)
        erase_each_way(store, erased)
    return kept, erased


def test_no_erased_value_in_any_embedded_file_after_compact(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kept, erased = _seeded(data)
    # What this test rests on: the engine keeps erased values in its files.
    before = files_holding(data, erased.values)
    assert {"graph.kuzu", "vectors.kuzu"} <= set(before), before
    phases: list[str] = []
    with HybridStore(_config(data)) as store:
        report = store.compact(progress=lambda p: phases.append(p.phase))
        assert report.vectors == report.memory_nodes == len(kept)
        assert report.bytes_after < report.bytes_before
        assert_live_intact(store, kept)
    assert phases[0] == "graph" and phases[-1] == "done"
    assert {"vector", "swapping", "journal"} <= set(phases)
    assert files_holding(data, erased.values) == {}
    assert sorted(p.name for p in data.iterdir()) == FILES
    with HybridStore(_config(data)) as store:
        assert_live_intact(store, kept)
        # The expiry index is the journal's: the keeper's expiry still stands.
        first = store.get(next(iter(kept)))
        assert first is not None and first.expires_at is not None


def _kill_at(data: Path, point: str) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "tests.integration.compaction_child", json.dumps(_config(data))],
        cwd=ROOT,
        env={**os.environ, "HYBRIDMEM_FAULT_KILL_AT": point},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stdout + child.stderr


#: (kill point, whether the compaction was past its commit point there)
CASES = [
    ("compact.journaled", False),
    ("compact.copied", False),
    ("compact.committed", True),
    # After the graph's twin is swapped in, before the vector's.
    ("compact.swapped:1", True),
]
assert {point.split(":")[0] for point, _ in CASES} == set(FAULT_POINTS)


@pytest.mark.parametrize(("point", "committed"), CASES, ids=[c[0] for c in CASES])
def test_sigkill_during_compaction_loses_nothing(
    tmp_path: Path, point: str, committed: bool
) -> None:
    data = tmp_path / "data"
    kept, erased = _seeded(data)
    _kill_at(data, point)
    left = {p.name for p in data.iterdir()}
    assert any(TWIN_SUFFIX in name for name in left) or point == "compact.journaled"
    with HybridStore(_config(data)) as store:  # recovers on open
        assert_live_intact(store, kept)
        outcome = {r.kind: r.outcome for r in store.recover()}
        assert outcome == {}  # nothing left pending once the store has opened
        if committed:
            # Finished on reopen: the old files are gone.
            assert files_holding(data, erased.values) == {}
        else:
            # Rolled back: a compaction now finishes the job.
            store.compact()
            assert_live_intact(store, kept)
    assert sorted(p.name for p in data.iterdir()) == FILES
    assert not (data / MARKER).exists()
    assert files_holding(data, erased.values) == {}
