"""The compaction's bulk copy (issue 24): the embedded files are rewritten with the
engines' own export and load (SQLite ``VACUUM INTO``, LadybugDB/Kuzu ``COPY``),
not record by record through the ports, so a compaction costs a fraction of the
load that filled the store, and every live record comes through it whole.

Runs on both vector roles of the embedded pair, on every engine option (a child
process runs this file on the other one; see tests/contract/kuzu_engines.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hybridmem import HybridStore
from hybridmem_kuzu._engine import DEFAULT_ENGINE
from tests.contract.kuzu_engines import ENGINE, suite_on_other_engines
from tests.integration.erasure_bytes import files_holding

test_the_suite_passes_on_every_engine = suite_on_other_engines(__file__)

VECTOR_ROLES = ["sqlite", "kuzu"]


def _config(data_dir: Path, vector: str) -> dict[str, Any]:
    engine = {} if ENGINE == DEFAULT_ENGINE else {"engine": ENGINE}
    return {
        "data_dir": str(data_dir),
        "graph": {"provider": "kuzu", **engine},
        "vector": {"provider": "sqlite"} if vector == "sqlite" else {"provider": "kuzu", **engine},
    }


def _vector(i: int) -> list[float]:
    return [((i * 2654435761 + k * 40503) % 1000) / 1000.0 + 0.001 for k in range(16)]


def _items(count: int, start: int = 0) -> list[dict[str, Any]]:
    """Memories of 10 users, 3 agents and some runs, with 2 entities and 1 relation."""
    later = datetime.now(UTC) + timedelta(days=30)
    return [
        {
            "text": f"fact {i} 'quoted', \"double\", comma, newline\nend",
            "embedding": _vector(i),
            "user_id": f"user-{i % 10}",
            "agent_id": f"agent-{i % 3}" if i % 4 else None,
            "run_id": f"run-{i % 7}" if i % 5 == 0 else None,
            "metadata": {"n": i, "tag": f"t{i % 4}", "nested": {"x": [i, "y"]}},
            "expires_at": later if i % 6 == 0 else None,
            "entities": [
                {"name": f"topic-{i % 50}", "type": "topic"},
                {"name": f"person-{i % 20}", "type": "person"},
            ],
            "relations": [
                {"source": f"person-{i % 20}", "target": f"topic-{i % 50}", "type": "talks_about"}
            ],
        }
        for i in range(start, start + count)
    ]


def _everything(store: HybridStore, ids: list[str]) -> dict[str, Any]:
    """Every live record as the API reads it: memories, entities, relations, searches."""
    users = [f"user-{u}" for u in range(10)]
    return {
        "memories": {i: m.model_dump() if (m := store.get(i)) else None for i in ids},
        "entities": {u: sorted((e.name, e.type) for e in store.entities(user_id=u)) for u in users},
        "relations": {
            u: sorted((r.id, r.source, r.type, r.target) for r in store.relations(user_id=u))
            for u in users
        },
        "search": [
            [
                (h.memory.id, round(h.score, 6))
                for h in store.search(embedding=_vector(q), user_id=f"user-{q % 10}", limit=5)
            ]
            for q in range(0, 40, 7)
        ],
        "agent": sorted(m.id for m in store.get_all(agent_id="agent-1", limit=10_000)),
        "run": sorted(m.id for m in store.get_all(run_id="run-0", filters={"tag": "t0"})),
        "stats": {k: v for k, v in store.stats().items() if k != "pending_operations"},
    }


@pytest.mark.parametrize("vector", VECTOR_ROLES)
def test_compaction_keeps_every_live_record_whole(vector: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with HybridStore(_config(data, vector)) as store:
        ids = store.add_many(_items(400)).ids
        gone = [i for n, i in enumerate(ids) if n % 10 == 3 or n == 1]
        texts = [f"fact {n} 'quoted'" for n in range(400) if n % 10 == 3 or n == 1]
        store.delete_all(user_id="user-3")
        store.delete(ids[1], user_id="user-1")
        live = [i for i in ids if store.get(i) is not None]
        before = _everything(store, live)
        store.compact()
        assert _everything(store, live) == before
    with HybridStore(_config(data, vector)) as store:
        assert _everything(store, live) == before
        # Still writable after the swap, and the new write is found.
        added = store.add("after compaction", embedding=_vector(9999), user_id="user-new")
        assert store.get(added.id) is not None
    assert files_holding(data, [*texts, "user-3"]) == {}
    # Ids stay in the journal's history by design; the store files hold none.
    assert [f for f in files_holding(data, gone) if not f.startswith("journal")] == []
    assert not [p.name for p in data.iterdir() if ".compacting" in p.name]


@pytest.mark.parametrize("vector", VECTOR_ROLES)
def test_compaction_copies_each_file_in_one_bulk_step(
    vector: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the ports a compaction cost more than the load it rewrote (100k
    memories: 70 s to load, 339 s to compact); in bulk, a fraction of it
    (benchmarks/compaction.py measures it). Each file is one step of its progress,
    never a fallback through the ports."""
    steps: list[tuple[str, int, int]] = []
    with HybridStore(_config(tmp_path / "data", vector)) as store:
        store.add_many(_items(4000), batch_size=2000)
        store.delete_all(user_id="user-0")
        report = store.compact(progress=lambda p: steps.append((str(p.phase), p.done, p.total)))
        assert report.memory_nodes == report.vectors == 3600
    assert "record by record" not in caplog.text
    copies = [(phase, done, total) for phase, done, total in steps if phase in ("graph", "vector")]
    assert copies == [("graph", 0, 1), ("graph", 1, 1), ("vector", 0, 1), ("vector", 1, 1)]


def test_a_path_copy_cannot_name_is_compacted_record_by_record(tmp_path: Path) -> None:
    """COPY takes its file as a literal: a data directory with a quote in its name
    is rewritten through the ports instead, as completely."""
    data = tmp_path / "it's data"
    with HybridStore(_config(data, "sqlite")) as store:
        ids = store.add_many(_items(60)).ids
        store.delete_all(user_id="user-3")
        live = [i for i in ids if store.get(i) is not None]
        before = _everything(store, live)
        report = store.compact()
        assert report.memory_nodes == len(live)
        assert _everything(store, live) == before
    assert files_holding(data, ["user-3"]) == {}
