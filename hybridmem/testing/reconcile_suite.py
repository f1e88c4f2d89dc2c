"""reconcile(): finds every kind of orphan, fixes them with fix=True, spares adds in flight."""

from __future__ import annotations

from pathlib import Path

from hybridmem import HybridStore, Scope
from hybridmem.testing import raw
from hybridmem.testing.builders import embedding, memory_graph, memory_id, vector_record
from hybridmem.testing.pair_checks import assert_no_half_memory_or_orphan
from hybridmem.testing.pair_fixtures import PairConfig
from hybridmem.testing.pair_suite import PairSuite


class ReconcileSuite(PairSuite):
    """``reconcile()`` finds every kind of orphan (checked with the witness, not with
    reconcile itself), fixes them with ``fix=True``, counts every batch and spares
    adds in flight.

    Troubleshooting: the orphan ``count_*`` / ``delete_*`` methods of both ports."""

    def test_reconcile_reports_then_fixes(self, store: HybridStore) -> None:
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

    def test_reconcile_finds_and_fixes_dangling_relations_and_orphan_entities(
        self,
        store: HybridStore,
    ) -> None:
        """Outside interference removes memory nodes behind the store's back; reconcile
        must find what that left (checked with plain queries, not reconcile itself)."""
        kept = store.add(
            "kept",
            embedding=[1.0, 0.5, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            user_id="u",
            entities=[{"name": "Kept", "type": "t"}, {"name": "Shared", "type": "t"}],
            relations=[{"source": "Kept", "target": "Shared", "type": "r"}],
        )
        lost = store.add(
            "lost",
            embedding=[0.5, 1.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            user_id="u",
            entities=[{"name": "Lonely", "type": "t"}, {"name": "Shared", "type": "t"}],
            relations=[
                {"source": "Lonely", "target": "Far", "type": "r"},
                {"source": "Shared", "target": "Lonely", "type": "r"},
            ],
        )
        raw.detach_memory_node(store, lost.id)
        store.vector.delete([lost.id])
        dangling = {r for r, m in raw.relation_memory_ids(store).items() if m == lost.id}
        assert len(dangling) == 2

        found = store.reconcile().found
        assert found.dangling_relations == 2
        assert found.orphan_entities == 0, "Lonely and Far still have their dangling relations"
        assert found.orphan_vectors == found.orphan_memory_nodes == 0
        assert set(raw.relation_memory_ids(store)) >= dangling, "a report must not remove anything"

        fixed = store.reconcile(fix=True)
        assert fixed.removed.dangling_relations == 2
        # Without their relations, Lonely and Far are orphans; Shared is still used by "kept".
        assert fixed.removed.orphan_entities == 2
        assert set(raw.relation_memory_ids(store).values()) == {kept.id}
        assert raw.orphan_entity_ids(store) == set()
        names = {e.name for e in store.entities(user_id="u")}
        assert names == {"Kept", "Shared"}
        assert store.reconcile().found.total() == 0
        assert_no_half_memory_or_orphan(store)

    def test_reconcile_finds_and_fixes_an_entity_left_bare(self, store: HybridStore) -> None:
        store.add(
            "a",
            embedding=[1.0, 0.5, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
            user_id="u",
            entities=[{"name": "Bare", "type": "t"}, {"name": "Used", "type": "t"}],
        )
        # Outside interference: the MENTIONS edge to Bare is gone, the entity stays.
        raw.drop_mentions_of(store, "Bare")
        assert len(raw.orphan_entity_ids(store)) == 1
        assert store.reconcile().found.orphan_entities == 1
        assert len(raw.orphan_entity_ids(store)) == 1
        assert store.reconcile(fix=True).removed.orphan_entities == 1
        assert raw.orphan_entity_ids(store) == set()
        assert {e.name for e in store.entities(user_id="u")} == {"Used"}

    def test_reconcile_counts_every_batch_and_erases_orphan_history(
        self, pair_config: PairConfig, tmp_path: Path
    ) -> None:
        # Batches of 2 over 5 orphans of each kind: every batch is counted, not the last.
        with HybridStore({**pair_config(tmp_path / "d"), "batch_size": 2}) as store:
            alice = Scope(user_id="alice")
            for i in range(4):
                store.vector.upsert([vector_record(f"lonely-vector-{i}", alice)])
                store.graph.add_memories(
                    [memory_graph(f"lonely-node-{i}", alice, ((f"E{i}", "t"),))]
                )
            store.vector.upsert([vector_record("lonely-vector-4", alice)])
            # The fifth node has a history: its vector went missing after a real add.
            secret = store.add(
                "secret",
                embedding=embedding("secret"),
                user_id="alice",
                entities=[{"name": "E4", "type": "t"}],
            )
            store.vector.delete([secret.id])
            fixed = store.reconcile(fix=True)
            expected = {
                "orphan_vectors": 5,
                "orphan_memory_nodes": 5,
                "dangling_relations": 0,
                "orphan_entities": 5,
            }
            assert fixed.found.model_dump() == fixed.removed.model_dump() == expected
            [op_id] = raw.operation_ids(store.journal.path, "reconcile")
            info = store.operation(op_id)
            assert info is not None and (info.state, info.counts) == ("done", expected)
            assert raw.history_texts(store.journal.path, [secret.id]) == 0
            assert {e.erased_by for e in store.history(secret.id)} == {op_id}
            assert raw.vector_ids(store) == raw.memory_node_ids(store) == set()
