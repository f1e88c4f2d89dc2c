"""AsyncHybridStore.compact: the store's compaction, awaited in a worker thread
(before, AsyncHybridStore had no compact and its API was not HybridStore's)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from hybridmem import AsyncHybridStore
from hybridmem.models import CompactionProgress, CompactionReport
from tests.integration.erasure_bytes import Erased, files_holding


def test_async_compact_rewrites_the_files_off_the_event_loop(tmp_path: Path) -> None:
    data = tmp_path / "data"
    erased = Erased()
    heard: list[tuple[str, bool]] = []

    def progress(event: CompactionProgress) -> None:
        heard.append((event.phase, threading.current_thread() is threading.main_thread()))

    async def scenario() -> tuple[CompactionReport, list[str]]:
        async with AsyncHybridStore.embedded(data) as store:
            gone = erased.new("USER")
            for i in range(3):
                text = erased.new("TEXT")
                await store.add(text, embedding=[1.0, float(i)], user_id=gone)
            await store.add("kept", embedding=[0.0, 1.0], user_id="keeper")
            await store.delete_all(user_id=gone)
            report = await store.compact(progress=progress)
            kept = [m.text for m in await store.get_all(user_id="keeper")]
            return report, kept

    report, kept = asyncio.run(scenario())
    assert isinstance(report, CompactionReport)
    assert (report.memory_nodes, report.vectors, len(report.files)) == (1, 1, 2)
    assert report.scope_ids_scrubbed >= 1 and report.journal_scrubbed
    assert kept == ["kept"]
    # Every progress event came from the worker thread, and the last says done.
    assert heard and heard[-1][0] == "done"
    assert not any(on_main for _, on_main in heard)
    assert files_holding(data, erased.values) == {}
