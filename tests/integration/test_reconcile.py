"""reconcile(): finds every kind of orphan, fixes them with fix=True, spares adds in flight."""

from __future__ import annotations

from hybridmem import HybridStore, Scope
from hybridmem.testing.builders import memory_graph, memory_id, vector_record
from tests.integration.checks import assert_no_half_memory_or_orphan


def test_reconcile_reports_then_fixes(store: HybridStore) -> None:
    kept = store.add(
        "kept",
        embedding=[1.0, 0.5, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        user_id="u",
        entities=[{"name": "Kept", "type": "t"}],
    )
    alice = Scope(user_id="alice")
    # A vector whose memory node never arrived, and a node whose vector is gone.
    store.vector.upsert([vector_record("lonely-vector", alice)])
    store.graph.add_memories(
        [memory_graph("lonely-node", alice, (("A", "t"), ("B", "t")), (("A", "B", "r"),))]
    )
    # An add in flight: its vector exists, its node not yet. Never an orphan.
    in_flight = vector_record("in-flight", alice)
    op = store.journal.begin("add", scope=alice, memory_id=in_flight.id)
    store.vector.upsert([in_flight])

    report = store.reconcile()
    assert not report.fixed
    assert report.found.orphan_vectors == 1
    assert report.found.orphan_memory_nodes == 1
    assert report.removed.total() == 0
    assert store.vector.existing_ids([memory_id("lonely-vector")])

    fixed = store.reconcile(fix=True)
    assert fixed.removed.orphan_vectors == 1 and fixed.removed.orphan_memory_nodes == 1
    # The lonely node's entities were only reachable through it.
    assert fixed.removed.orphan_entities == 2
    assert store.get(kept.id) is not None
    assert store.vector.existing_ids([in_flight.id]) == {in_flight.id}

    # Finishing (here: rolling back) the in-flight add leaves a clean store.
    store.journal.fail(op, "simulated crash")
    store.recover()
    assert_no_half_memory_or_orphan(store)
    assert store.reconcile().found.total() == 0
