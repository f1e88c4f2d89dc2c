"""Erasures stay final: updates and deletes racing them, over Python and REST, every pair.

A few rounds each, enough to catch the race (before the fix an update racing
delete_all brought back 15 of 40 memories per round); tests/reliability/ runs more.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem import HybridStore
from hybridmem.faults import InjectedFault
from hybridmem.testing.builders import embedding
from hybridmem.testing.pair_checks import assert_no_half_memory_or_orphan
from hybridmem.testing.pair_fixtures import PairConfig
from hybridmem.testing.pair_suite import PairSuite
from hybridmem.testing.races import (
    SURFACES,
    Surface,
    deletes_race_delete_all,
    open_surface,
    resurrected,
    update_races_delete,
    updates_race_delete_all,
)

N, WORKERS = 24, 12


def _none_back(store: HybridStore, bad: list[str], what: str) -> None:
    assert bad == [], f"{len(bad)} of {N} memories {what}"
    assert_no_half_memory_or_orphan(store)


class FinalitySuite(PairSuite):
    """Erasures stay final: updates and deletes racing ``delete_all`` or ``delete``,
    over the Python API and REST (needs the ``server`` extra), bring nothing back.

    Troubleshooting: a write that finds its memory gone must write nothing; an
    upsert must not recreate a record another thread deleted meanwhile."""

    @pytest.fixture(params=SURFACES)
    def surface(self, request: pytest.FixtureRequest, store: HybridStore) -> Iterator[Surface]:
        with open_surface(request.param, store) as opened:
            yield opened

    def test_updates_racing_delete_all_bring_nothing_back(
        self, store: HybridStore, surface: Surface
    ) -> None:
        _none_back(
            store, updates_race_delete_all(store, surface, n=N, workers=WORKERS), "came back"
        )
        metadata_only = updates_race_delete_all(
            store, surface, n=N, workers=WORKERS, metadata_only=True
        )
        _none_back(store, metadata_only, "came back after metadata-only updates")

    def test_deletes_racing_delete_all_erase_each_memory_once(
        self, store: HybridStore, surface: Surface
    ) -> None:
        bad = deletes_race_delete_all(store, surface, n=N, workers=WORKERS)
        _none_back(store, bad, "left or erased twice")

    def test_update_racing_delete_of_the_same_id_never_brings_it_back(
        self, store: HybridStore, surface: Surface
    ) -> None:
        _none_back(store, update_races_delete(store, surface, n=N, workers=WORKERS), "came back")

    @pytest.mark.parametrize("erasure", ["delete", "delete_all"])
    def test_recovering_an_interrupted_update_never_brings_back_what_was_erased_since(
        self, pair_config: PairConfig, tmp_path: Path, erasure: str
    ) -> None:
        armed = {"update.vector_written"}

        def hook(point: str) -> None:
            if point in armed:
                armed.discard(point)
                raise InjectedFault(point)

        config = {**pair_config(tmp_path / "d"), "recover_on_open": False}
        with HybridStore(config, fault_hook=hook) as store:
            memory = store.add("secret", embedding=embedding("secret"), user_id="u")
            with pytest.raises(InjectedFault):
                store.update(memory.id, text="new secret")
            assert len(store.journal.pending()) == 1, "the interrupted update is pending"
            if erasure == "delete":
                store.delete(memory.id)
            else:
                store.delete_all(user_id="u")
            recovered = store.recover()
            assert [r.kind for r in recovered] == ["update"]
            assert resurrected(store, [memory.id]) == [], "recovery wrote the erased memory back"
            assert store.get(memory.id) is None
            assert_no_half_memory_or_orphan(store)
