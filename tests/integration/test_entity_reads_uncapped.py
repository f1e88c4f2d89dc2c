"""get_all(entity=) returns every match: no count of newer memories hides older ones (issue 25).

It read the 10,000 newest memories of the user's namespace mentioning the
entity and filtered them afterwards, so 10,005 newer expired memories, or
10,005 of another run, hid the 3 it should return.
"""

from __future__ import annotations

from typing import Any

from hybridmem import HybridStore
from hybridmem.testing.builders import embedding
from tests.conftest import narrowed_to_production_pairs

# Every adapter's graph reads are in one of the production pairs.
pair_config = narrowed_to_production_pairs()

PAST = "2020-01-01T00:00:00+00:00"
MANY = 10_005
VECTOR = embedding("needle")


def _needles(n: int, run_id: str, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "text": f"{run_id} needle {i}",
            "embedding": VECTOR,
            "user_id": "alice",
            "run_id": run_id,
            "entities": [{"name": "Needle", "type": "thing"}],
            **extra,
        }
        for i in range(n)
    ]


def test_newer_expired_memories_hide_nothing(store: HybridStore) -> None:
    live = store.add_many(_needles(3, "r1")).ids
    store.add_many(_needles(MANY, "r1", expires_at=PAST), batch_size=2_000)
    found = store.get_all(user_id="alice", entity="Needle")
    assert sorted(m.id for m in found) == sorted(live)
    assert [m.id for m in store.get_all(user_id="alice", entity="Needle", limit=1, offset=2)] == [
        m.id for m in found[2:]
    ]


def test_newer_memories_of_another_run_hide_nothing(store: HybridStore) -> None:
    mine = store.add_many(_needles(3, "r1")).ids
    store.add_many(_needles(MANY, "r2"), batch_size=2_000)
    found = store.get_all(user_id="alice", run_id="r1", entity="Needle")
    assert sorted(m.id for m in found) == sorted(mine)
    assert len(store.get_all(user_id="alice", entity="Needle")) == MANY + 3
