"""migrate: every memory of the scope reaches the other pair exactly, nothing else does,
running it again copies nothing, and verify() notices a destination that differs.

Each production pair (kuzu+kuzu, neo4j+weaviate: every adapter is in one) is
covered in both directions: the pair is the source and an embedded kuzu+kuzu
store the destination, and the reverse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hybridmem import HybridStore, Scope, ValidationError
from hybridmem.errors import DimensionMismatchError
from hybridmem.migration import MigrationProgress, migrate, verify
from hybridmem.testing.builders import embedding
from tests.conftest import PairConfig, narrowed_to_production_pairs
from tests.integration.checks import assert_no_half_memory_or_orphan
from tests.integration.migration_checks import assert_same_memories, records_in, seed_varied

# Each adapter's batch writes are in one of the production pairs.
pair_config = narrowed_to_production_pairs()

Stores = tuple[HybridStore, HybridStore]


@pytest.fixture(params=["pair_to_embedded", "embedded_to_pair"])
def stores(
    request: pytest.FixtureRequest, pair_config: PairConfig, tmp_path: Path
) -> Iterator[Stores]:
    """(source, destination): the pair under test on one side, kuzu+kuzu on the other."""
    with (
        HybridStore(pair_config(tmp_path / "pair")) as pair,
        HybridStore.embedded(tmp_path / "embedded") as embedded,
    ):
        yield (pair, embedded) if request.param == "pair_to_embedded" else (embedded, pair)


def test_everything_is_copied_exactly_and_verified(stores: Stores) -> None:
    source, destination = stores
    ids = seed_varied(source)
    seen: list[MigrationProgress] = []
    report = migrate(source, destination, Scope(), batch_size=4, progress=seen.append)
    assert report.verified, report
    assert (report.total, report.copied, report.already_present) == (len(ids), len(ids), 0)
    assert report.batches == -(-len(ids) // 4)
    assert report.checked == report.destination_vectors == report.destination_memory_nodes
    assert (report.mismatched, report.mismatched_ids) == (0, [])
    assert_same_memories(source, destination, Scope())
    assert_no_half_memory_or_orphan(destination)
    assert sorted(e.id for e in destination.entities()) == sorted(e.id for e in source.entities())
    copying = [p.done for p in seen if p.phase == "copying"]
    assert copying == sorted(copying) and copying[-1] == len(ids)
    assert seen[-1] == MigrationProgress(phase="done", done=len(ids), total=len(ids))
    # History is not copied: the destination's starts with the copy.
    assert [e.kind for e in destination.history(ids["updated"])] == ["ADD"]
    assert destination.history(ids["updated"])[0].new_text == "alice plain (edited)"


@pytest.mark.parametrize(
    "scope",
    [Scope(user_id="alice"), Scope(user_id="alice", agent_id="a2"), Scope(run_id="run1")],
    ids=lambda s: "-".join(s.parts().values()),
)
def test_a_scope_only_copies_that_scope(stores: Stores, scope: Scope) -> None:
    source, destination = stores
    seed_varied(source)
    # Memories of the destination outside the scope do not disturb the verification.
    kept = destination.add("dave's own", embedding=embedding("dave"), user_id="dave").id
    report = migrate(source, destination, scope, batch_size=2)
    expected = records_in(source, scope)
    assert report.verified, report
    assert report.copied == len(expected) > 0
    assert_same_memories(source, destination, scope)
    assert set(records_in(destination, Scope())) == set(expected) | {kept}
    assert destination.relations(user_id="bob") == []
    assert destination.entities(user_id="bob") == []
    assert_no_half_memory_or_orphan(destination)


def test_running_it_again_copies_nothing_and_still_verifies(stores: Stores) -> None:
    source, destination = stores
    ids = seed_varied(source, bulk=4)
    first = migrate(source, destination, Scope(user_id="alice"), batch_size=3)
    again = migrate(source, destination, Scope(user_id="alice"), batch_size=3)
    assert again.verified and first.verified
    assert (again.copied, again.already_present, again.batches) == (0, first.copied, 0)
    whole = migrate(source, destination, Scope(), batch_size=3)
    assert whole.verified
    assert (whole.copied, whole.already_present) == (len(ids) - first.copied, first.copied)
    assert_same_memories(source, destination, Scope())


def test_verify_reports_a_destination_that_differs(stores: Stores) -> None:
    source, destination = stores
    ids = seed_varied(source, bulk=2)
    alice = Scope(user_id="alice")
    assert migrate(source, destination, alice).verified
    destination.update(ids["rich"], text="tampered")
    report = verify(source, destination, alice)
    assert not report.verified
    assert (report.mismatched, report.mismatched_ids) == (1, [ids["rich"]])
    assert report.source_vectors == report.destination_vectors  # same counts, other content
    destination.update(ids["rich"], text="Zoë visits Paris")
    # Its updated_at moved: still reported, at the timestamp.
    assert verify(source, destination, alice).mismatched_ids == [ids["rich"]]
    destination.delete(ids["rich"])
    assert migrate(source, destination, alice).verified, "a rerun repairs a missing memory"
    extra = destination.add("not in the source", embedding=embedding("x"), user_id="alice")
    report = verify(source, destination, alice)
    assert not report.verified and report.mismatched == 0
    assert report.destination_vectors == report.source_vectors + 1
    assert report.destination_memory_nodes == report.source_memory_nodes + 1
    destination.delete(extra.id)
    destination.graph.delete_memories([ids["shared"]])
    report = verify(source, destination, alice)
    assert not report.verified and report.mismatched_ids == [ids["shared"]]


def test_the_same_store_is_refused(stores: Stores) -> None:
    source, _ = stores
    source.add("x", embedding=embedding("x"), user_id="alice")
    with pytest.raises(ValidationError, match="the same store: they share the journal"):
        migrate(source, source, Scope())


def test_another_dimension_is_refused_before_copying(stores: Stores) -> None:
    source, destination = stores
    seed_varied(source, bulk=0)
    destination.add("short vectors", embedding=[0.1, 0.2, 0.3], user_id="zed")
    with pytest.raises(DimensionMismatchError, match="8 dimensions but the destination holds 3"):
        migrate(source, destination, Scope(user_id="alice"))
    assert set(records_in(destination, Scope())) == {
        r.id for r in destination.get_all(user_id="zed")
    }
