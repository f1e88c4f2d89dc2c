"""No row can block the store: a memory whose stored fields no longer decode (written
there by something other than hybridmem) fails only a read that asks for it by id.

Reads of many memories (list, search, export, purge) leave it out and log it; delete
and delete_all still erase it. The damage is written straight into the vector store,
as outside interference would: on Kuzu a created_at that does not parse (the
"999-06-01…" the old unpadded writer produced), on Weaviate (whose DATE type refuses
such text) metadata that is not JSON.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hybridmem import HybridStore
from hybridmem.errors import UnreadableRecordError
from hybridmem.models import Scope
from hybridmem.portability import iter_export
from hybridmem.purger import PurgeLoop
from hybridmem.records import read_one
from tests.integration.raw import vector_ids


def _damage(store: HybridStore, memory_id: str) -> None:
    vector: Any = store.vector
    if hasattr(vector, "_collection_name"):
        collection = vector._client.collections.use(vector._collection_name)
        collection.data.update(uuid=memory_id, properties={"metadata": "{not json"})
        return
    if type(vector).__name__ == "SQLiteVectorStore":
        # Its indexes hold digests; the row's own created_at is what a read decodes.
        vector._db.execute(
            "UPDATE vec SET created_at = ? WHERE id = ?",
            ("999-06-01T00:00:00.000000+00:00", memory_id),
        )
        return
    vector._db.rows(
        "MATCH (v:Vec {id: $id}) SET v.created_at = $t",
        {"id": memory_id, "t": "999-06-01T00:00:00.000000+00:00"},
    )
    # The search cache holds rows as read before the damage; a process opening the
    # file afterwards would not have them.
    vector._cache.clear()


def _seed(store: HybridStore) -> tuple[str, list[str]]:
    """Three memories of alice and one of bob, all under agent a1; the id of the one
    of alice that gets damaged, and the others'."""
    ids = [
        store.add(
            f"fact {i}",
            embedding=[1.0, float(i) / 10],
            user_id=user,
            agent_id="a1",
            entities=[{"name": f"E{i}", "type": "t"}],
        ).id
        for i, user in enumerate(("alice", "alice", "alice", "bob"))
    ]
    _damage(store, ids[1])
    return ids[1], [ids[0], ids[2], ids[3]]


def test_one_unreadable_memory_leaves_every_read_of_the_others_working(
    store: HybridStore, caplog: pytest.LogCaptureFixture
) -> None:
    bad, others = _seed(store)
    with caplog.at_level(logging.WARNING, logger="hybridmem.records"):
        assert sorted(m.id for m in store.get_all(agent_id="a1")) == sorted(others)
        assert sorted(m.id for m in store.get_all(user_id="alice")) == sorted(
            [others[0], others[1]]
        )
        hits = store.search(embedding=[1.0, 0.1], agent_id="a1", limit=10)
        assert sorted(h.memory.id for h in hits) == sorted(others)
        lines = list(iter_export(store, Scope()))
    assert sorted(line["id"] for line in lines if line["type"] == "memory") == sorted(others)
    assert lines[-1]["type"] == "end" and lines[-1]["memories"] == 3
    assert any(bad in record.getMessage() for record in caplog.records)
    for other in others:
        found = store.get(other)
        assert found is not None and found.id == other


def test_a_read_by_the_unreadable_id_fails_naming_it_and_delete_erases_it(
    store: HybridStore,
) -> None:
    bad, _others = _seed(store)
    with pytest.raises(UnreadableRecordError) as raised:
        read_one(store.vector, bad)
    assert raised.value.memory_id == bad and bad in str(raised.value)
    with pytest.raises(UnreadableRecordError, match=bad):
        store.get(bad)
    # A scoped caller cannot tell whose it is: as absent as another scope's memory.
    assert store.get(bad, user_id="someone-else") is None
    result = store.delete(bad)
    assert result.memories == 1
    assert bad not in vector_ids(store)
    assert read_one(store.vector, bad) == []
    assert len(store.get_all(agent_id="a1")) == 3


def test_delete_all_erases_an_unreadable_memory_with_its_scope(store: HybridStore) -> None:
    _bad, others = _seed(store)
    store.delete_all(user_id="alice")
    assert vector_ids(store) == {others[2]}
    assert [m.id for m in store.get_all(agent_id="a1")] == [others[2]]


def test_an_unreadable_expired_memory_does_not_stop_the_purge(store: HybridStore) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    items = [
        {"text": f"old {i}", "embedding": [1.0, float(i)], "user_id": "carol", "expires_at": past}
        for i in range(3)
    ]
    expired = store.add_many(items).ids
    _damage(store, expired[0])
    kept = store.add("kept", embedding=[0.0, 1.0], user_id="carol").id
    loop = PurgeLoop(store, 0.05).start()
    try:
        deadline = time.monotonic() + 30
        while loop.runs < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loop.alive and loop.runs >= 2
    finally:
        loop.stop()
    assert vector_ids(store) == {kept}
    assert not store.journal.pending()
    assert [m.id for m in store.get_all(user_id="carol")] == [kept]
