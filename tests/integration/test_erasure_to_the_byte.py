"""Erasure to the byte (issue 24): after delete, delete_all, purge_expired or reset
and the documented step (``store.compact()``), no erased text, metadata value,
entity name or scope id is readable in any file of the store's data directory:
graph and vector files, their WALs, the journal and its WAL. Live data survives
the compaction whole, and a compaction is resumable.

On the server pairs the data directory holds only the journal: the same grep
checks the journal's part.
"""

from __future__ import annotations

import threading
from pathlib import Path

from typer.testing import CliRunner

from hybridmem import HybridStore
from hybridmem.cli import EXIT_OK, app
from hybridmem.compaction_loop import CompactLoop
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig
from tests.integration.erasure_bytes import (
    Erased,
    add_marked,
    assert_live_intact,
    erase_each_way,
    files_holding,
    keepers,
)


def test_no_erased_value_after_reset_and_compact(pair_config: PairConfig, tmp_path: Path) -> None:
    data = tmp_path / "data"
    erased = Erased()
    with HybridStore(pair_config(data)) as store:
        for _ in range(3):
            add_marked(store, erased, user_id=erased.new("USER"))
        store.reset()
        kept = keepers(store, 2)
        store.compact()
        assert_live_intact(store, kept)
    assert files_holding(data, erased.values) == {}


def test_every_erasure_leaves_no_value_on_every_pair(
    pair_config: PairConfig, tmp_path: Path
) -> None:
    """The journal part on every pair (and the files too on the embedded one)."""
    data = tmp_path / "data"
    erased = Erased()
    with HybridStore(pair_config(data)) as store:
        kept = keepers(store)
        erase_each_way(store, erased)
        store.compact()
        assert_live_intact(store, kept)
        # Still open: the journal's WAL was truncated, the files' WALs hold nothing erased.
        assert files_holding(data, erased.values) == {}
    assert files_holding(data, erased.values) == {}


def test_compact_waits_for_running_writes(tmp_path: Path) -> None:
    """Adds racing two compactions: every add that returned is there, whole."""
    added: list[str] = []
    lock = threading.Lock()
    with HybridStore.embedded(tmp_path / "data") as store:

        def writer(n: int) -> None:
            for i in range(15):
                memory_id = store.add(
                    f"race {n}-{i}",
                    embedding=embedding(f"race-{n}-{i}"),
                    user_id=f"racer{n}",
                    entities=[{"name": f"R{i}", "type": "t"}],
                ).id
                with lock:
                    added.append(memory_id)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        store.compact()
        store.compact()
        for thread in threads:
            thread.join()
        assert len(added) == 45
        assert all(store.get(memory_id) is not None for memory_id in added)
        assert store.stats()["memory_nodes"] == 45


def test_serve_schedule_compacts_only_after_an_erasure(tmp_path: Path) -> None:
    erased = Erased()
    with HybridStore.embedded(tmp_path / "data") as store:
        loop = CompactLoop(store, 3600)
        add_marked(store, erased, user_id="someone")
        assert loop.run_once() is False  # nothing erased yet
        store.delete_all(user_id="someone")
        assert loop.run_once() is True
        assert loop.run_once() is False
    assert files_holding(tmp_path / "data", erased.values) == {}


def test_cli_compact(tmp_path: Path) -> None:
    from tests.server.live import write_config

    config = write_config(tmp_path / "hybridmem.toml", tmp_path / "data")
    erased = Erased()
    with HybridStore.from_config(config) as store:
        user = erased.new("USER")
        add_marked(store, erased, user_id=user)
        store.delete_all(user_id=user)
    result = CliRunner().invoke(app, ["compact", "--config", str(config)])
    assert result.exit_code == EXIT_OK, result.output
    assert "compacted 2 file(s)" in result.stdout
    assert files_holding(tmp_path / "data", erased.values) == {}
