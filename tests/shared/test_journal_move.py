"""A store that kept its journal in the data directory (``shared_journal = false``)
opened with the default (the shared journal): its pending operations, history,
expiry index and embedder record move into the shared state, resumably, and no
erased text is copied. The data directory then holds no journal."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from hybridmem.errors import ConfigurationError
from hybridmem.faults import InjectedFault
from tests.shared.conftest import SharedConfig

#: hybridmem.journal_move.BATCH_MOVED, spelt out: the test also runs on code before it.
BATCH_MOVED = "journal_move.batch_moved"


def _local(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "graph": {**config["graph"], "shared_journal": False}}


def _default(config: dict[str, Any]) -> dict[str, Any]:
    graph = {k: v for k, v in config["graph"].items() if k != "shared_journal"}
    return {**config, "graph": graph}


def _hashing(config: dict[str, Any], dimension: int = 8) -> dict[str, Any]:
    return {**config, "embedder": {"provider": "hashing", "dimension": dimension}}


def _write_with_local_journal(config: dict[str, Any]) -> dict[str, str]:
    """Memories, an erased one, expiring ones and a delete cut short, all journaled
    in the data directory's SQLite file."""
    ids: dict[str, str] = {}
    with HybridStore(_local(config)) as store:
        ids["kept"] = store.add("alice keeps this", user_id="alice").id
        erased = store.add("alice erased this", user_id="alice")
        store.update(erased.id, text="alice erased this twice")
        store.delete(erased.id)
        ids["erased"] = erased.id
        for i in range(3):
            ids[f"ttl{i}"] = store.add(f"short-lived {i}", user_id="carol", ttl=1).id
        ids["doomed"] = store.add("bob's doomed memory", user_id="bob").id

    def die_mid_delete(point: str) -> None:
        if point == "delete.vector_deleted":
            raise InjectedFault(point)

    with HybridStore(_local(config), fault_hook=die_mid_delete) as store:
        with pytest.raises(InjectedFault):
            store.delete(ids["doomed"])
        assert store.stats()["pending_operations"] == 1
    return ids


def test_a_local_journal_moves_into_the_shared_state_on_first_open(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    host_a = _hashing(servers_config(tmp_path / "a"))
    ids = _write_with_local_journal(host_a)
    journal_file = tmp_path / "a" / "journal.sqlite3"
    assert journal_file.exists()

    with HybridStore(_default(host_a)) as a:
        # The pending delete moved and was finished by the open's recover().
        assert a.stats()["pending_operations"] == 0
        assert a.get(ids["doomed"]) is None
        assert a.vector.get([ids["doomed"]]) == []
        assert a.graph.existing_memory_ids([ids["doomed"]]) == set()
    # Nothing of the journal is left in the data directory.
    assert not any(p.name.startswith("journal.sqlite3") for p in (tmp_path / "a").iterdir())

    # Another host (its own data directory) reads the moved history and index.
    with HybridStore(_hashing(_default(servers_config(tmp_path / "b")))) as b:
        assert [e.new_text for e in b.history(ids["kept"])] == ["alice keeps this"]
        erased = b.history(ids["erased"])
        assert [e.kind for e in erased] == ["ADD", "UPDATE", "DELETE"]
        assert all(e.old_text is None and e.new_text is None for e in erased)
        doomed = b.history(ids["doomed"])
        assert [e.kind for e in doomed] == ["ADD", "DELETE"]
        assert all(e.new_text is None for e in doomed)
        time.sleep(1.2)
        result = b.purge_expired()
        assert result.memories == 3
        for i in range(3):
            assert b.vector.get([ids[f"ttl{i}"]]) == []
            assert all(e.new_text is None for e in b.history(ids[f"ttl{i}"]))
        assert b.get(ids["kept"]) is not None

    # The embedder record moved too: a host with another embedder is refused.
    with pytest.raises(ConfigurationError, match="hashing"):
        HybridStore(_hashing(_default(servers_config(tmp_path / "c")), dimension=16))


def test_an_interrupted_move_resumes_and_writes_nothing_twice(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    host_a = _hashing(servers_config(tmp_path / "a"))
    ids = _write_with_local_journal(host_a)
    reached = 0

    def die_after_the_history(point: str) -> None:
        nonlocal reached
        if point == BATCH_MOVED:
            reached += 1
            if reached == 2:  # operations moved, history moved, expiry not yet
                raise InjectedFault(point)

    with pytest.raises(InjectedFault):
        HybridStore(_default(host_a), fault_hook=die_after_the_history)
    assert (tmp_path / "a" / "journal.sqlite3").exists()

    with HybridStore(_default(host_a)) as a:
        assert a.stats()["pending_operations"] == 0
        assert [e.kind for e in a.history(ids["kept"])] == ["ADD"]
        assert [e.kind for e in a.history(ids["erased"])] == ["ADD", "UPDATE", "DELETE"]
        assert [e.kind for e in a.history(ids["doomed"])] == ["ADD", "DELETE"]
        time.sleep(1.2)
        assert a.purge_expired().memories == 3
    assert not (tmp_path / "a" / "journal.sqlite3").exists()


def test_texts_of_memories_erased_by_another_process_are_not_moved(
    servers_config: SharedConfig, tmp_path: Path
) -> None:
    """Host A wrote with a local journal; host B, already on the shared journal,
    erased the scope. A's history rows of it hold the text: the move drops it."""
    host_a = _hashing(servers_config(tmp_path / "a"))
    with HybridStore(_local(host_a)) as a:
        secret = a.add("dave's secret", user_id="dave").id
        kept = a.add("erin's note", user_id="erin").id
    with HybridStore(_hashing(_default(servers_config(tmp_path / "b")))) as b:
        assert b.delete_all(user_id="dave").memories == 1
    with HybridStore(_default(host_a)) as a:
        # B's DELETE event, and the moved ADD without its text.
        events = a.history(secret)
        assert sorted(e.kind for e in events) == ["ADD", "DELETE"]
        assert all(e.old_text is None and e.new_text is None for e in events)
        assert [e.new_text for e in a.history(kept)] == ["erin's note"]
