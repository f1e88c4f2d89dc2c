"""The GraphStore port's contract: ``GraphStoreContract``.

Subclass it and override the ``graph_store`` fixture to yield a fresh, empty store.
Each test's docstring ends with a Troubleshooting hint for adapter authors.
"""

from __future__ import annotations

from dataclasses import replace

from hybridmem.models import Scope
from hybridmem.ports import GraphStore
from hybridmem.records import relation_id
from hybridmem.testing.builders import memory_graph, memory_id
from hybridmem.testing.contract_base import (
    ALICE,
    ALICE_A1,
    ALICE_A1_R1,
    ALICE_A2,
    ALICE_LIVES_IN_PARIS,
    BOB,
    TRICKY,
    StoreFixtures,
)


class GraphStoreContract(StoreFixtures):
    def test_is_a_graph_store(self, graph_store: GraphStore) -> None:
        """Troubleshooting: implement every method of hybridmem.ports.GraphStore."""
        assert isinstance(graph_store, GraphStore)
        assert graph_store.name and graph_store.address

    def test_add_and_read_back(self, graph_store: GraphStore) -> None:
        """Troubleshooting: add_memories must write node, entities, MENTIONS and RELATES."""
        graph_store.add_memories([ALICE_LIVES_IN_PARIS])
        node = graph_store.get_memory_node(memory_id("m1"))
        assert node is not None and node.scope == ALICE_A1
        assert sorted(e.name for e in graph_store.entities("alice")) == ["Alice", "Paris"]
        [(relation, source, target)] = graph_store.relations(ALICE)
        assert (relation.type, source, target) == ("lives_in", "Alice", "Paris")
        assert relation.memory_id == memory_id("m1") and relation.agent_id == "a1"
        assert graph_store.stats() == {"memory_nodes": 1, "entities": 2, "relations": 1}

    def test_writing_twice_leaves_one_record(self, graph_store: GraphStore) -> None:
        """Troubleshooting: MERGE by id (memory, entity, relation id) instead of CREATE."""
        item = memory_graph("m1", ALICE, (("A", "t"), ("B", "t")), (("A", "B", "r"),))
        graph_store.add_memories([item])
        graph_store.add_memories([item])
        assert graph_store.stats() == {"memory_nodes": 1, "entities": 2, "relations": 1}

    def test_entities_are_shared_within_a_user_only(self, graph_store: GraphStore) -> None:
        """Troubleshooting: entity ids come from the core; MERGE on id only."""
        graph_store.add_memories(
            [
                memory_graph("m1", ALICE_A1, (("Paris", "city"),)),
                memory_graph("m2", ALICE_A2, (("Paris", "city"),)),
                memory_graph("m3", BOB, (("Paris", "city"),)),
            ]
        )
        assert len(graph_store.entities("alice")) == 1
        assert len(graph_store.entities("bob")) == 1
        assert len(graph_store.entities()) == 2

    def test_scope_lookup_is_exact(self, graph_store: GraphStore) -> None:
        """Troubleshooting: compare scope properties with =, never LIKE, regex or tokens."""
        graph_store.add_memories(
            [memory_graph(f"t{i}", Scope(user_id=v)) for i, v in enumerate(TRICKY)]
            + [memory_graph("plain", Scope(user_id="alice"))]
        )
        for i, value in enumerate(TRICKY):
            assert graph_store.scope_memory_ids(Scope(user_id=value), 100) == [memory_id(f"t{i}")]
        assert graph_store.scope_memory_ids(ALICE, 100) == [memory_id("plain")]

    def test_scope_parts_and_together(self, graph_store: GraphStore) -> None:
        """Troubleshooting: absent parts must not constrain; given parts AND together."""
        graph_store.add_memories(
            [
                memory_graph("m1", ALICE_A1_R1),
                memory_graph("m2", ALICE_A1),
                memory_graph("m3", ALICE_A2),
                memory_graph("m4", Scope(agent_id="a1")),
            ]
        )
        ids = {label: memory_id(label) for label in ("m1", "m2", "m3", "m4")}
        assert set(graph_store.scope_memory_ids(ALICE_A1, 10)) == {ids["m1"], ids["m2"]}
        assert set(graph_store.scope_memory_ids(Scope(agent_id="a1"), 10)) == {
            ids["m1"],
            ids["m2"],
            ids["m4"],
        }
        assert graph_store.scope_memory_ids(Scope(run_id="r1"), 10) == [ids["m1"]]
        assert len(graph_store.scope_memory_ids(ALICE, 2)) == 2

    def test_delete_removes_relations_and_only_orphaned_entities(
        self, graph_store: GraphStore
    ) -> None:
        """Troubleshooting: delete RELATES by memory_id, then check only touched entities."""
        graph_store.add_memories(
            [
                ALICE_LIVES_IN_PARIS,
                memory_graph(
                    "m2",
                    ALICE_A2,
                    (("Paris", "city"), ("Tea", "drink")),
                    (("Paris", "Tea", "serves"),),
                ),
            ]
        )
        counts = graph_store.delete_memories([memory_id("m1")])
        assert (counts.memory_nodes, counts.relations, counts.orphan_entities) == (1, 1, 1)
        assert sorted(e.name for e in graph_store.entities("alice")) == ["Paris", "Tea"]
        assert [r.type for r, _, _ in graph_store.relations()] == ["serves"]
        assert graph_store.get_memory_node(memory_id("m1")) is None

    def test_entity_kept_while_another_memory_relates_it(self, graph_store: GraphStore) -> None:
        """Troubleshooting: an entity with a RELATES edge is not an orphan."""
        graph_store.add_memories(
            [
                memory_graph("m1", ALICE, (("Bob", "person"),)),
                memory_graph(
                    "m2",
                    ALICE,
                    (("Carol", "person"), ("Bob", "person")),
                    (("Carol", "Bob", "knows"),),
                ),
            ]
        )
        graph_store.delete_memories([memory_id("m1")])
        assert sorted(e.name for e in graph_store.entities("alice")) == ["Bob", "Carol"]

    def test_deleting_missing_ids_is_a_no_op(self, graph_store: GraphStore) -> None:
        """Troubleshooting: journal replay deletes ids twice; it must count zero, not fail."""
        graph_store.add_memories([memory_graph("m1", ALICE)])
        assert graph_store.delete_memories([memory_id("nope")]).memory_nodes == 0
        first = graph_store.delete_memories([memory_id("m1")])
        again = graph_store.delete_memories([memory_id("m1")])
        assert first.memory_nodes == 1 and again.memory_nodes == 0
        assert graph_store.delete_memories([]).memory_nodes == 0

    def test_count_scope_predicts_delete(self, graph_store: GraphStore) -> None:
        """Troubleshooting: count_scope must not write; orphans are entities no memory
        outside the scope would still reach."""
        graph_store.add_memories(
            [
                memory_graph("m1", ALICE_A1, (("A", "t"), ("B", "t")), (("A", "B", "r"),)),
                memory_graph("m2", ALICE_A1, (("B", "t"), ("C", "t"))),
                memory_graph("m3", ALICE_A2, (("C", "t"),)),
            ]
        )
        predicted = graph_store.count_scope(ALICE_A1)
        assert graph_store.stats()["memory_nodes"] == 3
        assert (predicted.memory_nodes, predicted.relations, predicted.orphan_entities) == (2, 1, 2)
        ids = graph_store.scope_memory_ids(ALICE_A1, 100)
        assert graph_store.delete_memories(ids) == predicted

    def test_reconcile_finds_and_fixes_orphans(self, graph_store: GraphStore) -> None:
        """Troubleshooting: a dangling relation is one whose memory_id has no memory
        node, unless that id is protected; an orphan entity has no MENTIONS and no
        RELATES edge. The count_* and delete_* methods may scan."""
        # m1 writes, besides its own relations, one in the name of a memory whose node
        # never arrived ("ghost", as a crash leaves it) and one of an add in flight.
        item = memory_graph(
            "m1", ALICE, (("A", "t"), ("B", "t"), ("C", "t")), (("A", "B", "r"), ("B", "C", "r"))
        )
        ghost, in_flight = memory_id("ghost"), memory_id("in-flight")
        strays = (
            replace(item.relations[0], id=relation_id(ghost, 0), memory_id=ghost),
            replace(item.relations[1], id=relation_id(in_flight, 0), memory_id=in_flight),
        )
        graph_store.add_memories(
            [
                replace(item, relations=item.relations + strays),
                memory_graph("kept", ALICE, (("K", "t"),)),
            ]
        )
        assert graph_store.count_dangling_relations([]) == 2
        assert graph_store.count_dangling_relations([in_flight]) == 1
        # m1 goes; its own relations with it, the strays stay and keep A, B, C in use.
        assert graph_store.delete_memories([memory_id("m1")]).relations == 2
        assert graph_store.count_dangling_relations([in_flight]) == 1
        assert graph_store.count_orphan_entities() == 0

        assert graph_store.delete_dangling_relations([in_flight]) == 1
        assert [r.memory_id for r, _, _ in graph_store.relations()] == [in_flight]
        assert graph_store.count_dangling_relations([in_flight]) == 0
        # A lost its only edge with the ghost relation; B and C keep the in-flight one.
        assert graph_store.count_orphan_entities() == 1
        assert graph_store.delete_orphan_entities() == 1
        assert graph_store.count_orphan_entities() == 0
        assert sorted(e.name for e in graph_store.entities("alice")) == ["B", "C", "K"]
        ids = [i for batch in graph_store.iter_memory_ids(1) for i in batch]
        assert ids == [memory_id("kept")]
        assert graph_store.stats() == {"memory_nodes": 1, "entities": 3, "relations": 1}

    def test_touch_memory(self, graph_store: GraphStore) -> None:
        """Troubleshooting: touch_memory returns False for a missing id."""
        graph_store.add_memories([memory_graph("m1", ALICE)])
        from hybridmem.testing.builders import BASE_TIME

        later = BASE_TIME.replace(year=2027)
        assert graph_store.touch_memory(memory_id("m1"), later) is True
        node = graph_store.get_memory_node(memory_id("m1"))
        assert node is not None and node.updated_at == later
        assert graph_store.touch_memory(memory_id("missing"), later) is False
        assert graph_store.existing_memory_ids([memory_id("m1"), memory_id("x")]) == {
            memory_id("m1")
        }

    def test_reset_empties(self, graph_store: GraphStore) -> None:
        """Troubleshooting: reset removes every node and edge this store wrote."""
        graph_store.add_memories([memory_graph("m1", ALICE, (("A", "t"),))])
        graph_store.reset()
        assert graph_store.stats() == {"memory_nodes": 0, "entities": 0, "relations": 0}

    # -- graph reads ----------------------------------------------------------------

    def _seed_graph(self, graph_store: GraphStore) -> None:
        graph_store.add_memories(
            [
                memory_graph(
                    "g1",
                    ALICE_A1,
                    (("Alice", "person"), ("Lisbon", "city"), ("Sam", "person")),
                    (("Alice", "Lisbon", "lives_in"), ("Alice", "Sam", "partner_of")),
                ),
                memory_graph(
                    "g2",
                    ALICE_A2,
                    (("Lisbon", "city"), ("Portugal", "country")),
                    (("Lisbon", "Portugal", "in"),),
                ),
                memory_graph("g3", ALICE, (("Sam", "person"),)),
                # bob has his own Lisbon, Alice and relation: never seen from alice.
                memory_graph(
                    "b1",
                    BOB,
                    (("Alice", "person"), ("Lisbon", "city")),
                    (("Alice", "Lisbon", "visited"),),
                ),
            ]
        )

    def test_find_entities_by_name_in_one_namespace(self, graph_store: GraphStore) -> None:
        """Troubleshooting: compare names as normalise_name does, and read only the
        user's namespace (start from the user's scope, never a label scan)."""
        self._seed_graph(graph_store)
        found = graph_store.find_entities("alice", ["  lisbon ", "SAM"])
        assert sorted((e.name, e.user_id) for e in found) == [
            ("Lisbon", "alice"),
            ("Sam", "alice"),
        ]
        assert [e.user_id for e in graph_store.find_entities("bob", ["Lisbon"])] == ["bob"]
        assert graph_store.find_entities("carol", ["Lisbon"]) == []
        assert graph_store.find_entities("alice", ["Nowhere"]) == []

    def test_mentioning_memory_ids_stays_in_namespace(self, graph_store: GraphStore) -> None:
        """Troubleshooting: expand MENTIONS from the entity ids given; keep memories
        whose user_id is the caller's; newest first; honour the limit."""
        self._seed_graph(graph_store)
        [lisbon] = graph_store.find_entities("alice", ["Lisbon"])
        found = graph_store.mentioning_memory_ids([lisbon.id], ALICE, 10)
        assert sorted(m for m, _ in found) == sorted([memory_id("g1"), memory_id("g2")])
        assert {n for _, n in found} == {1}
        assert len(graph_store.mentioning_memory_ids([lisbon.id], ALICE, 1)) == 1
        assert graph_store.mentioning_memory_ids([lisbon.id], BOB, 10) == []

    def test_mentioning_memory_ids_follows_the_scope_and_pages(
        self, graph_store: GraphStore
    ) -> None:
        """Troubleshooting: every part the scope gives must equal the memory's (an
        empty scope does not constrain); each memory once, with how many of the
        given entities it mentions; newest first, then id descending (a total
        order: the core pages with offset and limit)."""
        self._seed_graph(graph_store)
        [lisbon, sam] = sorted(
            graph_store.find_entities("alice", ["Lisbon", "Sam"]), key=lambda e: e.name
        )
        g1, g2, g3 = memory_id("g1"), memory_id("g2"), memory_id("g3")
        assert graph_store.mentioning_memory_ids([lisbon.id], ALICE_A1, 10) == [(g1, 1)]
        assert graph_store.mentioning_memory_ids([lisbon.id], ALICE_A2, 10) == [(g2, 1)]
        assert graph_store.mentioning_memory_ids([lisbon.id], ALICE_A1_R1, 10) == []
        both = [lisbon.id, sam.id]
        # One created_at for all three: ties break on the id, descending.
        expected = [(m, 2 if m == g1 else 1) for m in sorted([g1, g2, g3], reverse=True)]
        assert graph_store.mentioning_memory_ids(both, ALICE, 10) == expected
        assert graph_store.mentioning_memory_ids(both, Scope(), 10) == expected
        pages = [graph_store.mentioning_memory_ids(both, ALICE, 1, offset) for offset in range(4)]
        assert pages == [[expected[0]], [expected[1]], [expected[2]], []]

    def test_memory_entities(self, graph_store: GraphStore) -> None:
        """Troubleshooting: one MENTIONS hop per memory id; missing ids map to []."""
        self._seed_graph(graph_store)
        found = graph_store.memory_entities([memory_id("g2"), memory_id("zz")])
        assert sorted(e.name for e in found[memory_id("g2")]) == ["Lisbon", "Portugal"]
        assert found[memory_id("zz")] == []

    def test_memory_relations_by_memory_id(self, graph_store: GraphStore) -> None:
        """Troubleshooting: the RELATES edges whose memory_id is one of the ids, each
        once, with names; an edge between entities another memory also mentions
        belongs to its own memory only; missing ids map to []."""
        self._seed_graph(graph_store)
        g1, g2, g3 = memory_id("g1"), memory_id("g2"), memory_id("g3")
        found = graph_store.memory_relations([g1, g2, g3, memory_id("zz"), g1])
        assert set(found) == {g1, g2, g3, memory_id("zz")}
        assert sorted((r.id, s, r.type, t) for r, s, t in found[g1]) == sorted(
            [
                (relation_id(g1, 0), "Alice", "lives_in", "Lisbon"),
                (relation_id(g1, 1), "Alice", "partner_of", "Sam"),
            ]
        )
        assert [(s, r.type, t, r.memory_id) for r, s, t in found[g2]] == [
            ("Lisbon", "in", "Portugal", g2)
        ]
        assert found[g3] == [] and found[memory_id("zz")] == []
        assert graph_store.memory_relations([]) == {}

    def test_entity_relations_one_hop_in_namespace(self, graph_store: GraphStore) -> None:
        """Troubleshooting: RELATES edges touching the given entities, both ends in
        the namespace, each edge once, with source and target names."""
        self._seed_graph(graph_store)
        [lisbon] = graph_store.find_entities("alice", ["Lisbon"])
        entities, relations = graph_store.entity_relations([lisbon.id], ALICE, 10)
        assert sorted((s, r.type, t) for r, s, t in relations) == [
            ("Alice", "lives_in", "Lisbon"),
            ("Lisbon", "in", "Portugal"),
        ]
        assert sorted(e.name for e in entities) == ["Alice", "Lisbon", "Portugal"]
        assert {e.user_id for e in entities} == {"alice"}
        assert len(graph_store.entity_relations([lisbon.id], ALICE, 1)[1]) == 1
        assert graph_store.entity_relations([lisbon.id], BOB, 10) == ([], [])

    def test_entity_relations_follow_the_scope_and_exclusions(
        self, graph_store: GraphStore
    ) -> None:
        """Troubleshooting: keep only edges whose agent_id / run_id equal the parts
        the scope gives, drop edges whose memory_id is excluded, both in the query
        before the limit; the entities returned are the kept edges' ends."""
        self._seed_graph(graph_store)
        [lisbon] = graph_store.find_entities("alice", ["Lisbon"])
        entities, relations = graph_store.entity_relations([lisbon.id], ALICE_A1, 10)
        assert [(s, r.type, t) for r, s, t in relations] == [("Alice", "lives_in", "Lisbon")]
        assert sorted(e.name for e in entities) == ["Alice", "Lisbon"]
        assert graph_store.entity_relations([lisbon.id], ALICE_A1_R1, 10) == ([], [])
        entities, relations = graph_store.entity_relations([lisbon.id], ALICE, 1, [memory_id("g1")])
        assert [(s, r.type, t) for r, s, t in relations] == [("Lisbon", "in", "Portugal")]
        assert sorted(e.name for e in entities) == ["Lisbon", "Portugal"]
