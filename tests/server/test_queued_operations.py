"""A delete_all or a compaction that waits for another operation's claim answers 202
``queued`` at once, with the URL of the operation it will be; the clients follow it
to the in-process result (before, such a request blocked until the claim was free:
a client timed out at 60 s while the erasure went on, and ``POST /compact``
answered only when done, an hour of waiting allowed).

Every pair, over real HTTP (uvicorn in a thread of the test) on a store whose
claims the test holds itself: the whole store, as a compaction does, or a scope,
as a delete_all does.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import httpx
import pytest

from hybridmem import HybridStore
from hybridmem.client import AsyncHybridMemClient, HybridMemClient
from hybridmem.config import ServerConfig
from hybridmem.models import CompactionProgress, DeleteProgress, Scope
from hybridmem.server import create_app
from hybridmem.testing.builders import embedding
from tests.server.live import serving

T = TypeVar("T")
#: The clients' timeout in these tests: each claim is held longer than this.
CLIENT_TIMEOUT = 2.0
HELD = CLIENT_TIMEOUT + 1.5
PER_RUN = 20


@pytest.fixture
def url(store: HybridStore) -> Iterator[str]:
    with serving(create_app(store, server=ServerConfig(erasure_wait_seconds=0.2))) as base:
        yield base


def _seed(store: HybridStore, user: str, runs: tuple[str, ...] = ("r1", "r2")) -> None:
    items = [
        {
            "text": f"{user} {run} {i}",
            "embedding": embedding(f"{user} {run} {i}"),
            "user_id": user,
            "run_id": run,
        }
        for run in runs
        for i in range(PER_RUN)
    ]
    assert store.add_many(items).added == len(items)


def _everything(store: HybridStore) -> AbstractContextManager[None]:
    """The claim a compaction (and reset) holds: the whole store."""
    return store._coordinator.context.locks.everything()


def _in_thread(call: Callable[[], T]) -> Callable[[], T]:
    """Run ``call`` now in a thread; the returned function joins it and returns its
    value (or raises its error)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> T:
        thread.join(120)
        assert not thread.is_alive(), "still running after 120 s"
        if "error" in box:
            raise box["error"]
        value: T = box["value"]
        return value

    return join


def _until_done(client: httpx.Client, path: str) -> dict[str, Any]:
    for _ in range(600):
        answer = client.get(path)
        if answer.status_code == 200 and answer.json()["state"] == "done":
            return dict(answer.json())
        time.sleep(0.1)
    raise AssertionError(f"{path} not done: {answer.status_code} {answer.text}")


def test_a_delete_all_waiting_for_a_claim_answers_202_queued(store: HybridStore, url: str) -> None:
    _seed(store, "queued")
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as http:
        with _everything(store):
            answer = http.delete("/memories", params={"user_id": "queued"})
            assert answer.status_code == 202, answer.text
            body = answer.json()
            assert body["status"] == "queued" and body["scope"]["user_id"] == "queued"
            assert (
                answer.headers["location"] == body["url"] == f"/operations/{body['operation_id']}"
            )
            # Journaled before it waits (another process could run it should this
            # one die): its URL is its pending record, and nothing is erased yet.
            waiting = http.get(body["url"])
            assert waiting.status_code == 200, waiting.text
            assert waiting.json()["state"] == "pending" and waiting.json()["counts"] == {}
            assert len(store.get_all(user_id="queued", limit=100)) == 2 * PER_RUN
        record = _until_done(http, body["url"])
    assert record["kind"] == "delete_all" and record["counts"]["memories"] == 2 * PER_RUN
    assert store.get_all(user_id="queued") == []


