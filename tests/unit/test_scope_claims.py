"""Which claims wait for which: the same memory id conflicts, different ids never do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from hybridmem.models import Scope
from hybridmem.scope_locks import ScopeLocks

ALICE = Scope(user_id="alice", agent_id="a")


def _waits(locks: ScopeLocks, memory_id: str | None, scope: Scope = ALICE) -> bool:
    """Does a records claim on ``memory_id`` wait while the test holds its own claim?"""
    granted = threading.Event()

    def claim() -> None:
        with locks.records(scope, memory_id):
            granted.set()

    threading.Thread(target=claim).start()
    # A claim that may go ahead is granted at once; 10 s only guards a very slow machine.
    return not granted.wait(timeout=10 if memory_id != "m1" else 1)


def test_records_claims_on_the_same_memory_id_run_one_after_the_other() -> None:
    locks = ScopeLocks()
    with locks.records(ALICE, "m1"):
        assert _waits(locks, "m1"), "an update and a delete of one memory must not overlap"
        assert not _waits(locks, "m2"), "changes of different memories run together"
        assert not _waits(locks, None)


def test_an_erasure_waits_for_records_of_its_scope_only() -> None:
    locks = ScopeLocks()
    with locks.records(ALICE, "m1"):
        granted = threading.Event()

        def erase(scope: Scope) -> None:
            with locks.erase(scope):
                granted.set()

        threading.Thread(target=erase, args=(Scope(user_id="bob"),)).start()
        assert granted.wait(timeout=10), "another user's erasure does not wait"
        granted.clear()
        threading.Thread(target=erase, args=(Scope(user_id="alice"),)).start()
        assert not granted.wait(timeout=0.5), "an erasure of the scope waits for its writes"
    assert granted.wait(timeout=5)


def _granted_beside_a_batch(probe: Callable[[ScopeLocks], AbstractContextManager[None]]) -> bool:
    """Is the probe's claim granted while a batch of (alice, m1), (bob, m2) is held?"""
    locks = ScopeLocks()
    granted = threading.Event()

    def take() -> None:
        with probe(locks):
            granted.set()

    with locks.batch([(ALICE, "m1"), (BOB, "m2")]):
        threading.Thread(target=take, daemon=True).start()
        return granted.wait(timeout=1)


BOB = Scope(user_id="bob")


def test_a_batch_claim_conflicts_with_each_of_its_ids_and_scopes() -> None:
    assert not _granted_beside_a_batch(lambda locks: locks.records(BOB, "m2")), "same id"
    assert not _granted_beside_a_batch(lambda locks: locks.erase(Scope(user_id="bob")))
    assert not _granted_beside_a_batch(lambda locks: locks.erase(Scope(agent_id="a")))
    assert not _granted_beside_a_batch(lambda locks: locks.batch([(BOB, "m9"), (ALICE, "m1")]))
    assert _granted_beside_a_batch(lambda locks: locks.records(BOB, "m3")), "another memory"
    assert _granted_beside_a_batch(lambda locks: locks.erase(Scope(user_id="carol")))
    assert _granted_beside_a_batch(lambda locks: locks.batch([(BOB, "m4"), (ALICE, "m5")]))
