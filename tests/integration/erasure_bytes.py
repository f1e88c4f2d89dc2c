"""Helpers of the erasure-to-the-byte tests: unique values written, and a grep of
every file of a store's data directory for their UTF-8 bytes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding


@dataclass
class Erased:
    """What the erasures must leave nowhere: texts, metadata values, names, ids."""

    values: list[str] = field(default_factory=list)

    def new(self, kind: str) -> str:
        value = f"ZQ{kind}{uuid.uuid4().hex[:12]}QZ"
        self.values.append(value)
        return value


def files_holding(data_dir: Path, values: list[str]) -> dict[str, list[str]]:
    """Every file under ``data_dir`` (WALs and the journal included) that holds any of
    ``values`` as UTF-8 bytes, with the values it holds."""
    found: dict[str, list[str]] = {}
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            hits = [v for v in values if v.encode("utf-8") in data]
            if hits:
                found[str(path.relative_to(data_dir))] = hits
    return found


def _marked_item(erased: Erased, user_id: str) -> dict[str, object]:
    """A memory whose text, metadata value and entity names are all in ``erased``."""
    text, meta = erased.new("TEXT"), erased.new("META")
    a, b = erased.new("ENT"), erased.new("ENT")
    return {
        "text": text,
        "embedding": embedding(text),
        "user_id": user_id,
        "metadata": {"note": meta},
        "entities": [{"name": a, "type": "person"}, {"name": b, "type": "place"}],
        "relations": [{"source": a, "target": b, "type": "visited"}],
    }


def add_marked(store: HybridStore, erased: Erased, *, user_id: str) -> str:
    return store.add(**_marked_item(erased, user_id)).id  # type: ignore[arg-type]


def erase_each_way(store: HybridStore, erased: Erased) -> None:
    """Unique values erased by delete, delete_all and purge_expired (reset has its own
    test: it erases the live data too)."""
    deleted_user = erased.new("USER")
    store.delete(add_marked(store, erased, user_id=deleted_user), user_id=deleted_user)
    scope_user = erased.new("USER")
    for _ in range(3):
        add_marked(store, erased, user_id=scope_user)
    store.delete_all(user_id=scope_user)
    # Already expired when written (an import may carry past expiries).
    expiring_user = erased.new("USER")
    past = datetime.now(UTC) - timedelta(minutes=1)
    store.add_many([{**_marked_item(erased, expiring_user), "expires_at": past} for _ in range(2)])
    assert store.purge_expired().memories == 2


def keepers(store: HybridStore, count: int = 4) -> dict[str, Any]:
    """Live memories whose every field must survive a compaction; by id, as read back."""
    ids = []
    for i in range(count):
        ids.append(
            store.add(
                f"keeper fact {i}",
                embedding=embedding(f"keeper-{i}"),
                user_id="keeper",
                agent_id="keeper-agent" if i % 2 else None,
                metadata={"n": i, "tag": "kept"},
                entities=[{"name": "Lisbon", "type": "city"}, {"name": f"K{i}", "type": "t"}],
                relations=[{"source": f"K{i}", "target": "Lisbon", "type": "in"}],
                ttl=3600 if i == 0 else None,
            ).id
        )
    return snapshot(store, ids)


def snapshot(store: HybridStore, ids: list[str]) -> dict[str, Any]:
    """Each memory as read back, the user's entities, its history, and a graph search."""
    out: dict[str, Any] = {}
    for memory_id in ids:
        memory = store.get(memory_id)
        assert memory is not None
        hits = store.search(embedding=memory.embedding, user_id="keeper", limit=1, graph=True)
        out[memory_id] = (
            memory.model_dump(),
            sorted((e.name, e.type) for e in store.entities(user_id="keeper")),
            [h.model_dump() for h in store.history(memory_id)],
            hits[0].memory.id,
            sorted((r.id, r.source, r.type, r.target) for r in hits[0].relations),
        )
    return out


def assert_live_intact(store: HybridStore, before: dict[str, Any]) -> None:
    assert snapshot(store, list(before)) == before
    assert store.stats()["pending_operations"] == 0
