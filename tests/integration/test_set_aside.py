"""No operation can keep the store shut: recover() sets aside one that keeps failing.

Before, a pending operation whose recovery raised (a purge meeting a record it
could not read, say) was retried by every open, and every open failed with it:
``hybridmem stats`` exited 2 and ``hybridmem serve`` no longer started.
"""

from __future__ import annotations

from pathlib import Path

from hybridmem import HybridStore
from hybridmem.journal import MAX_RECOVERY_ATTEMPTS
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig


def _poison(store: HybridStore) -> str:
    """A pending update whose payload no recovery can apply (as a bad record would)."""
    memory = store.add("kept", embedding=embedding("kept"), user_id="u")
    return store.journal.begin(
        "update", scope=memory.scope, memory_id=memory.id, payload={"not": "an update"}
    )


def test_an_operation_that_keeps_failing_is_set_aside_and_the_store_opens(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    config = pair_config(tmp_path / "d")
    with HybridStore(config) as store:
        poisoned = _poison(store)
        healthy = store.add("other", embedding=embedding("other"), user_id="v")
    outcomes = []
    for _ in range(MAX_RECOVERY_ATTEMPTS + 1):
        # Every open recovers; none fails, whatever the poisoned operation does.
        with HybridStore(config) as store:
            outcomes.append([(r.operation_id, r.outcome) for r in store.recover()])
            assert store.get(healthy.id) is not None
    # Each open recovers, then the test's own recover(): attempts 1 and 2 fail, the
    # open of the second round makes the third and sets it aside.
    assert outcomes[0] == [(poisoned, "failed")]
    assert outcomes[1:] == [[]] * MAX_RECOVERY_ATTEMPTS
    with HybridStore(config) as store:
        stats = store.stats()
        assert (stats["pending_operations"], stats["set_aside_operations"]) == (0, 1)
        [info] = store.journal.set_aside()
        assert info.id == poisoned and info.state == "set_aside"
        # The typed payload names what it could not decode.
        assert "PayloadError: payload field" in (info.error or "")
        # Writes and erasures go on around it.
        store.delete_all(user_id="v")
        assert store.get(healthy.id) is None
        # Once the cause is mended, it can be retried.
        assert store.journal.retry_set_aside() == 1
        assert store.stats()["pending_operations"] == 1
