"""Claims are leases every process sees: a conflicting claim of another process
makes a claim wait, up to a bound, then fail with ClaimTimeoutError; a killed
process's claim stops blocking once its lease runs out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hybridmem import HybridStore
from hybridmem.errors import ClaimTimeoutError
from hybridmem.testing.builders import embedding
from tests.shared.conftest import LEASE_SECONDS, SharedConfig
from tests.shared.processes import kill, start_worker, wait_for


def test_a_claim_conflicting_with_another_process_waits_then_times_out(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    with HybridStore(servers_config(tmp_path / "seed")) as seed:
        seed.add("alice's first", embedding=embedding("first"), user_id="alice")
    # Process A holds an erase claim on alice: its delete_all stops after counting.
    worker = start_worker(
        servers_config(tmp_path / "a"),
        {"kind": "delete_all", "user_id": "alice"},
        HYBRIDMEM_TEST_PAUSE_AT="delete_all.counted",
    )
    try:
        wait_for(worker, "paused")
        # Past the lease's length: only A's renewals keep its claim alive now.
        time.sleep(LEASE_SECONDS + 1)
        with HybridStore(servers_config(tmp_path / "b", claim_timeout_seconds=1.5)) as b:
            started = time.monotonic()
            with pytest.raises(ClaimTimeoutError, match=r"erase claim on user_id=alice"):
                b.add("alice's late", embedding=embedding("late"), user_id="alice")
            waited = time.monotonic() - started
            assert 1.4 <= waited < 10
            # Nothing of the refused add was written; another user is not blocked.
            assert [m.text for m in b.get_all(user_id="alice")] == ["alice's first"]
            b.add("bob's", embedding=embedding("bob"), user_id="bob")
            assert len(b.get_all(user_id="bob")) == 1
        kill(worker)
        killed = time.monotonic()
        with HybridStore(servers_config(tmp_path / "c", claim_timeout_seconds=30)) as c:
            # Granted once A is gone, not never: at once here, where A's pid is
            # seen dead on the same machine; after A's lease from another host.
            c.add("alice's later", embedding=embedding("later"), user_id="alice")
            waited = time.monotonic() - killed
            assert waited < LEASE_SECONDS + 10
    finally:
        kill(worker)
