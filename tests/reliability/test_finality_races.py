"""Erasures stay final under heavier races than tests/integration/test_finality.py runs:
more memories and more threads, over Python and REST, on every pair.

Before the fix, an update racing delete_all brought back 10-16 of 24 memories per
round, and 15-16 of 40 in the issue's own reproduction.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hybridmem import HybridStore
from tests.conftest import with_tenancy_pair
from tests.integration.checks import assert_no_half_memory_or_orphan
from tests.integration.races import (
    SURFACES,
    Surface,
    deletes_race_delete_all,
    open_surface,
    update_races_delete,
    updates_race_delete_all,
)
from tests.reliability import tally

# Also on Weaviate with multi_tenancy = true: its erasures drop a tenant.
pair_config = with_tenancy_pair()

N, WORKERS = 40, 16


@pytest.fixture(params=SURFACES)
def surface(request: pytest.FixtureRequest, store: HybridStore) -> Iterator[Surface]:
    with open_surface(request.param, store) as opened:
        yield opened


def test_writes_racing_erasures_bring_nothing_back(store: HybridStore, surface: Surface) -> None:
    failures: dict[str, int] = {}
    for label, bad in (
        ("update vs delete_all", updates_race_delete_all(store, surface, n=N, workers=WORKERS)),
        (
            # Metadata-only updates brought back the original, erased text.
            "metadata-only update vs delete_all",
            updates_race_delete_all(store, surface, n=N, workers=WORKERS, metadata_only=True),
        ),
        ("delete vs delete_all", deletes_race_delete_all(store, surface, n=N, workers=WORKERS)),
        ("update vs delete", update_races_delete(store, surface, n=N, workers=WORKERS)),
    ):
        tally.count("operations under concurrency", 2 * N)
        if bad:
            failures[label] = len(bad)
    assert failures == {}, f"memories back (of {N} each): {failures}"
    assert_no_half_memory_or_orphan(store)
