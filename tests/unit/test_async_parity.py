"""AsyncHybridStore exposes exactly HybridStore's methods, with the same signatures."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

from hybridmem import AsyncHybridStore, HybridStore


def _public(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member)
    }


def test_same_methods_and_signatures() -> None:
    sync, async_ = _public(HybridStore), _public(AsyncHybridStore)
    assert set(sync) == set(async_)
    for name, method in sync.items():
        other = async_[name]
        if name in ("embedded", "from_config"):
            continue  # constructors: same parameters, checked below
        assert inspect.iscoroutinefunction(other), f"{name} is not async"
        assert inspect.signature(method) == inspect.signature(other), name
    for name in ("embedded", "from_config"):
        sync_params = list(inspect.signature(getattr(HybridStore, name)).parameters)
        async_params = list(inspect.signature(getattr(AsyncHybridStore, name)).parameters)
        assert sync_params == async_params


def test_async_results_match_sync(tmp_path: Path) -> None:
    async def scenario() -> tuple[object, object]:
        async with AsyncHybridStore.embedded(tmp_path / "a") as store:
            await store.add(
                "x", embedding=[1.0, 0.0], user_id="u", entities=[{"name": "E", "type": "t"}]
            )
            return await store.delete_all(user_id="u"), await store.delete_all(user_id="u")

    first, second = asyncio.run(scenario())
    with HybridStore.embedded(tmp_path / "s") as store:
        store.add("x", embedding=[1.0, 0.0], user_id="u", entities=[{"name": "E", "type": "t"}])
        sync_first = store.delete_all(user_id="u")
    assert type(first) is type(sync_first)
    strip = {"operation_id", "elapsed_seconds"}
    assert first.model_dump(exclude=strip) == sync_first.model_dump(exclude=strip)  # type: ignore[attr-defined]
    assert second["memories"] == 0  # type: ignore[index]


def test_cancelled_delete_all_still_finishes(tmp_path: Path) -> None:
    """Cancelling the awaiting task must not abandon a two-store erasure half-way."""
    import threading
    import time

    started = threading.Event()

    def slow_progress(_: object) -> None:
        started.set()
        time.sleep(0.05)

    async def scenario() -> AsyncHybridStore:
        store = AsyncHybridStore.embedded(tmp_path / "c", batch_size=2)
        for i in range(12):
            await store.add(f"m{i}", embedding=[1.0, float(i)], user_id="u")
        await store.add("keep", embedding=[1.0, 0.0], user_id="other")
        task = asyncio.create_task(store.delete_all(user_id="u", progress=slow_progress))
        await asyncio.to_thread(started.wait, 10)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return store

    store = asyncio.run(scenario())
    deadline = time.monotonic() + 30
    while store.sync.journal.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not store.sync.journal.pending()
    assert store.sync.get_all(user_id="u") == []
    assert len(store.sync.get_all(user_id="other")) == 1
    store.sync.close()
