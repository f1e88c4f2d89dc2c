"""The Kuzu adapter's write paths: one new record (a probe and one CREATE), a batch
(merged into what is there), and the prepared-statement cache."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

import hybridmem_kuzu._database as database
from hybridmem.models import Scope
from hybridmem.records import (
    EntityRecord,
    MemoryGraph,
    MemoryNode,
    RelationRecord,
    VectorRecord,
    entity_id,
    relation_id,
    text_hash,
)
from hybridmem_kuzu import KuzuGraphStore, KuzuVectorStore
from tests.contract.kuzu_engines import ENGINE, suite_on_other_engines

STAMP = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PLANS = ["auto", "lookup", "scan"]


def _id(i: int) -> str:
    return str(uuid.UUID(int=i + 1))


def _record(i: int, user: str = "alice", text: str | None = None, dim: int = 8) -> VectorRecord:
    text = text or f"memory {i}"
    rng = np.random.default_rng(i)
    return VectorRecord(
        _id(i), rng.normal(size=dim).tolist(), text, text_hash(text), user, "bot", None,
        STAMP, STAMP, {"i": i},
    )  # fmt: skip


def _entity(user: str, name: str) -> EntityRecord:
    return EntityRecord(entity_id(user, name, "thing"), name, "thing", user)


def _memory(i: int, names: tuple[str, ...], user: str = "alice") -> MemoryGraph:
    mid = _id(i)
    entities = tuple(_entity(user, n) for n in names)
    relations = tuple(
        RelationRecord(relation_id(mid, k), "next", a.id, b.id, mid, user, "bot", None, STAMP)
        for k, (a, b) in enumerate(itertools.pairwise(entities))
    )
    return MemoryGraph(MemoryNode(mid, user, "bot", None, STAMP, STAMP), entities, relations)


@pytest.fixture(params=PLANS)
def vectors(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[KuzuVectorStore]:
    store = KuzuVectorStore(tmp_path / "v.kuzu", engine=ENGINE, batch_plan=request.param)
    yield store
    store.close()


@pytest.fixture(params=PLANS)
def graph(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[KuzuGraphStore]:
    store = KuzuGraphStore(tmp_path / "g.kuzu", engine=ENGINE, batch_plan=request.param)
    yield store
    store.close()


def _stats(graph: KuzuGraphStore) -> dict[str, int]:
    return graph.stats()


def test_embeddings_are_stored_exactly_as_float32_on_both_paths(
    vectors: KuzuVectorStore,
) -> None:
    single, batch = _record(1), [_record(i) for i in range(2, 40)]
    vectors.upsert([single])
    vectors.upsert(batch)
    for record in [single, *batch]:
        (got,) = vectors.get([record.id])
        want = np.asarray(record.embedding, dtype=np.float32)
        assert np.array_equal(np.asarray(got.embedding, dtype=np.float32), want)


def test_a_batch_some_of_whose_records_exist_updates_them_and_adds_the_rest(
    vectors: KuzuVectorStore,
) -> None:
    vectors.upsert([_record(i) for i in range(10)])
    scope = Scope(user_id="alice")
    assert vectors.search(_record(3).embedding, scope, 1)[0][0].id == _id(3)  # cached now
    again = [_record(i, text=f"changed {i}") for i in range(5, 15)]
    vectors.upsert([*again, _record(20), _record(20, text="last wins")])
    assert vectors.count() == 16
    assert vectors.count_scope(scope) == 16
    assert vectors.count_scope(Scope(user_id="alice", agent_id="bot")) == 16
    texts = {r.id: r.text for r in vectors.list_scope(scope, None)}
    assert texts[_id(4)] == "memory 4"
    assert texts[_id(7)] == "changed 7"
    assert texts[_id(12)] == "changed 12"
    assert texts[_id(20)] == "last wins"
    # The search cache saw the batch at once.
    hit = vectors.search(_record(7).embedding, scope, 1)[0][0]
    assert (hit.id, hit.text) == (_id(7), "changed 7")
    assert vectors.search(_record(20).embedding, scope, 1)[0][0].text == "last wins"


def test_a_single_upsert_of_an_existing_record_replaces_it(vectors: KuzuVectorStore) -> None:
    vectors.upsert([_record(1)])
    vectors.upsert([_record(1, text="again")])
    (got,) = vectors.get([_id(1)])
    assert got.text == "again"
    assert vectors.count() == 1
    assert vectors.count_scope(Scope(user_id="alice")) == 1


def test_batches_merge_entities_across_the_batch_and_with_the_store(
    graph: KuzuGraphStore,
) -> None:
    graph.add_memories([_memory(1, ("a", "b"))])
    graph.add_memories(
        [_memory(2, ("a", "c")), _memory(3, ("c", "d")), _memory(4, ("b", "d"), user="bob")]
    )
    names = sorted(e.name for e in graph.entities("alice"))
    assert names == ["a", "b", "c", "d"]
    assert sorted(e.name for e in graph.entities("bob")) == ["b", "d"]
    assert _stats(graph) == {"memory_nodes": 4, "entities": 6, "relations": 4}
    # Writing the same memories again (one batch, one single) leaves one of each.
    graph.add_memories([_memory(2, ("a", "c")), _memory(3, ("c", "d")), _memory(5, ("a",))])
    graph.add_memories([_memory(1, ("a", "b"))])
    assert _stats(graph) == {"memory_nodes": 5, "entities": 6, "relations": 4}
    assert len(graph.relations(Scope(user_id="alice"))) == 3


def test_a_relation_left_dangling_is_merged_not_duplicated(graph: KuzuGraphStore) -> None:
    for write in ([_memory(1, ("a", "b"))], [_memory(1, ("a", "b")), _memory(2, ("b", "c"))]):
        graph.add_memories([_memory(1, ("a", "b"))])
        # The memory node goes, its relation stays (as after a crash, or by hand).
        graph._db.rows("MATCH (m:Memory {id: $id}) DETACH DELETE m", {"id": _id(1)})
        graph.add_memories(write)
        ids = [r.record.id for r in graph.relations() if r.record.memory_id == _id(1)]
        assert ids == [relation_id(_id(1), 0)]


def test_a_relation_to_an_entity_outside_the_batch(graph: KuzuGraphStore) -> None:
    graph.add_memories([_memory(1, ("a", "b"))])
    outside = _entity("alice", "a").id
    missing = entity_id("alice", "nowhere", "thing")
    for single in (True, False):
        base = 10 if single else 20
        item = _memory(base, ("x",))
        mid = item.node.id
        item = MemoryGraph(
            item.node,
            item.entities,
            (
                RelationRecord(relation_id(mid, 0), "r", item.entities[0].id, outside, mid,
                               "alice", "bot", None, STAMP),
                RelationRecord(relation_id(mid, 1), "r", item.entities[0].id, missing, mid,
                               "alice", "bot", None, STAMP),
            ),
        )  # fmt: skip
        graph.add_memories([item] if single else [item, _memory(base + 1, ("y",))])
        got = [
            (r.record.source_id, r.record.target_id)
            for r in graph.relations()
            if r.record.memory_id == mid
        ]
        # The one to an existing entity is written; the one to a missing entity is not.
        assert got == [(item.entities[0].id, outside)]


def test_a_batch_larger_than_the_plan_threshold_on_a_larger_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch of 50 in a table of ~300 picks per-row lookups when a lookup "costs"
    # more than 6 scanned rows; at the default it would scan. Both must agree.
    results = []
    for cost in (1, 10_000):
        monkeypatch.setattr(database, "LOOKUP_COST_IN_SCANNED_ROWS", cost)
        graph = KuzuGraphStore(tmp_path / f"g{cost}.kuzu", engine=ENGINE)
        vectors = KuzuVectorStore(tmp_path / f"v{cost}.kuzu", engine=ENGINE)
        try:
            for start in range(0, 300, 100):
                graph.add_memories(
                    [_memory(i, ("a", f"e{i % 30}")) for i in range(start, start + 100)]
                )
                vectors.upsert([_record(i) for i in range(start, start + 100)])
            batch = list(range(280, 330))
            graph.add_memories([_memory(i, ("a", f"e{i % 30}")) for i in batch])
            vectors.upsert([_record(i, text=f"v2 {i}") for i in batch])
            texts = {r.id: r.text for r in vectors.get([_id(i) for i in (281, 300, 329)])}
            results.append((graph.stats(), vectors.count(), texts))
        finally:
            graph.close()
            vectors.close()
    assert results[0] == results[1]
    assert results[0][0] == {"memory_nodes": 330, "entities": 31, "relations": 330}
    assert results[0][1] == 330
    assert set(results[0][2].values()) == {"v2 281", "v2 300", "v2 329"}


def test_prepared_statements_survive_a_reset_to_another_dimension(
    vectors: KuzuVectorStore,
) -> None:
    vectors.upsert([_record(1), _record(2)])
    vectors.reset()
    vectors.upsert([_record(3, dim=4)])
    vectors.upsert([_record(4, dim=4), _record(5, dim=4)])
    assert vectors.count() == 3
    assert len(vectors.get([_id(3)])[0].embedding) == 4


def test_statements_are_prepared_once_per_parameter_types(tmp_path: Path) -> None:
    db = database.KuzuDatabase(tmp_path / "x.kuzu", "test", ENGINE)
    try:
        db.rows("CREATE NODE TABLE T(id STRING PRIMARY KEY, v STRING)")
        db.rows("CREATE (t:T {id: $id, v: $v})", {"id": "a", "v": None})
        db.rows("CREATE (t:T {id: $id, v: $v})", {"id": "b", "v": "x"})
        db.rows("CREATE (t:T {id: $id, v: $v})", {"id": "c", "v": "y"})
        assert len(db._prepared) == 2
        assert db.rows("MATCH (t:T) RETURN t.id, t.v ORDER BY t.id") == [
            ["a", None],
            ["b", "x"],
            ["c", "y"],
        ]
        db.rows("DROP TABLE T")
        assert not db._prepared
    finally:
        db.close()


test_the_suite_passes_on_every_engine = suite_on_other_engines(__file__)
