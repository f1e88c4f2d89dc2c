"""Issue 23's regression cases on the server pairs: several workers (each its own
``HybridStore``, as processes are) opening one configuration.

Each test fails with the per-process journal (``HYBRIDMEM_TEST_SHARED_JOURNAL=0``,
today's default) and passes with ``[graph] shared_journal = true``.
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding
from tests.shared.conftest import SharedConfig


def _items(user: str, n: int, **extra: object) -> list[dict[str, object]]:
    return [
        {
            "text": f"{user} memory {i}",
            "embedding": embedding(f"{user}-{i}"),
            "user_id": user,
            **extra,
        }
        for i in range(n)
    ]


def test_opening_a_second_worker_rolls_back_no_write_in_flight(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    """A worker that opens (and recovers) while another one's add_many batch is
    between its store writes and its journal finish leaves the batch alone: the
    writer's acknowledged memories stay. (Server pairs: an embedded vector file
    admits one process, whose own threads share one store.)"""
    config = servers_config(tmp_path / "same-data-dir")
    reached, go_on = threading.Event(), threading.Event()

    def pause_once(point: str) -> None:
        if point == "add_many.graph_written" and not reached.is_set():
            reached.set()
            go_on.wait(30)

    writer = HybridStore(config, fault_hook=pause_once)
    result: list[list[str]] = []
    thread = threading.Thread(target=lambda: result.append(writer.add_many(_items("alice", 4)).ids))
    try:
        thread.start()
        assert reached.wait(30)
        HybridStore(config).close()  # recover() on open
        go_on.set()
        thread.join(30)
        [ids] = result
        assert len(writer.get_all(user_id="alice")) == 4
        assert {m.id for m in writer.get_all(user_id="alice")} == set(ids)
    finally:
        go_on.set()
        thread.join(30)
        writer.close()


def test_an_erasure_by_one_worker_erases_the_history_texts_of_another(
    shared_config: SharedConfig, tmp_path: Path
) -> None:
    with (
        HybridStore(shared_config(tmp_path / "a")) as a,
        HybridStore(shared_config(tmp_path / "b")) as b,
    ):
        ids = b.add_many(_items("alice", 10)).ids
        assert a.delete_all(user_id="alice").memories == 10
        texts = [e.new_text for memory_id in ids for e in b.history(memory_id)]
        assert texts and all(text is None for text in texts)
        assert all(e.erased_by for memory_id in ids for e in a.history(memory_id))


def test_expired_memories_of_a_gone_worker_are_purged_by_another(
    shared_config: SharedConfig, tmp_path: Path
) -> None:
    with HybridStore(shared_config(tmp_path / "b")) as b:
        soon = datetime.now(UTC) + timedelta(seconds=1)
        ids = b.add_many(_items("alice", 5, expires_at=soon)).ids
    # The writer's host is gone (on a server pair its data directory holds nothing).
    shutil.rmtree(tmp_path / "b", ignore_errors=True)
    time.sleep(1.5)
    with HybridStore(shared_config(tmp_path / "a")) as a:
        assert a.purge_expired().memories == 5
        assert a.vector.get(ids) == []
        assert a.graph.existing_memory_ids(ids) == set()
