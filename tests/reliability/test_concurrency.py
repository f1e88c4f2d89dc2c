"""Operations racing each other on one store, on every adapter pair.

Afterwards: no half-memory, no orphan, nothing outside the erased scopes lost,
and no search that started after a delete_all returned sees what it erased.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hybridmem import AsyncHybridStore, HybridStore, Scope
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig, with_tenancy_pair
from tests.integration.checks import (
    assert_no_half_memory_or_orphan,
    assert_scope_empty,
    snapshot,
)
from tests.integration.seeding import add_with_shared_entity
from tests.reliability import tally

# Also on Weaviate with multi_tenancy = true: its erasures drop a tenant.
pair_config = with_tenancy_pair()


def _seed(store: HybridStore, user_id: str, n: int, **scope: str) -> list[str]:
    return [
        add_with_shared_entity(
            store,
            f"{user_id} memory {i}",
            f"{user_id}-{scope}-{i}",
            f"E{i % 4}",
            user_id=user_id,
            **scope,
        )
        for i in range(n)
    ]


def _run_together(*actions: Callable[[], Any]) -> list[Any]:
    """Start every action at the same moment, each in its own thread."""
    barrier = threading.Barrier(len(actions))

    def started(action: Callable[[], Any]) -> Any:
        barrier.wait()
        return action()

    with ThreadPoolExecutor(len(actions)) as pool:
        futures = [pool.submit(started, action) for action in actions]
        return [f.result(timeout=600) for f in futures]


def test_adds_into_a_scope_while_its_delete_all_runs(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    with HybridStore({**pair_config(tmp_path / "d"), "batch_size": 5}) as store:
        victims = _seed(store, "victim", 40)
        keepers = _seed(store, "keeper", 5)

        def add_victims(worker: int) -> list[str]:
            return [
                store.add(
                    f"late {worker}-{i}",
                    embedding=embedding(f"late-{worker}-{i}"),
                    user_id="victim",
                    agent_id=f"w{worker}",
                    entities=[{"name": "Shared", "type": "t"}],
                ).id
                for i in range(10)
            ]

        result, late_a, late_b = _run_together(
            lambda: store.delete_all(user_id="victim"),
            lambda: add_victims(1),
            lambda: add_victims(2),
        )
        tally.count("operations under concurrency", 1 + len(late_a) + len(late_b))
        assert_no_half_memory_or_orphan(store)
        present = snapshot(store).vector_ids
        assert not set(victims) & present, "a memory that existed before the erasure survived it"
        assert set(keepers) <= present, "a memory outside the scope was lost"
        erased_late = [m for m in late_a + late_b if m not in present]
        # Each late add happened wholly before the erasure (and was erased with
        # it) or wholly after (and is intact): never half of each.
        for memory_id in late_a + late_b:
            memory = store.get(memory_id)
            if memory is None:
                events = store.history(memory_id)
                assert events and all(e.new_text is None for e in events)
                assert {e.erased_by for e in events} == {result.operation_id}
            else:
                assert memory.text.startswith("late ")
        assert result.memories == len(victims) + len(erased_late)


def test_overlapping_delete_alls_user_and_one_of_its_agents(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    with HybridStore({**pair_config(tmp_path / "d"), "batch_size": 4}) as store:
        agent_one = _seed(store, "u", 20, agent_id="a1")
        agent_two = _seed(store, "u", 20, agent_id="a2")
        keepers = _seed(store, "other", 5, agent_id="a1")
        whole_user, one_agent = _run_together(
            lambda: store.delete_all(user_id="u"),
            lambda: store.delete_all(user_id="u", agent_id="a1"),
        )
        tally.count("operations under concurrency", 2)
        # Claims serialise the two erasures: every memory is counted exactly once.
        assert whole_user.memories + one_agent.memories == len(agent_one) + len(agent_two)
        assert one_agent.memories in (0, len(agent_one))
        assert_scope_empty(store, Scope(user_id="u"))
        assert set(keepers) <= snapshot(store).vector_ids
        assert_no_half_memory_or_orphan(store)


def test_searches_never_see_what_a_returned_delete_all_erased(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    with HybridStore({**pair_config(tmp_path / "d"), "batch_size": 3}) as store:
        victims = set(_seed(store, "victim", 30))
        keepers = set(_seed(store, "keeper", 6))
        returned_at: list[float] = []
        stop = threading.Event()
        searched_after_return = threading.Event()
        observations: list[tuple[float, set[str], set[str]]] = []

        def search_until_stopped() -> int:
            while not stop.is_set():
                started = time.monotonic()
                seen_victims = {
                    h.memory.id
                    for h in store.search(embedding("victim-{}-1"), user_id="victim", limit=50)
                }
                seen_keepers = {
                    h.memory.id
                    for h in store.search(embedding("keeper-{}-1"), user_id="keeper", limit=50)
                }
                observations.append((started, seen_victims, seen_keepers))
                if returned_at and sum(o[0] > returned_at[0] for o in observations) >= 3:
                    searched_after_return.set()
            return len(observations)

        def erase_then_stop() -> None:
            store.delete_all(user_id="victim")
            returned_at.append(time.monotonic())
            # Searches that start after the return are what is checked: wait for a few.
            # (The timeout only guards against a hung searcher; it is not a deadline.)
            searched_after_return.wait(timeout=120)
            stop.set()

        def delete_keeper_copies() -> None:
            # Single deletes racing the searches, outside the erased scope.
            extra = _seed(store, "keeper", 3, agent_id="extra")
            for memory_id in extra:
                store.delete(memory_id)

        _run_together(search_until_stopped, erase_then_stop, delete_keeper_copies)
        tally.count("operations under concurrency", len(observations) * 2 + 1 + 6)
        assert observations, "no search ran"
        for started, seen_victims, seen_keepers in observations:
            assert keepers <= seen_keepers, "a search lost a memory outside the erased scope"
            assert seen_victims <= victims
            if started > returned_at[0]:
                assert not seen_victims, "a search after delete_all returned saw erased memories"
        assert sum(started > returned_at[0] for started, _, _ in observations) >= 3
        assert_no_half_memory_or_orphan(store)


def test_async_facade_runs_erasures_and_adds_concurrently(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    config = {**pair_config(tmp_path / "d"), "batch_size": 5}

    async def scenario() -> None:
        async with AsyncHybridStore(config) as store:
            for i in range(20):
                await store.add(f"a{i}", embedding=embedding(f"a{i}"), user_id="a")
                await store.add(f"b{i}", embedding=embedding(f"b{i}"), user_id="b")
            adds = [
                store.add(f"c{i}", embedding=embedding(f"c{i}"), user_id="c") for i in range(10)
            ]
            results = await asyncio.gather(
                store.delete_all(user_id="a"), store.delete_all(user_id="b"), *adds
            )
            tally.count("operations under concurrency", len(results))
            assert results[0].memories == results[1].memories == 20
            assert len(await store.get_all(user_id="c")) == 10
            assert_no_half_memory_or_orphan(store.sync)

    asyncio.run(scenario())


def test_purges_racing_each_other_and_writes_of_the_same_scopes(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    """Two purge_expired, an import of more expired memories, updates and deletes of
    expiring ones, all at once: afterwards nothing expired is readable, a final purge
    leaves none stored, every live memory is whole (with its update), and the time
    index names exactly the stored memories that expire."""
    past = "2020-01-01T00:00:00+00:00"
    with HybridStore({**pair_config(tmp_path / "d"), "batch_size": 4}) as store:

        def expired_batch(tag: str, n: int) -> list[str]:
            return store.add_many(
                [
                    {
                        "text": f"{tag} {i}",
                        "embedding": embedding(f"{tag}-{i}"),
                        "user_id": "exp",
                        "agent_id": f"a{i % 2}",
                        "expires_at": past,
                        "entities": [{"name": f"E{i % 4}", "type": "t"}],
                    }
                    for i in range(n)
                ],
                batch_size=3,
            ).ids

        expired = expired_batch("old", 24)
        live = [
            store.add(f"live {i}", embedding=embedding(f"live-{i}"), user_id="exp", ttl=600).id
            for i in range(8)
        ]

        def update_some() -> None:
            for memory_id in live[4:]:
                store.update(memory_id, text=f"updated {memory_id}")

        def delete_some() -> None:
            for memory_id in live[:4]:
                store.delete(memory_id)

        first, second, late, _, _ = _run_together(
            store.purge_expired,
            store.purge_expired,
            lambda: expired_batch("late", 9),
            update_some,
            delete_some,
        )
        tally.count("operations under concurrency", 4 + 1 + 8)
        assert first.memories + second.memories <= len(expired) + len(late)
        visible = {m.id for m in store.get_all(user_id="exp")}
        assert visible == set(live[4:]), "an expired memory was readable, or a live one lost"
        store.purge_expired()
        present = snapshot(store).vector_ids
        assert present == set(live[4:])
        assert all(store.get(m).text == f"updated {m}" for m in live[4:])  # type: ignore[union-attr]
        later = datetime.now(UTC) + timedelta(days=1)
        assert {row.memory_id for row in store.journal.expired(later, 100)} == present
        assert_no_half_memory_or_orphan(store)