def test_two_overlapping_erasures_both_finish_with_exact_counts(
    store: HybridStore, url: str
) -> None:
    _seed(store, "overlap")
    seen: list[DeleteProgress] = []
    with HybridMemClient(url, timeout=CLIENT_TIMEOUT) as client:
        with _everything(store):
            whole = _in_thread(lambda: client.delete_all(user_id="overlap", progress=seen.append))
            time.sleep(0.5)  # the user-wide erasure is first in line
            one_run = _in_thread(lambda: client.delete_all(user_id="overlap", run_id="r1"))
            time.sleep(HELD)  # longer than the clients' timeout
        first, second = whole(), one_run()
    assert first["message"] == "Memories deleted successfully!"
    assert (first.memories, first.vectors, first.memory_nodes) == (2 * PER_RUN,) * 3
    assert first.scope == Scope(user_id="overlap")
    # The run's erasure waited for the user's, which left it nothing.
    assert (second.memories, second.vectors) == (0, 0)
    assert second.scope == Scope(user_id="overlap", run_id="r1")
    assert first.operation_id != second.operation_id
    assert seen[-1].phase == "done" and seen[-1].done == 2 * PER_RUN
    assert store.get_all(user_id="overlap") == []


def test_the_async_client_follows_a_queued_erasure(store: HybridStore, url: str) -> None:
    _seed(store, "async-queued")

    async def erase() -> int:
        async with AsyncHybridMemClient(url, timeout=CLIENT_TIMEOUT) as client:
            result = await client.delete_all(user_id="async-queued", run_id="r2")
            return result.memories

    with _everything(store):
        erased = _in_thread(lambda: asyncio.run(erase()))
        time.sleep(HELD)
    assert erased() == PER_RUN
    assert {m.run_id for m in store.get_all(user_id="async-queued", limit=100)} == {"r1"}


def test_a_preview_answers_at_once_while_the_store_is_held(store: HybridStore, url: str) -> None:
    _seed(store, "preview")
    with HybridMemClient(url, timeout=CLIENT_TIMEOUT) as client, _everything(store):
        preview = client.delete_all(user_id="preview", dry_run=True)
    assert preview.dry_run and preview.memories == 2 * PER_RUN
    assert len(store.get_all(user_id="preview", limit=100)) == 2 * PER_RUN


def test_a_compaction_waiting_for_an_erasure_answers_202_and_the_clients_get_its_report(
    store: HybridStore, url: str
) -> None:
    _seed(store, "compacted")
    store.delete_all(user_id="compacted", run_id="r1")
    in_process = store.compact()  # what an answered-at-once compaction reports
    with httpx.Client(base_url=url, timeout=CLIENT_TIMEOUT) as http:
        with store._coordinator.context.locks.erase(Scope(user_id="someone")):
            answer = http.post("/compact")
            assert answer.status_code == 202, answer.text
            body = answer.json()
            assert body["status"] == "queued" and answer.headers["location"] == body["url"]
        record = _until_done(http, body["url"])
        assert record["kind"] == "compact"
        report = http.get(f"/compactions/{body['operation_id']}")
        assert report.status_code == 200 and report.json()["operation_id"] == body["operation_id"]

    phases: list[CompactionProgress] = []
    with HybridMemClient(url, timeout=CLIENT_TIMEOUT) as client:
        with _everything(store):
            compacted = _in_thread(lambda: client.compact(progress=phases.append))
            time.sleep(HELD)
        followed = compacted()
    # The report of the worker that ran it, whole: the same live records and files.
    assert store.operation(followed.operation_id) is not None
    assert store.operation(followed.operation_id).state == "done"  # type: ignore[union-attr]
    assert followed.files == in_process.files
    assert (followed.memory_nodes, followed.vectors) == (
        in_process.memory_nodes,
        in_process.vectors,
    )
    assert [p.phase for p in phases] == ["done"]

    async def compact_async() -> str:
        async with AsyncHybridMemClient(url, timeout=CLIENT_TIMEOUT) as client:
            return (await client.compact()).operation_id

    with _everything(store):
        compacted_async = _in_thread(lambda: asyncio.run(compact_async()))
        time.sleep(HELD)
    assert store.operation(compacted_async()).state == "done"  # type: ignore[union-attr]
