"""An exception at every step boundary (a store failing between the two stores),
then recover(). SIGKILL at every point, and during recovery, is the crash matrix
in tests/reliability/test_crash_matrix.py.

After recovery the contract holds: the deleted scope is empty, nothing outside
it is lost, no half-memory, no orphan entity, no dangling relation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore, Scope
from hybridmem.faults import FAULT_POINTS, InjectedFault
from hybridmem.testing.builders import embedding
from hybridmem.testing.pair_checks import (
    assert_no_half_memory_or_orphan,
    assert_scope_empty,
    make_orphans,
    snapshot,
)
from hybridmem.testing.pair_fixtures import PairConfig
from hybridmem.testing.pair_suite import PairSuite
from hybridmem.testing.seeding import seed_expired, seed_victims_and_keepers


def _run(store: HybridStore, kind: str, ids: dict[str, str]) -> None:
    if kind == "add":
        store.add(
            "new",
            embedding=embedding("new"),
            user_id="victim",
            entities=[{"name": "New", "type": "t"}],
            relations=[{"source": "New", "target": "Paris", "type": "near"}],
        )
    elif kind == "add_many":
        # Paris is shared with the seeded memories: the rollback must leave it to them.
        store.add_many(
            [
                {
                    "text": f"batch {i}",
                    "embedding": embedding(f"batch-{i}"),
                    "user_id": "victim",
                    "entities": [{"name": "Paris", "type": "city"}],
                    "relations": [{"source": f"Batch{i}", "target": "Paris", "type": "near"}],
                }
                for i in range(3)
            ]
        )
    elif kind == "update":
        store.update(ids["v0"], text="updated text")
    elif kind == "delete":
        store.delete(ids["v0"])
    elif kind == "delete_all":
        store.delete_all(user_id="victim")
    elif kind == "reset":
        store.reset()
    elif kind == "reconcile":
        make_orphans(store, "crash")
        store.reconcile(fix=True)
    elif kind == "purge_expired":
        # Expired on arrival (an import may carry such), beside the seeded live ones.
        seed_expired(store, 4)
        store.purge_expired()


def _check_after_recovery(
    store: HybridStore, kind: str, ids: dict[str, str], keepers_before: set[str]
) -> None:
    assert_no_half_memory_or_orphan(store)
    remaining = snapshot(store).vector_ids
    if kind == "reset":
        assert remaining == set()
        return
    assert {ids[f"k{i}"] for i in range(3)} <= remaining, "a memory outside the scope was lost"
    assert keepers_before <= remaining
    if kind == "delete_all":
        assert_scope_empty(store, Scope(user_id="victim"))
        assert all(e.user_id != "victim" for e in store.entities())
    if kind == "delete":
        assert ids["v0"] not in remaining
        assert all(e.new_text is None for e in store.history(ids["v0"]))
    if kind == "purge_expired":
        # Every expired memory is erased; every live one of the scope is kept.
        assert {ids[f"v{i}"] for i in range(7)} <= remaining
        assert store.vector.count_scope(Scope(user_id="victim")) == 7
        assert all(e.name != "Expired0" for e in store.entities(user_id="victim"))
    if kind == "update":
        memory = store.get(ids["v0"])
        assert memory is not None and memory.text == "updated text"


ALL_POINTS = [(kind, point) for kind, points in FAULT_POINTS.items() for point in points]


class CrashSuite(PairSuite):
    """An exception at every fault point of ``hybridmem.faults`` (a store failing
    between the two stores), then ``recover()``: the deleted scope is empty, nothing
    outside it is lost, no half-memory, no orphan entity, no dangling relation.

    Troubleshooting: every step must be idempotent (recovery repeats the step that
    was cut short) and every delete must count only what it removed."""

    @pytest.mark.parametrize(("kind", "point"), ALL_POINTS, ids=[p for _, p in ALL_POINTS])
    def test_exception_at_every_step_then_recover(
        self, pair_config: PairConfig, tmp_path: Path, kind: str, point: str
    ) -> None:
        armed = False

        def hook(reached: str) -> None:
            if armed and reached == point:
                raise InjectedFault(point)

        config: dict[str, Any] = {**pair_config(tmp_path / "d"), "batch_size": 3}
        with HybridStore(config, fault_hook=hook) as store:
            ids = seed_victims_and_keepers(store, 7, 3)
            keepers = {ids[f"k{i}"] for i in range(3)}
            armed = True
            with pytest.raises(InjectedFault):
                _run(store, kind, ids)
            assert store.journal.pending(), "the interrupted operation must stay pending"
            armed = False
            recovered = store.recover()
            assert [r.kind for r in recovered] == [kind]
            _check_after_recovery(store, kind, ids, keepers)
