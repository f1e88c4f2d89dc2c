"""The crash matrix: SIGKILL a child process at every fault point the coordinator
exposes (and at random moments), reopen the store, and check the contract.

A "point" is a coordinator step boundary (``hybridmem.faults``), the n-th time
it is reached: the delete_all of ten memories in batches of three reaches each
per-batch point four times. Double crashes kill the recovery of a crashed
operation too. After every case, on every adapter pair: a deleted scope is
empty, nothing outside it is lost, no half-memory, no orphan entity or dangling
relation, nothing pending, and history agrees with the stores.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore, Scope
from hybridmem.faults import BATCH_ROLLBACK_POINTS, FAULT_POINTS, ROLLBACK_POINTS
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig, narrowed_to_production_pairs
from tests.integration import raw
from tests.integration.checks import (
    assert_history_consistent,
    assert_no_half_memory_or_orphan,
    assert_scope_empty,
    make_orphans,
    snapshot,
)
from tests.integration.seeding import seed_expired, seed_victims_and_keepers
from tests.reliability import tally

ROOT = Path(__file__).resolve().parents[2]

# The SIGKILL matrix runs on the production pairs (kuzu+kuzu, neo4j+weaviate), which
# hold every adapter between them, and partly on the tenant layout; the mixed pairs
# meet every fault point through tests/integration/test_crash.py (an exception at
# each). Four pairs took ~20 of CI's minutes.
pair_config = narrowed_to_production_pairs()
VICTIMS, KEEPERS, BATCH = 10, 3, 3
#: Memories of the victim's scope that expired before purge_expired runs.
EXPIRED = 7
#: The fault points of one batch of an erasure, in the order a batch reaches them.
BATCH_STEPS = (
    "batch_fetched",
    "vectors_deleted",
    "graph_deleted",
    "batch_deleted",
    "batch_journaled",
)


@dataclass(frozen=True)
class Kill:
    point: str
    nth: int = 1

    def spec(self) -> str:
        return f"{self.point}:{self.nth}"


@dataclass(frozen=True)
class Case:
    kind: str
    first: Kill
    #: Kill the recovery of the crashed operation too.
    recovery: Kill | None = None

    @property
    def label(self) -> str:
        first = f"{self.kind}@{self.first.point}#{self.first.nth}"
        if self.recovery is None:
            return first
        return f"{first}+recover@{self.recovery.point}#{self.recovery.nth}"


def _single_cases() -> list[Case]:
    cases = [
        Case(kind, Kill(point))
        for kind in ("add", "add_many", "update", "delete", "reset", "reconcile")
        for point in FAULT_POINTS[kind]
    ]
    cases += [
        Case("delete_all", Kill("delete_all.queued")),
        Case("delete_all", Kill("delete_all.journaled")),
        Case("delete_all", Kill("delete_all.counted")),
        Case("delete_all", Kill("delete_all.scope_dropped")),
    ]
    batches = -(-VICTIMS // BATCH)
    # A batch's two deletes run at once: a kill at vectors_deleted (graph_deleted)
    # lands while the graph (vector) delete may still be running; batch_deleted
    # once both are done, before the checkpoint.
    cases += [
        Case("delete_all", Kill(f"delete_all.{step}", nth))
        for nth in range(1, batches + 1)
        for step in BATCH_STEPS
    ]
    cases.append(Case("delete_all", Kill("delete_all.vectors_swept")))
    # purge_expired of EXPIRED memories in batches of BATCH: the first and the last batch.
    cases.append(Case("purge_expired", Kill("purge_expired.journaled")))
    cases += [
        Case("purge_expired", Kill(f"purge_expired.{step}", nth))
        for nth in (1, -(-EXPIRED // BATCH))
        for step in BATCH_STEPS
    ]
    return cases


def _double_cases() -> list[Case]:
    first_all = Kill("delete_all.vectors_deleted", 1)
    return [
        *(
            Case("delete_all", first_all, Kill(f"delete_all.{step}", nth))
            for step, nth in (
                ("batch_fetched", 1),
                ("vectors_deleted", 1),
                ("graph_deleted", 1),
                ("batch_journaled", 2),
                ("vectors_swept", 1),
            )
        ),
        Case("delete_all", Kill("delete_all.graph_deleted", 2), Kill("delete_all.vectors_deleted")),
        Case("delete_all", Kill("delete_all.vectors_deleted", 2), Kill("delete_all.graph_deleted")),
        Case("delete_all", Kill("delete_all.batch_deleted", 2), Kill("delete_all.batch_deleted")),
        # On the tenant layout the whole user was dropped already: the recovery drops again.
        Case("delete_all", Kill("delete_all.scope_dropped"), Kill("delete_all.scope_dropped")),
        Case("delete_all", Kill("delete_all.graph_deleted", 2), Kill("delete_all.batch_journaled")),
        *(Case("add", Kill("add.graph_written"), Kill(point)) for point in ROLLBACK_POINTS),
        Case("add", Kill("add.vector_written"), Kill(ROLLBACK_POINTS[0])),
        *(Case("add_many", Kill("add_many.graph_written"), Kill(p)) for p in BATCH_ROLLBACK_POINTS),
        Case("delete", Kill("delete.vector_deleted"), Kill("delete.vector_deleted")),
        Case("delete", Kill("delete.vector_deleted"), Kill("delete.graph_deleted")),
        Case("update", Kill("update.vector_written"), Kill("update.vector_written")),
        Case("reset", Kill("reset.vector_reset"), Kill("reset.vector_reset")),
        Case("reset", Kill("reset.vector_reset"), Kill("reset.graph_reset")),
        Case("reconcile", Kill("reconcile.vectors_fixed"), Kill("reconcile.nodes_fixed")),
        Case(
            "purge_expired",
            Kill("purge_expired.vectors_deleted"),
            Kill("purge_expired.vectors_deleted"),
        ),
        Case(
            "purge_expired",
            Kill("purge_expired.graph_deleted"),
            Kill("purge_expired.batch_journaled", 2),
        ),
    ]


CASES = _single_cases() + _double_cases()


def _child(
    config: dict[str, Any], operation: dict[str, Any], kill: Kill | None
) -> subprocess.Popen[str]:
    env = {**os.environ}
    env.pop("HYBRIDMEM_FAULT_KILL_AT", None)
    if kill is not None:
        env["HYBRIDMEM_FAULT_KILL_AT"] = kill.spec()
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability.crash_child",
            json.dumps(config),
            json.dumps(operation),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _killed_at_point(config: dict[str, Any], operation: dict[str, Any], kill: Kill) -> None:
    child = _child(config, operation, kill)
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == -signal.SIGKILL, (
        f"{kill.spec()} was never reached: exit {child.returncode}\n{stderr[-2000:]}"
    )


def _check(
    store: HybridStore,
    kind: str,
    ids: dict[str, str],
    before: set[str],
    erased: int = VICTIMS,
    expired: frozenset[str] = frozenset(),
) -> None:
    assert_no_half_memory_or_orphan(store)
    remaining = snapshot(store).vector_ids
    assert_history_consistent(store, before | remaining)
    if kind == "delete_all":
        # Counted against what was seeded, not against what the code reports.
        [event] = raw.operation_events(store.journal.path, "DELETE_ALL")
        assert event.counts is not None and event.counts["memories"] == erased
        assert event.counts["memory_nodes"] == erased
        for memory_id in before - remaining:
            kinds = [e.kind for e in store.history(memory_id)]
            assert kinds == ["ADD", "DELETE"], f"{memory_id}: {kinds}"
    if kind in ("add", "add_many") and not erased:
        assert remaining == before, f"the interrupted {kind} was not rolled back"
    if kind == "reset":
        assert remaining == set()
        return
    keepers = {ids[f"k{i}"] for i in range(KEEPERS)}
    assert keepers <= remaining, "a memory outside the scope was lost"
    assert all(store.get(k) is not None for k in keepers)
    if kind == "delete_all":
        assert_scope_empty(store, Scope(user_id="victim"))
        assert all(e.user_id != "victim" for e in store.entities())
    else:
        untouched = {ids[f"v{i}"] for i in range(1, VICTIMS)}
        assert untouched <= remaining, "a memory the operation did not name was lost"
    if kind == "purge_expired":
        # Nothing expired left, nothing live lost, the index empty of what was erased.
        assert ids["v0"] in remaining
        assert not remaining & expired
        assert not [e.name for e in store.entities() if e.name.startswith("Expired")]
        assert store.journal.expired(datetime.now(UTC), 100) == []
        assert raw.history_texts(store.journal.path, expired) == 0
    if kind == "delete":
        assert ids["v0"] not in remaining
    if kind == "update":
        memory = store.get(ids["v0"])
        assert memory is not None and memory.text == "updated text"


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_sigkill_at_a_fault_point_then_reopen(
    pair_config: PairConfig, tmp_path: Path, case: Case
) -> None:
    _sigkill_then_reopen(pair_config, tmp_path, case)


# Weaviate with multi_tenancy = true: every step of a delete_all (its first batch),
# the tenant drop killed twice, and the steps of the other erasures and of the
# batch writes that fill tenants.
TENANT_CASES = [
    c
    for c in CASES
    if (
        (c.recovery is None and c.first.nth == 1 and c.kind != "purge_expired")
        and c.kind in ("delete_all", "delete", "add_many")
    )
    or (
        (c.kind == "purge_expired" and c.recovery is None and c.first.nth == 1)
        and c.first.point.endswith(("vectors_deleted", "graph_deleted"))
    )
    or (c.recovery is not None and c.first.point == "delete_all.scope_dropped")
]


@pytest.mark.slow
@pytest.mark.weaviate
@pytest.mark.parametrize("case", TENANT_CASES, ids=[c.label for c in TENANT_CASES])
def test_sigkill_on_the_tenant_layout_then_reopen(
    tenant_pair_config: PairConfig, tmp_path: Path, case: Case
) -> None:
    _sigkill_then_reopen(tenant_pair_config, tmp_path, case)


def _sigkill_then_reopen(pair_config: PairConfig, tmp_path: Path, case: Case) -> None:
    config: dict[str, Any] = {**pair_config(tmp_path / "d"), "batch_size": BATCH}
    with HybridStore(config) as store:
        ids = seed_victims_and_keepers(store, VICTIMS, KEEPERS)
        if case.kind == "reconcile":
            make_orphans(store, "matrix")
        expired = (
            frozenset(seed_expired(store, EXPIRED)) if case.kind == "purge_expired" else frozenset()
        )
        before = snapshot(store).vector_ids
    operation = {"kind": case.kind, "user_id": "victim", "memory_id": ids["v0"]}
    _killed_at_point(config, operation, case.first)
    tally.count("crash points tried (SIGKILL at a fault point)")
    if case.recovery is not None:
        _killed_at_point(config, {"kind": "recover"}, case.recovery)
        tally.count("crash points tried (SIGKILL during recovery)")
    # Opening the store again finishes what the killed processes left pending.
    with HybridStore(config) as reopened:
        erased = 0 if case.kind.startswith("add") else VICTIMS
        _check(reopened, case.kind, ids, before, erased, expired)


RANDOM_KILLS = [("delete_all", i) for i in range(3)] + [("adds", i) for i in range(3)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "round_"), RANDOM_KILLS, ids=[f"{k}-{r}" for k, r in RANDOM_KILLS]
)
def test_sigkill_at_a_random_moment_then_reopen(
    pair_config: PairConfig, tmp_path: Path, kind: str, round_: int, request: pytest.FixtureRequest
) -> None:
    """Kills that land inside a store call (mid-transaction, mid-batch), not only
    between steps. The seed is printed so a failure can be replayed."""
    seed = zlib.crc32(request.node.nodeid.encode())
    # After the first progress line: the operation is under way and has far more
    # work left (20 journaled batches, or 29 journaled adds) than this delay.
    delay = random.Random(seed).uniform(0.0, 0.1)
    config: dict[str, Any] = {**pair_config(tmp_path / "d"), "batch_size": 2}
    with HybridStore(config) as store:
        ids = seed_victims_and_keepers(store, VICTIMS, KEEPERS)
        for i in range(30):
            store.add(f"more {i}", embedding=embedding(f"more{i}"), user_id="victim")
        before = snapshot(store).vector_ids
    operation = {"kind": kind, "user_id": "victim" if kind == "delete_all" else "bulk", "count": 30}
    child = _child(config, operation, None)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "started"
    assert child.stdout.readline().strip() == "progress"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    out, _ = child.communicate(timeout=60)
    landed = child.returncode == -signal.SIGKILL and "finished without being killed" not in out
    print(f"seed {seed}: killed {delay:.3f}s after the first progress, mid-operation={landed}")
    assert landed, "the operation finished before the kill: this round tested nothing"
    tally.count("random-moment kills (mid-operation)")
    with HybridStore(config) as reopened:
        if kind == "delete_all":
            _check(reopened, kind, ids, before, VICTIMS + 30)
            return
        _check(reopened, "add", ids, before, erased=-1)
        added = snapshot(reopened).vector_ids - before
        assert all((m := reopened.get(i)) and m.text.startswith("bulk add") for i in added)
        # Every add that reported back stays; the one in flight (if its report
        # was not printed yet) is either rolled back or whole.
        reported = 1 + out.count("progress")
        assert len(added) in (reported, reported + 1), (len(added), reported)
